import { encodeCursor, type LogPosition } from '../store/cursor.js';
import type { EventRegistry } from '../store/event-registry.js';
import type { EventMetadata, RecordedEvent } from '../store/types.js';

/**
 * The columns and decoding of a log row for reads the store does not offer (filtered audit
 * queries). Mirrors EventStore's own row mapping, which is private to it.
 */
export interface LogRow {
  global_position: bigint;
  transaction_id: string;
  stream_id: string;
  stream_version: bigint;
  event_id: string;
  event_type: string;
  schema_version: number;
  data: unknown;
  metadata: EventMetadata;
  recorded_at: Date;
}

export const LOG_COLUMNS = `e.global_position, e.transaction_id::text as transaction_id, e.stream_id, e.stream_version, e.event_id,
  e.event_type, e.schema_version, e.data, e.metadata, e.recorded_at`;

export function recordedFromRow(registry: EventRegistry, r: LogRow): RecordedEvent {
  const position: LogPosition = { transactionId: BigInt(r.transaction_id), globalPosition: BigInt(r.global_position) };
  return {
    id: r.event_id,
    streamId: r.stream_id,
    streamVersion: Number(r.stream_version),
    type: r.event_type,
    schemaVersion: r.schema_version,
    data: registry.decode(r.event_type, r.schema_version, r.data),
    metadata: r.metadata,
    recordedAt: r.recorded_at,
    position,
    cursor: encodeCursor(position),
  };
}

/** The last position every reader can already see (the log's visible head), or null when empty. */
export { visibleHead } from '../store/log-head.js';

/** The position right before `p`: reading after it starts with the event at `p`. */
export function justBefore(p: LogPosition): LogPosition {
  return { transactionId: p.transactionId, globalPosition: p.globalPosition - 1n };
}
