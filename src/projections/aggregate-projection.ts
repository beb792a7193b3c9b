import { pipelined } from '../db/pipelined.js';
import type { Queryable } from '../db/sql.js';
import type { DomainEvent } from '../domain/decider.js';
import { domainError, DomainFailure } from '../domain/errors.js';
import { ALL_KINDS, isResourceKind, RESOURCE_KINDS } from '../domain/kinds.js';
import type { QuotaResource } from '../domain/project/events.js';
import { streamType } from '../store/event-store.js';
import type { ProjectedEvent } from '../store/types.js';
import type { AggregateKind, ResourceRow } from './aggregate-kind.js';
import { decodeState, encodeStateText } from './json-state.js';
import type { Projection } from './projection.js';

/** The quota a read-model row of this kind counts against, if any (domain/kinds.ts). */
export function quotaResourceOf(kind: string): QuotaResource | undefined {
  return isResourceKind(kind) ? (RESOURCE_KINDS[kind].quota ?? undefined) : undefined;
}

/** The read-model kinds whose rows count against a quota. */
export function quotaKindsOf(resource: QuotaResource): string[] {
  return ALL_KINDS.filter((kind) => RESOURCE_KINDS[kind].quota === resource);
}

/** An id a stream's state shows, in the order of the event that first showed it. */
interface Claim {
  readonly id: string;
  readonly kind: string;
  readonly stream_id: string;
  readonly at: number;
}

const rowKey = (r: Pick<ResourceRow, 'kind' | 'id'>): string => `${r.kind}\u0000${r.id.toLowerCase()}`;

function toRow(streamId: string, r: ResourceRow) {
  return {
    id: r.id,
    kind: r.kind,
    stream_id: streamId,
    project_id: r.project,
    name: r.name,
    tags: r.tags,
    network_id: r.networkId ?? null,
    revision: r.revision,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
    doc: r.doc,
  };
}

/**
 * Folds one stream's events onto its state before them: the state after, the rows before and
 * after, and each row as the event that first showed it (its id's claim). Every row any
 * intermediate state shows claims its id, so a resource created and deleted within one batch
 * claims it too: live commands and a rebuild's larger batches agree. A row keeps the createdAt of
 * the state that first showed it (the upsert leaves created_at alone), whichever batch that state
 * fell in.
 */
function foldStream(
  kind: AggregateKind,
  before: { state: unknown; version: number },
  list: readonly { event: ProjectedEvent; at: number }[],
) {
  const oldRows = kind.resources(before.state, before.version);
  const firstSeen = new Map<string, string>(oldRows.map((r) => [rowKey(r), r.createdAt]));
  const shown: { row: ResourceRow; at: number }[] = [];
  let state = before.state;
  let newRows = oldRows;
  for (const { event: e, at } of list) {
    state = kind.evolve(state, { type: e.type, data: e.data } as DomainEvent);
    newRows = kind.resources(state, e.streamVersion);
    for (const r of newRows) {
      const key = rowKey(r);
      if (firstSeen.has(key)) continue;
      firstSeen.set(key, r.createdAt);
      shown.push({ row: r, at });
    }
  }
  return { state, oldRows, rows: newRows.map((r) => ({ ...r, createdAt: firstSeen.get(rowKey(r)) ?? r.createdAt })), shown };
}

/**
 * Folds every aggregate with its own decider's evolve, stores the state, and keeps one row per
 * live resource; quota usage is the count of those rows (quota-usage.ts). An id another
 * resource holds vetoes the append with ResourceIdInUse: which ids an append claims depends on
 * every intermediate state of the fold, which only the fold sees. While rebuilding (`replaying`)
 * nothing vetoes: history is history.
 */
export class AggregateProjection implements Projection {
  readonly name = 'aggregates';
  private readonly kinds = new Map<string, AggregateKind>();

  constructor(
    kinds: readonly AggregateKind[],
    private readonly options: { replaying?: boolean } = {},
  ) {
    for (const k of kinds) this.kinds.set(k.streamType, k);
  }

  kindOf(streamId: string): AggregateKind | undefined {
    return this.kinds.get(streamType(streamId));
  }

