import type { DomainError } from './errors.js';

/** An event as a decider sees it: a type name and its data. The store adds ids and metadata. */
export interface DomainEvent<T extends string = string, D = unknown> {
  readonly type: T;
  readonly data: D;
}

/** What `decide` answers: the events that happen, or why nothing may happen. */
export type Decision<E> = readonly E[] | DomainError;

/**
 * The decider pattern: pure, no I/O. Everything a decision needs from outside the aggregate
 * (ids, clocks, random choices, facts from other aggregates) travels inside the command, so the
 * same command on the same state always gives the same events.
 */
export interface Decider<C, S, E> {
  readonly initialState: S;
  decide(command: C, state: S): Decision<E>;
  evolve(state: S, event: E): S;
}

export function fold<S, E>(decider: Pick<Decider<unknown, S, E>, 'evolve' | 'initialState'>, events: readonly E[]): S {
  return events.reduce((s, e) => decider.evolve(s, e), decider.initialState);
}
