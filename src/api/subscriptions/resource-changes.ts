import { decodeGlobalID } from '@pothos/plugin-relay';
import { ALL_KINDS, isResourceKind, kindsOfStreamType, RESOURCE_KINDS, type ResourceKind } from '../../domain/kinds.js';
import { streamType } from '../../store/event-store.js';
import type { RecordedEvent } from '../../store/types.js';
import type { OwnedEvent } from '../../audit/visibility.js';
import { canSee } from '../../audit/visibility.js';
import type { Context } from '../context.js';
import { fromResourceRow, toRecord, type ResourceRecord, type Row } from '../schema/resources.js';
import { followerFor } from './followers.js';
import { requireCaller, revokes } from './event-feed.js';
import { mapFeed, parseAfter, type CutOff } from './messages.js';

export interface ResourceChange {
  readonly __typename: 'ResourceChange';
  readonly cursor: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly kind: string;
  readonly id: string;
  readonly deleted: boolean;
  /** The resource exactly as it was right after this event; null once deleted. */
  readonly record: ResourceRecord | null;
}

export interface StatusChange {
  readonly __typename: 'ResourceStatus';
  readonly cursor: string;
  readonly kind: string;
  readonly id: string;
  readonly status: string | null;
  readonly statusReason: string | null;
  readonly provisioningStatus: string | null;
  readonly operatingStatus: string | null;
  /** HA routers: each host's reported VRRP state; null for everything else. */
  readonly haStates: readonly { readonly host: string; readonly haState: string }[] | null;
}

/**
 * Each stream folded, with its own aggregate's evolve, to exactly the event being delivered: a
 * subscriber that is behind still gets each change's own state, never a later one. A stream is
 * read once, then advanced event by event.
 */
function streamFolder(ctx: Context) {
  const folded = new Map<string, { state: unknown; version: number }>();
  return async (e: RecordedEvent): Promise<ResourceRecord[] | null> => {
    const kind = ctx.services.aggregates.kindOf(e.streamId);
    if (!kind) return null;
    let f = folded.get(e.streamId);
    if (f && f.version === e.streamVersion - 1) {
      f = { state: kind.evolve(f.state, { type: e.type, data: e.data }), version: e.streamVersion };
    } else {
      let state = kind.initialState;
      for (const x of await ctx.services.store.readStream(e.streamId)) {
        if (x.streamVersion > e.streamVersion) break;
        state = kind.evolve(state, { type: x.type, data: x.data });
      }
      f = { state, version: e.streamVersion };
    }
    folded.set(e.streamId, f);
    return kind.resources(f.state, f.version).map(fromResourceRow);
  };
}

export interface ChangeArgs {
  readonly kinds?: readonly string[] | null;
  readonly ids?: readonly string[] | null;
  readonly after?: string | null;
}

function plainId(value: string): string {
  if (/^[0-9a-f-]{36}$/i.test(value)) return value.toLowerCase();
  try {
    return decodeGlobalID(value).id;
  } catch {
    return value;
  }
}

/**
 * Every visible event of a stream that may hold the wanted resources, with that stream's rows as
 * they were right after the event. Deletions are noticed as rows this subscription saw on the
 * stream that are gone.
 */
function streamRows(
  ctx: Context,
  args: ChangeArgs,
  emit: (e: OwnedEvent, rows: readonly ResourceRecord[], gone: readonly { id: string; kind: string }[]) => unknown[],
) {
  const kinds = args.kinds && args.kinds.length > 0 ? new Set(args.kinds) : null;
  const ids = args.ids && args.ids.length > 0 ? new Set(args.ids.map(plainId)) : null;
  const streamTypes = kinds ? new Set([...kinds].map((k) => (isResourceKind(k) ? RESOURCE_KINDS[k].streamType : k))) : null;
  const seen = new Map<string, Map<string, string>>();
  const feed = followerFor(ctx.services).feed({
    after: parseAfter(args.after),
    judge: (e) => {
      if (revokes(ctx, e)) return { end: 'the token was revoked' };
      if (!canSee(ctx.caller, e)) return 'skip';
      if (streamTypes && !streamTypes.has(streamType(e.event.streamId))) return 'skip';
      return 'deliver';
    },
  });
  const stateAt = streamFolder(ctx);
  return {
    feed,
    changes: mapFeed(feed, async (e) => {
      const rows =
        (await stateAt(e.event)) ??
        (
          await ctx.services.sql<
            Row[]
          >`select id, kind, project_id, revision, created_at, updated_at, doc from rm_resources where stream_id = ${e.event.streamId}`
        ).map((r) => toRecord<Record<string, unknown>>(r));
      const before = seen.get(e.event.streamId) ?? new Map<string, string>();
      const now = new Map(rows.map((r) => [r.id, r.kind]));
      const gone = [...before].filter(([id]) => !now.has(id)).map(([id, kind]) => ({ id, kind }));
      // A deleted lifecycle resource this subscription never saw alive: its id is the stream's.
      if (rows.length === 0 && before.size === 0 && /(Deleted|Removed)$/.test(e.event.type)) {
        const id = e.event.streamId.slice(e.event.streamId.indexOf('-') + 1);
        const kind = kindsOfStreamType(streamType(e.event.streamId))[0] ?? streamType(e.event.streamId);
        gone.push({ id, kind });
      }
      if (now.size > 0) seen.set(e.event.streamId, now);
      else seen.delete(e.event.streamId);
      const wanted = (x: { id: string; kind: string }) => (!kinds || kinds.has(x.kind)) && (!ids || ids.has(x.id));
      return emit(e, rows.filter(wanted), gone.filter(wanted));
    }),
  };
}

