import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Sql } from '../db/sql.js';
import { START, type LogPosition } from '../store/cursor.js';

/**
 * The log as NDJSON, one event a line, keys always in this order. `data` and `metadata` are
 * PostgreSQL's own jsonb text, so they hash and re-import exactly; `recordedAt` keeps microseconds.
 * Positions are not exported: an import appends in the same order and gets positions of its own.
 */
const KEYS = [
  'eventId',
  'streamId',
  'streamVersion',
  'type',
  'schemaVersion',
  'recordedAt',
  'data',
  'metadata',
  'prevHash',
  'hash',
] as const;

interface ExportRow {
  event_id: string;
  stream_id: string;
  stream_version: bigint;
  event_type: string;
  schema_version: number;
  recorded_at: string;
  data: string;
  metadata: string;
  prev_hash: string;
  hash: string;
  transaction_id: string;
  global_position: bigint;
}

function line(r: ExportRow): string {
  const values: Record<(typeof KEYS)[number], string> = {
    eventId: JSON.stringify(r.event_id),
    streamId: JSON.stringify(r.stream_id),
    streamVersion: String(r.stream_version),
    type: JSON.stringify(r.event_type),
    schemaVersion: String(r.schema_version),
    recordedAt: JSON.stringify(r.recorded_at),
    data: r.data,
    metadata: r.metadata,
    prevHash: JSON.stringify(r.prev_hash),
    hash: JSON.stringify(r.hash),
  };
  return `{${KEYS.map((k) => `${JSON.stringify(k)}:${values[k]}`).join(',')}}\n`;
}

export interface Progress {
  readonly done: number;
  readonly total: number;
}

/**
 * Writes every event committed as of one snapshot (REPEATABLE READ), in log order, however long
 * it takes. Not held back by unrelated long transactions (which only delay live readers): the
 * snapshot is consistent, and an import keeps its order. Answers the number of events.
 */
export async function exportLog(
  sql: Sql,
  write: (chunk: string) => Promise<void> | void,
  onProgress: (p: Progress) => void = () => {},
  batch = 5000,
): Promise<number> {
  return sql.begin('isolation level repeatable read read only', async (tx) => {
    const [c] = await tx<{ n: bigint }[]>`select count(*) as n from nl_events`;
    const total = Number(c!.n);
    let after: LogPosition = START;
    let done = 0;
    for (;;) {
      const rows = await tx<ExportRow[]>`
        select event_id, stream_id, stream_version, event_type, schema_version,
               to_char(recorded_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as recorded_at,
               data::text as data, metadata::text as metadata, encode(prev_hash, 'hex') as prev_hash, encode(hash, 'hex') as hash,
               transaction_id::text as transaction_id, global_position
          from nl_events e
         where (e.transaction_id, e.global_position) > (${after.transactionId.toString()}::xid8, ${after.globalPosition})
         order by e.transaction_id, e.global_position
         limit ${batch}`;
      if (rows.length === 0) break;
      await write(rows.map(line).join(''));
      const last = rows[rows.length - 1]!;
      after = { transactionId: BigInt(last.transaction_id), globalPosition: last.global_position };
      done += rows.length;
      onProgress({ done, total });
    }
    return done;
  }) as Promise<number>;
}

export class ImportError extends Error {
  constructor(
    message: string,
    readonly eventId: string | null = null,
  ) {
    super(message);
  }
}

/**
 * Appends an export into a database whose log is empty, in one transaction: every line's hashes
 * are checked against its content and its stream's previous event (nl_import), event ids,
 * versions, metadata and recorded_at are kept. Answers the number of events.
 */
export async function importLog(
  sql: Sql,
  input: Readable,
  options: {
    knownTypes?: (type: string) => boolean;
    /** Throws if an event's data does not hold for its type and schema version (the registry's decode). */
    validate?: (type: string, schemaVersion: number, data: unknown) => void;
    onProgress?: (done: number) => void;
    batch?: number;
  } = {},
): Promise<number> {
  const batch = options.batch ?? 5000;
  const onProgress = options.onProgress ?? (() => {});
  return sql.begin(async (tx) => {
    await tx`lock table nl_streams in exclusive mode`;
    const [any] = await tx`select 1 from nl_events limit 1`;
    if (any) throw new ImportError('the database already holds events: import only into an empty log');
    let lines: string[] = [];
    let done = 0;
    const flush = async () => {
      if (lines.length === 0) return;
      try {
        await tx`select nl_import(${`[${lines.join(',')}]`}::text::jsonb)`;
      } catch (e) {
        const m = /broken hash chain at event ([0-9a-f-]{36})/.exec((e as Error).message);
        throw m ? new ImportError((e as Error).message, m[1]!) : e;
      }
      done += lines.length;
      lines = [];
      onProgress(done);
    };
    for await (const l of createInterface({ input, crlfDelay: Infinity })) {
      if (l.trim() === '') continue;
      if (options.validate) {
        // Checked here, before it commits: a rebuild takes the log's data as validated (EventRegistry.decodeStored).
        const e = JSON.parse(l) as { eventId: string; type: string; schemaVersion: number; data: unknown };
        try {
          options.validate(e.type, e.schemaVersion, e.data);
        } catch (err) {
          throw new ImportError(`event ${e.eventId}: ${(err as Error).message}`, e.eventId);
        }
      }
      lines.push(l);
      if (lines.length >= batch) await flush();
    }
    await flush();
    if (options.knownTypes) {
      const types = await tx<{ event_type: string }[]>`select distinct event_type from nl_events`;
      const unknown = types.map((t) => t.event_type).filter((t) => !options.knownTypes!(t));
      if (unknown.length > 0) throw new ImportError(`unknown event types: ${unknown.join(', ')}`);
    }
    return done;
  }) as Promise<number>;
}
