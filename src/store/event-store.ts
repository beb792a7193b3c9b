import { randomUUID } from 'node:crypto';
import type postgres from 'postgres';
import type { Queryable, Sql } from '../db/sql.js';
import { encodeCursor, START, type LogPosition } from './cursor.js';
import { copyRows } from './copy-rows.js';
import { StoreError } from './errors.js';
import type { EventRegistry } from './event-registry.js';
import type { AppendResult, EventMetadata, ExpectedVersion, NewEvent, ProjectedEvent, RecordedEvent } from './types.js';

const EXPECTED_CODES: Record<Exclude<ExpectedVersion, number>, number> = { any: -1, no_stream: -2, stream_exists: -3 };

/** A log row as the store's reads select it (LOG_COLUMNS, table alias `e`). */
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

/**
 * The columns every log read selects, on `nl_events e`. Queries order by `e.transaction_id`: the
 * text cast below keeps the name `transaction_id`, and an unqualified ORDER BY would sort that text.
 */
export const LOG_COLUMNS = `e.global_position, e.transaction_id::text as transaction_id, e.stream_id, e.stream_version, e.event_id,
  e.event_type, e.schema_version, e.data, e.metadata, e.recorded_at`;

/** Decodes (upcasts and validates) a log row into the event readers see. */
export function recordedFromRow(registry: EventRegistry, r: LogRow): RecordedEvent {
  const position = { transactionId: BigInt(r.transaction_id), globalPosition: BigInt(r.global_position) };
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

/** The stream type is the part of a stream id before the first '-', e.g. `network-<uuid>`. */
export function streamType(streamId: string): string {
  const i = streamId.indexOf('-');
  return i > 0 ? streamId.slice(0, i) : streamId;
}

export class EventStore {
  constructor(
    readonly sql: Sql,
    readonly registry: EventRegistry,
    /** Called after a commit that appended events (a wake-up says what they were); the store never NOTIFYs inside an append. */
    private readonly onAppended: (events: readonly RecordedEvent[]) => void = () => {},
  ) {}

  /**
   * Appends in its own transaction. Use `appendIn` to append several streams, or alongside
   * projection writes, in one transaction.
   */
  async append(
    streamId: string,
    expected: ExpectedVersion,
    events: readonly NewEvent[],
    metadata: EventMetadata = {},
  ): Promise<AppendResult> {
    const result = await this.appendIn(this.sql, streamId, expected, events, metadata);
    if (!result.duplicate) this.onAppended(result.events);
    return result;
  }

  /** Tells followers that a transaction which appended `events` has committed. */
  committed(events: readonly RecordedEvent[]): void {
    this.onAppended(events);
  }

  /**
   * Announces an appending transaction (nl_begin_append: a shared advisory lock that readers'
   * horizon looks for). Call it as the transaction's first statement when the transaction writes
   * anything before `appendIn` (row locks included): `appendIn` refuses to append in a
   * transaction that got its id unannounced, because readers could then overtake its events.
   */
  async beginAppend(q: Queryable): Promise<void> {
    // Sent at once rather than when awaited: statements the caller sends after this call go after it.
    await q`select nl_begin_append()`.execute();
  }

  async appendIn(
    q: Queryable,
    streamId: string,
    expected: ExpectedVersion,
    events: readonly NewEvent[],
    metadata: EventMetadata = {},
  ): Promise<AppendResult> {
    if (events.length === 0) throw new StoreError('InvalidEventData', 'an append needs at least one event');
    const rows = events.map((e) => {
      const encoded = this.registry.encode(e.type, e.data);
      return { id: e.id ?? randomUUID(), type: e.type, version: encoded.version, data: encoded.data };
    });
    const exp = typeof expected === 'number' ? expected : EXPECTED_CODES[expected];
    if (typeof expected === 'number' && (!Number.isInteger(expected) || expected < 0)) {
      throw new StoreError('WrongExpectedVersion', `expected version must be a whole number >= 0, 'any', 'no_stream' or 'stream_exists'`);
    }
    try {
      const stored = await q<{ stream_version: bigint; global_position: bigint; transaction_id: string; recorded_at: Date }[]>`
        select stream_version, global_position, transaction_id::text, recorded_at
          from nl_append(${streamId}, ${streamType(streamId)}, ${exp}, ${this.sql.json(rows as never)}::jsonb, ${this.sql.json(metadata as never)}::jsonb)`;
      if (stored.length === 0) {
        const version = await this.streamVersion(streamId, q);
        return { streamId, version: version ?? 0, duplicate: true, events: [] };
      }
      const recorded = stored.map((s, i): RecordedEvent => {
        const position = { transactionId: BigInt(s.transaction_id), globalPosition: BigInt(s.global_position) };
        const r = rows[i]!;
        return {
          id: r.id,
          streamId,
          streamVersion: Number(s.stream_version),
          type: r.type,
          schemaVersion: r.version,
          data: r.data,
          metadata,
          recordedAt: s.recorded_at,
          position,
          cursor: encodeCursor(position),
        };
      });
      return { streamId, version: recorded[recorded.length - 1]!.streamVersion, duplicate: false, events: recorded };
    } catch (e) {
      const code = (e as postgres.PostgresError).code;
      if (code === 'NL409') {
        throw new StoreError('WrongExpectedVersion', `stream ${streamId} is not at the expected version ${String(expected)}`, {
          streamId,
          expected,
        });
      }
      if (code === 'NL410') throw new StoreError('DuplicateEventId', 'some event ids of this append are already stored', { streamId });
      if (code === '23505') {
        // A racing append of the same stream position or the same event id.
        throw new StoreError('WrongExpectedVersion', `stream ${streamId} was appended concurrently`, { streamId, expected });
      }
      throw e;
    }
  }

  async streamVersion(streamId: string, q: Queryable = this.sql): Promise<number | null> {
    const [s] = await q<{ version: bigint }[]>`select version from nl_streams where stream_id = ${streamId}`;
    return s ? Number(s.version) : null;
  }

  async readStream(streamId: string, options: { fromVersion?: number; q?: Queryable } = {}): Promise<RecordedEvent[]> {
    const q = options.q ?? this.sql;
    const rows = await q<LogRow[]>`
      select ${this.sql.unsafe(LOG_COLUMNS)} from nl_events e
       where e.stream_id = ${streamId} and e.stream_version >= ${options.fromVersion ?? 1}
       order by e.stream_version`;
    return rows.map((r) => recordedFromRow(this.registry, r));
  }

  /**
   * Events after `after` in the one global order. Only events below the log horizon
   * (nl_log_horizon: the oldest transaction that may still append, see migration 008_a) are
   * returned, so a late commit can never be overtaken, while transactions that do not append
   * (in this database or any other) hold nobody back.
   */
  async readAll(
    after: LogPosition = START,
    limit = 1000,
    q: Queryable = this.sql,
    options: { writersLockedOut?: boolean } = {},
  ): Promise<RecordedEvent[]> {
    const rows = await q<LogRow[]>`
      select ${this.sql.unsafe(LOG_COLUMNS)} from nl_events e where ${this.after(after, options)}
       order by e.transaction_id, e.global_position
       limit ${limit}`;
    return rows.map((r) => recordedFromRow(this.registry, r));
  }

  /**
   * The events of readAll with only the columns projections fold, read through COPY: a rebuild's
   * and a verify's read of the whole log.
   */
  async readForProjections(
    after: LogPosition,
    limit: number,
    q: Queryable = this.sql,
    options: { writersLockedOut?: boolean } = {},
  ): Promise<ProjectedEvent[]> {
    const visible = options.writersLockedOut ? 'true' : 'e.transaction_id < nl_log_horizon()';
    // COPY takes no parameters: the bounds are numbers, written in.
    const rows = await copyRows(
      q,
      `select e.global_position, e.transaction_id, e.stream_id, e.stream_version, e.event_type, e.schema_version, e.data from nl_events e
        where (e.transaction_id, e.global_position) > ('${BigInt(after.transactionId)}'::xid8, ${BigInt(after.globalPosition)})
          and ${visible}
        order by e.transaction_id, e.global_position limit ${Math.trunc(limit)}`,
    );
    return rows.map(([position, transaction, streamId, version, type, schemaVersion, data]) => ({
      streamId: streamId!,
      streamVersion: Number(version),
      type: type!,
      // Validated when it was written (decodeStored): a rebuild spent a fifth of its time and
      // a copy of every event re-validating it.
      data: this.registry.decodeStored(type!, Number(schemaVersion), JSON.parse(data!)),
      position: { transactionId: BigInt(transaction!), globalPosition: BigInt(position!) },
    }));
  }

  /** The events after `after` that a reader may see (see readAll). */
  private after(after: LogPosition, options: { writersLockedOut?: boolean }) {
    // With writers locked out (a rebuild's final step holds the exclusive side of the appenders'
    // advisory lock) nothing in flight can still add events: everything committed is final.
    const visible = options.writersLockedOut ? this.sql`true` : this.sql`e.transaction_id < nl_log_horizon()`;
    // Qualified columns throughout: the select list's `transaction_id::text` keeps the name
    // `transaction_id`, and an unqualified ORDER BY would sort that text ('1000' before '999'),
    // skipping every event whose id has fewer digits.
    return this
      .sql`(e.transaction_id, e.global_position) > (${after.transactionId.toString()}::xid8, ${after.globalPosition}) and ${visible}`;
  }
}
