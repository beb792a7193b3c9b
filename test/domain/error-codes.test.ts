import { describe, expect, it } from 'vitest';
import { notFound } from '../../src/domain/common/index.js';
import { ERROR_CODES } from '../../src/domain/errors.js';
import { ALL_KINDS, RESOURCE_KINDS } from '../../src/domain/kinds.js';

// Issue 14: every code a decider returns is listed once; `domainError` takes only listed codes (a
// compile-time check), and the API derives one GraphQL type per listed code.

describe('the one list of error codes', () => {
  it('lists each code once, including the segment and address-pair codes that used to come out untyped', () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    for (const code of ['VlanIdInUse', 'TunnelIdInUse', 'FlatNetworkInUse', 'AllowedAddressPairExhausted', 'DuplicateAddressPairInRequest'])
      expect(ERROR_CODES).toContain(code);
  });

  it("gives every resource kind a listed <Name>NotFound (the API's answer when a resource vanished)", () => {
    for (const kind of ALL_KINDS) expect(ERROR_CODES).toContain(notFound(RESOURCE_KINDS[kind].neutronName, 'x').code);
  });
});
