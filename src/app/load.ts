import type { Decider, DomainEvent } from '../domain/decider.js';
import type { Queryable } from '../db/sql.js';
import type { EventStore } from '../store/event-store.js';

/** Folds a stream into its decider's state; version 0 means the stream does not exist yet. */
export async function loadAggregate<S, E extends DomainEvent>(
  store: EventStore,
  q: Queryable,
  decider: Pick<Decider<unknown, S, E>, 'evolve' | 'initialState'>,
  streamId: string,
): Promise<{ state: S; version: number }> {
  const events = await store.readStream(streamId, { q });
  let state = decider.initialState;
  for (const e of events) state = decider.evolve(state, { type: e.type, data: e.data } as E);
  return { state, version: events.length === 0 ? 0 : events[events.length - 1]!.streamVersion };
}
