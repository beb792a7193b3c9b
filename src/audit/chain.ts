import type { Queryable } from '../db/sql.js';
import { encodeCursor } from '../store/cursor.js';

export interface BrokenLink {
  readonly eventId: string | null;
  readonly streamId: string;
  readonly streamVersion: number;
  readonly cursor: string | null;
  readonly problem: string;
}

export interface ChainReport {
  readonly events: number;
  readonly streams: number;
  /** The first broken link in log order, or null when every stream's chain holds. */
  readonly firstBroken: BrokenLink | null;
  readonly brokenCount: number;
  /** Every broken link, in log order. */
  readonly broken: BrokenLink[];
}

/** Recomputes every event's hash in the database (nl_verify_chain) and names the first broken link. */
export async function verifyChain(sql: Queryable): Promise<ChainReport> {
  const broken = await sql<
    {
      event_id: string | null;
      stream_id: string;
      stream_version: bigint;
      transaction_id: string | null;
      global_position: bigint | null;
      problem: string;
    }[]
  >`
    select event_id, stream_id, stream_version, transaction_id::text, global_position, problem from nl_verify_chain()`;
  const [counts] = await sql<
    { events: bigint; streams: bigint }[]
  >`select (select count(*) from nl_events) as events, (select count(*) from nl_streams) as streams`;
  const links = broken.map((b): BrokenLink => ({
    eventId: b.event_id,
    streamId: b.stream_id,
    streamVersion: Number(b.stream_version),
    problem: b.problem,
    cursor:
      b.transaction_id !== null && b.global_position !== null
        ? encodeCursor({ transactionId: BigInt(b.transaction_id), globalPosition: b.global_position })
        : null,
  }));
  return {
    events: Number(counts!.events),
    streams: Number(counts!.streams),
    brokenCount: broken.length,
    firstBroken: links[0] ?? null,
    broken: links,
  };
}

export function describeBroken(b: BrokenLink): string {
  return b.eventId
    ? `event ${b.eventId} (stream ${b.streamId}, version ${b.streamVersion}${b.cursor ? `, cursor ${b.cursor}` : ''}): ${b.problem}`
    : `stream ${b.streamId}: ${b.problem}`;
}
