import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GENERATED, generateMutationErrors } from '../../scripts/mutation-errors.js';
import { schema } from '../../src/api/schema/index.js';
import { MUTATION_ERRORS } from '../../src/api/schema/mutation-errors.js';
import { ERROR_CODES } from '../../src/domain/errors.js';

// Issue 14: each mutation's payload union lists the errors its run can answer, derived from the
// deciders and the app layer (scripts/mutation-errors.ts), not every code. An answer outside the
// union is a GraphQL error (defineMutation), so every API test doubles as a check of the derivation.

describe("each mutation's payload union", () => {
  const mutations = Object.values(schema().getMutationType()!.getFields());

  it('lists its Success type, InputValidationError and exactly the derived codes: no mutation lists every code', () => {
    for (const m of mutations) {
      const payload = m.type.toString().replace(/!$/, '');
      // Duck-typed: graphql's instanceof checks see two copies of the module through the node_modules link.
      const union = schema().getType(payload) as unknown as { getTypes?: () => { name: string }[] };
      expect(union.getTypes, `${m.name} answers a union`).toBeTypeOf('function');
      const derived = MUTATION_ERRORS[m.name];
      expect(derived, `${m.name} has derived errors (npm run schema)`).toBeDefined();
      const members = union.getTypes!()
        .map((t) => t.name)
        .sort();
      const cap = m.name.charAt(0).toUpperCase() + m.name.slice(1);
      expect(members).toEqual([`${cap}Success`, 'InputValidationError', ...derived!].sort());
      expect(derived!.length, `${m.name} lists ${derived!.length} of ${ERROR_CODES.length} codes`).toBeLessThan(ERROR_CODES.length / 2);
    }
  });

  it('names what the deciders return for it, and not what other aggregates return', () => {
    // Spot checks of the derivation against what the deciders say.
    expect(MUTATION_ERRORS.createNetwork).toEqual(
      expect.arrayContaining(['VlanIdInUse', 'TunnelIdInUse', 'FlatNetworkInUse', 'OverQuota', 'ConcurrentModification']),
    );
    expect(MUTATION_ERRORS.createNetwork).not.toContain('PortNotFound');
    expect(MUTATION_ERRORS.createPort).toEqual(
      expect.arrayContaining(['AllowedAddressPairExhausted', 'DuplicateAddressPairInRequest', 'IpAddressGenerationFailure']),
    );
    expect(MUTATION_ERRORS.createPort).not.toContain('FirewallRuleInUse');
    expect(MUTATION_ERRORS.createListener).toEqual(expect.arrayContaining(['DuplicateListenerEntry', 'LoadBalancerNotFound']));
    expect(MUTATION_ERRORS.createIkePolicy).not.toContain('LoadBalancerNotFound');
  });

  it('src/api/schema/mutation-errors.ts is what the deciders and the app layer give today (npm run schema)', async () => {
    expect(await generateMutationErrors()).toBe(fs.readFileSync(GENERATED, 'utf8'));
  }, 600_000);
});
