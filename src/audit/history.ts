import type { Services } from '../app/services.js';
import type { DomainEvent } from '../domain/decider.js';
import type { AggregateKind, ResourceRow } from '../projections/aggregate-kind.js';
import { comparePositions, decodeCursor, type LogPosition } from '../store/cursor.js';
import type { RecordedEvent } from '../store/types.js';
import { diffDocs, summarize, type FieldChange } from './change-summary.js';
import { knownStreamTypes } from './event-query.js';
import type { Principal } from '../domain/policy/index.js';
import { canSee, StreamOwners } from './visibility.js';

export interface HistoryEntry {
  readonly event: RecordedEvent;
  readonly kind: string;
  readonly before: ResourceRow | null;
  readonly after: ResourceRow | null;
  readonly changes: readonly FieldChange[];
  readonly summary: string;
}

type Deps = Pick<Services, 'sql' | 'store' | 'aggregates'>;

const CHILD_FIELDS = ['listenerId', 'poolId', 'memberId', 'healthMonitorId'];

/** The stream that holds a resource: its row's, or (once deleted) the stream named for it. */
export async function streamOfResource(s: Deps, id: string): Promise<string | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  const [row] = await s.sql<{ stream_id: string }[]>`select stream_id from rm_resources where id = ${id}`;
  if (row) return row.stream_id;
  const candidates = knownStreamTypes().map((t) => `${t}-${id.toLowerCase()}`);
  const [own] = await s.sql<{ stream_id: string }[]>`select stream_id from nl_streams where stream_id = any(${candidates}::text[])`;
  if (own) return own.stream_id;
  // A removed load balancer child: the first event that named it.
  const [child] = await s.sql<{ stream_id: string }[]>`
    select stream_id from nl_events e where e.stream_id like 'loadbalancer-%'
       and ${id.toLowerCase()} in (${s.sql.unsafe(CHILD_FIELDS.map((k) => `e.data->>'${k}'`).join(', '))}) limit 1`;
  return child?.stream_id ?? null;
}

/**
 * Folds a stream with its aggregate's own evolve, as the read model does, and answers the row of
 * `id` before and after each event.
 */
function* foldRows(kind: AggregateKind, events: readonly RecordedEvent[], id: string) {
  let state = kind.initialState;
  let before: ResourceRow | null = null;
  for (const e of events) {
    state = kind.evolve(state, { type: e.type, data: e.data } as DomainEvent);
    const after = kind.resources(state, e.streamVersion).find((r) => r.id === id) ?? null;
    yield { event: e, before, after };
    before = after;
  }
}

async function visibleStream(s: Deps, viewer: Principal, events: readonly RecordedEvent[]): Promise<boolean> {
  if (events.length === 0) return false;
  const owned = await new StreamOwners(s.sql).annotate([events[0]!]);
  return events.some((event) => canSee(viewer, { event, owner: owned[0]!.owner }));
}

async function load(s: Deps, viewer: Principal, id: string): Promise<{ kind: AggregateKind; events: RecordedEvent[]; id: string } | null> {
  const plain = id.toLowerCase();
  const streamId = await streamOfResource(s, plain);
  const kind = streamId ? s.aggregates.kindOf(streamId) : undefined;
  if (!streamId || !kind) return null;
  const events = await s.store.readStream(streamId);
  return (await visibleStream(s, viewer, events)) ? { kind, events, id: plain } : null;
}

/** The resource's changes in order, each with what it changed and a line saying so. */
export async function resourceHistory(
  s: Deps,
  viewer: Principal,
  id: string,
): Promise<{ streamId: string; kind: string; entries: HistoryEntry[] } | null> {
  const found = await load(s, viewer, id);
  if (!found) return null;
  const entries: HistoryEntry[] = [];
  let kindName = '';
  for (const { event, before, after } of foldRows(found.kind, found.events, found.id)) {
    if (!before && !after) continue;
    const b = (before?.doc ?? null) as Record<string, unknown> | null;
    const a = (after?.doc ?? null) as Record<string, unknown> | null;
    const changes = diffDocs(b, a);
    // A load balancer event that left this child as it was is not part of the child's history.
    if (before && after && changes.length === 0 && before.revision === after.revision) continue;
    kindName = (after ?? before)!.kind;
    entries.push({ event, kind: kindName, before, after, changes, summary: summarize(kindName, b, a, changes, event.type) });
  }
  return { streamId: found.events[0]!.streamId, kind: kindName, entries };
}

export type AsOf = { readonly position: LogPosition } | { readonly time: Date };

export function parseAsOf(value: string): AsOf | null {
  if (value.startsWith('nl1.')) return { position: decodeCursor(value) };
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : { time: new Date(t) };
}

/**
 * The resource as it was at `asOf` (a log cursor: after that event; a time: after every event
 * recorded by then), folded from its stream exactly as the read model folds it. `row` is null when
 * it did not exist then.
 */
export async function resourceAsOf(
  s: Deps,
  viewer: Principal,
  id: string,
  asOf: AsOf,
): Promise<{ row: ResourceRow | null; last: RecordedEvent | null } | null> {
  const found = await load(s, viewer, id);
  if (!found) return null;
  const upTo = found.events.filter((e) =>
    'position' in asOf ? comparePositions(e.position, asOf.position) <= 0 : e.recordedAt.getTime() <= asOf.time.getTime(),
  );
  let row: ResourceRow | null = null;
  for (const step of foldRows(found.kind, upTo, found.id)) row = step.after;
  return { row, last: upTo[upTo.length - 1] ?? null };
}
