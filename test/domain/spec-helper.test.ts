import { describe, it, expect } from 'vitest';
import type { Decider } from '../../src/domain/decider.js';
import { domainError } from '../../src/domain/errors.js';
import { spec } from '../support/spec.js';

type E = { type: 'Added'; data: { n: number } };
const counter: Decider<{ add: number }, number, E> = {
  initialState: 0,
  decide: (c, s) =>
    c.add <= 0
      ? domainError('InvalidInput', 'must be positive')
      : s + c.add > 10
        ? domainError('OverQuota', 'too many')
        : [{ type: 'Added', data: { n: c.add } }],
  evolve: (s, e) => s + e.data.n,
};

describe('spec helper', () => {
  it('given/when/then compares events', () => {
    spec(counter)
      .given([{ type: 'Added', data: { n: 3 } }])
      .when({ add: 2 })
      .then([{ type: 'Added', data: { n: 2 } }]);
  });
  it('thenError checks the code and fails on events', () => {
    spec(counter)
      .given([{ type: 'Added', data: { n: 9 } }])
      .when({ add: 2 })
      .thenError('OverQuota');
    expect(() => spec(counter).given().when({ add: 1 }).thenError('OverQuota')).toThrow(/expected error OverQuota/);
  });
});