  async load<S>(q: Queryable, streamId: string): Promise<{ state: S; version: number }> {
    const kind = this.kindOf(streamId);
    if (!kind) throw new Error(`no aggregate kind for stream ${streamId}`);
    const [row] = await q<{ version: bigint; state: unknown }[]>`select version, state from rm_aggregates where stream_id = ${streamId}`;
    if (!row) return { state: kind.initialState as S, version: 0 };
    return { state: decodeState<S>(row.state), version: Number(row.version) };
  }

  /**
   * The rows a stream shows after `events` that start it (the first is its version 1), exactly as
   * `apply` writes them; null when they do not start it (the rows then follow from its stored state).
   */
  rowsOfNewStream(streamId: string, events: readonly ProjectedEvent[]): readonly ResourceRow[] | null {
    const kind = this.kindOf(streamId);
    const list = events.filter((e) => e.streamId === streamId).map((event, at) => ({ event, at }));
    if (!kind || list[0]?.event.streamVersion !== 1) return null;
    // One row per key, as apply's upsert writes them.
    const rows = new Map(foldStream(kind, { state: kind.initialState, version: 0 }, list).rows.map((r) => [rowKey(r), r]));
    return [...rows.values()];
  }

  /**
   * Set-based: one read of the states that exist, then one write each for states, removed rows and
   * current rows, whatever the number of streams, so a rebuild costs a handful of statements per
   * batch rather than several per stream.
   */
  async apply(q: Queryable, events: readonly ProjectedEvent[]): Promise<void> {
    const byStream = new Map<string, { event: ProjectedEvent; at: number }[]>();
    events.forEach((e, at) => {
      if (!this.kindOf(e.streamId)) return;
      const list = byStream.get(e.streamId) ?? [];
      list.push({ event: e, at });
      byStream.set(e.streamId, list);
    });
    if (byStream.size === 0) return;
    // A stream whose first event here is version 1 starts here: nothing to load.
    const existing = [...byStream].filter(([, list]) => list[0]!.event.streamVersion > 1).map(([id]) => id);
    const stored = new Map<string, { state: unknown; version: number }>();
    if (existing.length > 0) {
      const rows = await q<{ stream_id: string; version: bigint; state: unknown }[]>`
        select stream_id, version, state from rm_aggregates where stream_id = any(${existing})`;
      for (const r of rows) stored.set(r.stream_id, { state: decodeState(r.state), version: Number(r.version) });
    }
    // The states' jsonb array as text, written once (each state stringified, not parsed back and
    // stringified again with the rest).
    const states: string[] = [];
    const gone: { stream_id: string; kind: string; id: string }[] = [];
    const current = new Map<string, ReturnType<typeof toRow>>();
    const claims: Claim[] = [];
    for (const [streamId, list] of byStream) {
      const kind = this.kindOf(streamId)!;
      const before = stored.get(streamId) ?? { state: kind.initialState, version: 0 };
      const { state, oldRows, rows: newRows, shown } = foldStream(kind, before, list);
      for (const { row: r, at } of shown) claims.push({ id: r.id, kind: r.kind, stream_id: streamId, at });
      const version = list[list.length - 1]!.event.streamVersion;
      states.push(`{"stream_id":${JSON.stringify(streamId)},"version":${version},"state":${encodeStateText(state)}}`);
      const keep = new Set(newRows.map(rowKey));
      for (const r of oldRows) if (!keep.has(rowKey(r))) gone.push({ stream_id: streamId, kind: r.kind, id: r.id });
      // One row per key even if a state lists an object twice: an upsert may touch a row only once.
      for (const r of newRows) current.set(`${streamId}\u0000${rowKey(r)}`, toRow(streamId, r));
    }
    // Sent one behind the other without waiting (one round trip); the claims' verdict is read
    // once all have answered, and a vetoed claim throws before anything commits.
    const claimed = this.claim(q, claims);
    const writes: Promise<unknown>[] = [
      q`insert into rm_aggregates (stream_id, version, state)
            select x.stream_id, x.version, x.state from jsonb_to_recordset(${`[${states.join(',')}]`}::text::jsonb) as x(stream_id text, version bigint, state jsonb)
            on conflict (stream_id) do update set version = excluded.version, state = excluded.state`.execute(),
    ];
    if (gone.length > 0) {
      writes.push(
        q`delete from rm_resources r using jsonb_to_recordset(${q.json(gone as never)}::jsonb) as x(stream_id text, kind text, id uuid)
               where r.stream_id = x.stream_id and r.kind = x.kind and r.id = x.id`.execute(),
      );
    }
    if (current.size > 0) {
      writes.push(
        q`
        insert into rm_resources (id, kind, stream_id, project_id, name, tags, network_id, revision, created_at, updated_at, doc)
        select x.id, x.kind, x.stream_id, x.project_id, x.name, array(select jsonb_array_elements_text(x.tags)), x.network_id,
               x.revision, x.created_at, x.updated_at, x.doc
          from jsonb_to_recordset(${q.json([...current.values()] as never)}::jsonb) as x(id uuid, kind text, stream_id text, project_id text, name text,
               tags jsonb, network_id uuid, revision bigint, created_at timestamptz, updated_at timestamptz, doc jsonb)
        on conflict (stream_id, kind, id) do update set project_id = excluded.project_id, name = excluded.name, tags = excluded.tags,
          network_id = excluded.network_id, revision = excluded.revision, updated_at = excluded.updated_at, doc = excluded.doc`.execute(),
      );
    }
    const [taken] = await pipelined([claimed, ...writes] as const);
    await this.checkClaims(q, claims, taken);
  }

