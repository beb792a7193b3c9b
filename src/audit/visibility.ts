import type { Sql } from '../db/sql.js';
import { maySeeEvent, type Principal } from '../domain/policy/index.js';
import { streamType } from '../store/event-store.js';
import type { RecordedEvent } from '../store/types.js';

/** Who a stream belongs to, as far as event visibility goes. */
export interface StreamOwner {
  /** The owning project: a resource's `project`, or the project of a project stream. */
  readonly project: string | null;
  /** Network streams only: members of every project may see a shared or external network's events. */
  readonly shared: boolean;
  readonly external: boolean;
}

/** An event and its stream's owner: what authorization and filters look at. */
export interface OwnedEvent {
  readonly event: RecordedEvent;
  readonly owner: StreamOwner;
}

const NOBODY: StreamOwner = { project: null, shared: false, external: false };
const PROJECT_PREFIX = 'project-';

/** May the principal see this event? The rule is `maySeeEvent` in `domain/policy`; this only supplies the facts. */
export function canSee(p: Principal, e: OwnedEvent): boolean {
  const owner = e.owner.project === null ? null : { project: e.owner.project, shared: e.owner.shared, external: e.owner.external };
  return maySeeEvent(p, { recordedBy: e.event.metadata.project, streamKind: streamType(e.event.streamId), owner });
}

/** The owner of a stream as SQL over `nl_events e` (for filters by project). */
export function streamProjectSql(sql: Sql) {
  return sql`coalesce((select f.data->>'project' from nl_events f where f.stream_id = e.stream_id and f.stream_version = 1),
    case when e.stream_id like 'project-%' then substr(e.stream_id, ${PROJECT_PREFIX.length + 1}) end)`;
}

/**
 * Remembers stream owners: learnt from the events as they pass (a create carries its project, a
 * network's create and updates its sharing), looked up in one query for streams first met mid-way.
 */
export class StreamOwners {
  private readonly cache = new Map<string, StreamOwner>();

  constructor(
    private readonly sql: Sql,
    private readonly capacity = 200_000,
  ) {}

  /** Owners of these events' streams, learning from the events themselves first. */
  async annotate(events: readonly RecordedEvent[]): Promise<OwnedEvent[]> {
    const unknown = new Set<string>();
    for (const e of events) if (!this.learn(e)) unknown.add(e.streamId);
    if (unknown.size > 0) await this.lookUp([...unknown]);
    return events.map((event) => ({ event, owner: this.cache.get(event.streamId) ?? NOBODY }));
  }

  /** Updates what the event says about its stream; false when the stream's owner is still unknown. */
  private learn(e: RecordedEvent): boolean {
    const data = (e.data ?? {}) as Record<string, unknown>;
    let owner = this.cache.get(e.streamId);
    if (!owner) {
      if (e.streamId.startsWith(PROJECT_PREFIX)) owner = { ...NOBODY, project: e.streamId.slice(PROJECT_PREFIX.length) };
      else if (typeof data.project === 'string') owner = { ...NOBODY, project: data.project };
      else return false;
    }
    if (streamType(e.streamId) === 'network') {
      const changes = (e.type === 'NetworkUpdated' ? data.changes : data) as Record<string, unknown> | undefined;
      if (typeof changes?.shared === 'boolean') owner = { ...owner, shared: changes.shared };
      if (typeof changes?.external === 'boolean') owner = { ...owner, external: changes.external };
    }
    this.remember(e.streamId, owner);
    return true;
  }

  private remember(streamId: string, owner: StreamOwner): void {
    this.cache.delete(streamId);
    this.cache.set(streamId, owner);
    // Oldest first out: Map iteration follows insertion order.
    if (this.cache.size > this.capacity) this.cache.delete(this.cache.keys().next().value!);
  }

  private async lookUp(streamIds: string[]): Promise<void> {
    const rows = await this.sql<{ stream_id: string; project: string | null; shared: boolean | null; external: boolean | null }[]>`
      select s.stream_id,
             coalesce(f.data->>'project', case when s.stream_id like 'project-%' then substr(s.stream_id, ${PROJECT_PREFIX.length + 1}) end) as project,
             (n.doc->>'shared')::boolean as shared, (n.doc->>'external')::boolean as external
        from unnest(${streamIds}::text[]) as s(stream_id)
        left join nl_events f on f.stream_id = s.stream_id and f.stream_version = 1
        left join rm_resources n on n.stream_id = s.stream_id and n.kind = 'network'`;
    for (const r of rows) this.remember(r.stream_id, { project: r.project, shared: r.shared ?? false, external: r.external ?? false });
  }
}
