import type { Decider, DomainEvent } from '../domain/decider.js';
import { isDomainError, type DomainError } from '../domain/errors.js';
import type { PlannedAppend, Tx } from './command-runtime.js';
import type { Services } from './services.js';

/** Decides one command against a loaded aggregate: the append to make, or the error. */
export function decideAppend<C, S, E extends DomainEvent>(
  decider: Decider<C, S, E>,
  loaded: { state: S; version: number },
  streamId: string,
  command: C,
): PlannedAppend | DomainError {
  const events = decider.decide(command, loaded.state);
  if (isDomainError(events)) return events;
  return { streamId, expected: loaded.version, events };
}

/** Loads the stream's aggregate in `tx` and decides one command against it (decideAppend). */
export async function loadAndDecide<C, S, E extends DomainEvent>(
  s: Pick<Services, 'aggregates'>,
  tx: Tx,
  decider: Decider<C, S, E>,
  streamId: string,
  command: C,
): Promise<PlannedAppend | DomainError> {
  return decideAppend(decider, await s.aggregates.load<S>(tx, streamId), streamId, command);
}

/** The state after an append, for handlers that decide several commands in a row. */
export function after<C, S, E extends DomainEvent>(
  decider: Decider<C, S, E>,
  loaded: { state: S; version: number },
  append: PlannedAppend,
) {
  let state = loaded.state;
  for (const e of append.events) state = decider.evolve(state, e as E);
  return { state, version: loaded.version + append.events.length };
}