  /**
   * Claims each id for the (kind, stream) that first shows it; the registry is keyed by id alone,
   * so no two resources of any kinds or projects can ever hold one. A concurrent claim of the same
   * id waits for the other transaction, and the check after it (a new statement, so a new
   * snapshot) sees its claim. The answer names neither the holder's kind nor its project.
   */
  private claim(q: Queryable, claims: readonly Claim[]): Promise<readonly { id: string; kind: string; stream_id: string }[]> {
    if (claims.length === 0) return Promise.resolve([]);
    const sorted = [...claims].sort((a, b) => a.at - b.at);
    return q<{ id: string; kind: string; stream_id: string }[]>`
      insert into rm_resource_ids (id, kind, stream_id)
      select x.id, x.kind, x.stream_id from jsonb_to_recordset(${q.json(sorted as never)}::jsonb) as x(id uuid, kind text, stream_id text, at int)
       order by x.at
      on conflict (id) do nothing
      ${this.options.replaying ? q`` : q`returning id, kind, stream_id`}`.execute();
  }

  /**
   * Claims not taken are vetoed unless the holder is the same (kind, stream): a new statement, so
   * it sees a racing claim that committed. Replaying, the first claim keeps the id and nothing
   * vetoes (the claim asked for no answer).
   */
  private async checkClaims(
    q: Queryable,
    claims: readonly Claim[],
    taken: readonly { id: string; kind: string; stream_id: string }[],
  ): Promise<void> {
    if (this.options.replaying || taken.length === claims.length) return;
    const mine = new Set(taken.map((t) => `${t.stream_id}\u0000${rowKey(t)}`));
    const rest = claims.filter((c) => !mine.has(`${c.stream_id}\u0000${rowKey(c)}`));
    const holders = await q<{ id: string; kind: string; stream_id: string }[]>`
      select id, kind, stream_id from rm_resource_ids where id = any(${rest.map((c) => c.id)}::uuid[])`;
    const holder = new Map(holders.map((h) => [h.id, h]));
    for (const c of [...rest].sort((a, b) => a.at - b.at)) {
      const h = holder.get(c.id.toLowerCase());
      if (h && (h.stream_id !== c.stream_id || h.kind !== c.kind)) {
        throw new DomainFailure(
          domainError('ResourceIdInUse', `Unable to create the resource: the id ${c.id} is already in use.`, { details: { id: c.id } }),
        );
      }
    }
  }

  async reset(q: Queryable): Promise<void> {
    await q`truncate rm_aggregates, rm_resources, rm_resource_ids`;
  }
}
