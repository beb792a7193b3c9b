import { expect } from 'vitest';
import type { Decider } from '../../src/domain/decider.js';
import { isDomainError, type DomainError } from '../../src/domain/errors.js';

/**
 * given/when/then for deciders:
 *   spec(decider).given(events).when(command).then(events)
 *   spec(decider).given(events).when(command).thenError('NetworkInUse')
 *   spec(decider).given(events).when(command).thenNothing()
 */
export function spec<C, S, E>(decider: Decider<C, S, E>) {
  return {
    given(events: readonly E[] = []) {
      const state = events.reduce((s, e) => decider.evolve(s, e), decider.initialState);
      return {
        state,
        when(command: C) {
          const result = decider.decide(command, state);
          return {
            result,
            then(expected: readonly E[] | ((events: readonly E[]) => void)): readonly E[] {
              if (isDomainError(result)) throw new Error(`expected events, got ${result.code}: ${result.message}`);
              if (typeof expected === 'function') expected(result);
              else expect(result).toEqual(expected);
              return result;
            },
            thenError(code: string, check?: (error: DomainError) => void): DomainError {
              if (!isDomainError(result)) throw new Error(`expected error ${code}, got events ${JSON.stringify(result)}`);
              expect(result.code).toBe(code);
              check?.(result);
              return result;
            },
            thenNothing(): void {
              if (isDomainError(result)) throw new Error(`expected no events, got ${result.code}: ${result.message}`);
              expect(result).toEqual([]);
            },
          };
        },
      };
    },
  };
}