export function resourceChanges(ctx: Context, args: ChangeArgs): AsyncIterableIterator<ResourceChange | CutOff> {
  requireCaller(ctx);
  return streamRows(ctx, args, (e, rows, gone) => [
    ...rows.map((r): ResourceChange => ({
      __typename: 'ResourceChange',
      cursor: e.event.cursor,
      eventId: e.event.id,
      eventType: e.event.type,
      kind: r.kind,
      id: r.id,
      deleted: false,
      record: r,
    })),
    ...gone.map((g): ResourceChange => ({
      __typename: 'ResourceChange',
      cursor: e.event.cursor,
      eventId: e.event.id,
      eventType: e.event.type,
      kind: g.kind,
      id: g.id,
      deleted: true,
      record: null,
    })),
  ]).changes as AsyncIterableIterator<ResourceChange | CutOff>;
}

/** Kinds whose rows carry a status the dataplane drives. */
export const STATUS_KINDS: readonly ResourceKind[] = ALL_KINDS.filter((k) => RESOURCE_KINDS[k].hasStatus);

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function statusOf(kind: string, id: string, doc: Record<string, unknown> | null, cursor: string): StatusChange {
  return {
    __typename: 'ResourceStatus',
    cursor,
    kind,
    id,
    status: doc ? str(doc.status) : 'DELETED',
    statusReason: doc ? (str(doc.statusReason) ?? str(doc.statusError)) : null,
    provisioningStatus: doc ? str(doc.provisioningStatus) : null,
    operatingStatus: doc ? str(doc.operatingStatus) : null,
    haStates: doc && kind === 'router' && doc.ha === true ? haStatesOf(doc.haStates) : null,
  };
}

/** An HA router's per-host VRRP states as reported, sorted by host. */
function haStatesOf(v: unknown): { host: string; haState: string }[] {
  if (typeof v !== 'object' || v === null) return [];
  return Object.entries(v as Record<string, unknown>)
    .map(([host, st]) => ({ host, haState: String(st) }))
    .sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
}

const statusKey = (s: StatusChange) =>
  `${s.status}|${s.statusReason}|${s.provisioningStatus}|${s.operatingStatus}|${JSON.stringify(s.haStates)}`;

/**
 * Status changes only: port and floating IP `status`, load balancer objects' provisioning and
 * operating statuses. What the read model holds when the subscription starts is the baseline, so
 * the first message for a resource is its first change (or its creation) after that.
 */
export async function statusChanges(ctx: Context, args: ChangeArgs): Promise<AsyncIterableIterator<StatusChange | CutOff>> {
  requireCaller(ctx);
  const kinds = args.kinds && args.kinds.length > 0 ? args.kinds : STATUS_KINDS;
  const last = new Map<string, string>();
  // Joined before the baseline is read, so no change falls between the two.
  const { feed, changes } = streamRows(ctx, { ...args, kinds }, (e, rows, gone) => {
    const out: StatusChange[] = [];
    for (const s of [
      ...rows.map((r) => statusOf(r.kind, r.id, r.doc, e.event.cursor)),
      ...gone.map((g) => statusOf(g.kind, g.id, null, e.event.cursor)),
    ]) {
      if (last.get(s.id) === statusKey(s)) continue;
      last.set(s.id, statusKey(s));
      out.push(s);
    }
    return out;
  });
  await feed.start();
  const baseline = await ctx.services.sql<{ id: string; kind: string; doc: Record<string, unknown> }[]>`
    select id, kind, doc from rm_resources where kind = any(${[...kinds]}::text[]) order by updated_at desc limit 20000`;
  for (const r of baseline) last.set(r.id, statusKey(statusOf(r.kind, r.id, r.doc, '')));
  return changes as AsyncIterableIterator<StatusChange | CutOff>;
}
