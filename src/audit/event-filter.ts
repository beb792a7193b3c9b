import type { Sql } from '../db/sql.js';
import { streamType } from '../store/event-store.js';
import type { OwnedEvent } from './visibility.js';
import { streamProjectSql } from './visibility.js';

/** What a reader of the log may narrow it to. Every field is optional; all given must match. */
export interface EventFilter {
  /** Stream types: `network`, `port`, `loadbalancer`, `project`, ... */
  readonly resourceTypes?: readonly string[] | null;
  readonly eventTypes?: readonly string[] | null;
  /** A resource id: its own stream's events, or a load balancer's events naming this child. */
  readonly resourceId?: string | null;
  readonly streamId?: string | null;
  /** The owning project of the stream, or the project the change was made under. */
  readonly projectId?: string | null;
  /** The token id (`actor`) or token name that made the change. */
  readonly actor?: string | null;
  readonly correlationId?: string | null;
  readonly requestId?: string | null;
  readonly from?: Date | null;
  readonly to?: Date | null;
}

/** Fields of a load balancer's events that name one of its children. */
const CHILD_ID_FIELDS = ['listenerId', 'poolId', 'memberId', 'healthMonitorId'] as const;

const has = <T>(list: readonly T[] | null | undefined): list is readonly T[] => list != null && list.length > 0;

export function matchesFilter(f: EventFilter, { event: e, owner }: OwnedEvent): boolean {
  if (has(f.resourceTypes) && !f.resourceTypes.includes(streamType(e.streamId))) return false;
  if (has(f.eventTypes) && !f.eventTypes.includes(e.type)) return false;
  if (f.streamId != null && e.streamId !== f.streamId) return false;
  if (f.resourceId != null) {
    const data = (e.data ?? {}) as Record<string, unknown>;
    const own = e.streamId.slice(e.streamId.indexOf('-') + 1) === f.resourceId;
    if (!own && !CHILD_ID_FIELDS.some((k) => data[k] === f.resourceId)) return false;
  }
  if (f.projectId != null && owner.project !== f.projectId && e.metadata.project !== f.projectId) return false;
  if (f.actor != null && e.metadata.actor !== f.actor && e.metadata.tokenName !== f.actor) return false;
  if (f.correlationId != null && e.metadata.correlationId !== f.correlationId) return false;
  if (f.requestId != null && e.metadata.requestId !== f.requestId) return false;
  if (f.from != null && e.recordedAt < f.from) return false;
  if (f.to != null && e.recordedAt > f.to) return false;
  return true;
}

/** `matchesFilter` as SQL conditions over `nl_events e`; `streamTypes` are the known stream types. */
export function filterSql(sql: Sql, f: EventFilter, streamTypes: readonly string[]) {
  const conds = [sql`true`];
  if (has(f.resourceTypes)) conds.push(sql`split_part(e.stream_id, '-', 1) = any(${[...f.resourceTypes]}::text[])`);
  if (has(f.eventTypes)) conds.push(sql`e.event_type = any(${[...f.eventTypes]}::text[])`);
  if (f.streamId != null) conds.push(sql`e.stream_id = ${f.streamId}`);
  if (f.resourceId != null) {
    const streams = streamTypes.map((t) => `${t}-${f.resourceId}`);
    conds.push(sql`(e.stream_id = any(${streams}::text[])
      or (e.stream_id like 'loadbalancer-%' and ${f.resourceId} in (${sql.unsafe(CHILD_ID_FIELDS.map((k) => `e.data->>'${k}'`).join(', '))})))`);
  }
  if (f.projectId != null) conds.push(sql`(e.metadata->>'project' = ${f.projectId} or ${streamProjectSql(sql)} = ${f.projectId})`);
  if (f.actor != null) conds.push(sql`(e.metadata->>'actor' = ${f.actor} or e.metadata->>'tokenName' = ${f.actor})`);
  if (f.correlationId != null) conds.push(sql`e.metadata->>'correlationId' = ${f.correlationId}`);
  if (f.requestId != null) conds.push(sql`e.metadata->>'requestId' = ${f.requestId}`);
  if (f.from != null) conds.push(sql`e.recorded_at >= ${f.from}`);
  if (f.to != null) conds.push(sql`e.recorded_at <= ${f.to}`);
  return conds.reduce((acc, c) => sql`${acc} and ${c}`);
}
