import { createHash } from 'node:crypto';
import type { Queryable, Sql } from '../../db/sql.js';
import { START, type LogPosition } from '../cursor.js';

const SEAL_LOCK = 0x6e6c7365; // 'nlse': one sealer at a time per database

/** One event's place in the whole-log chain (nl_log_chain), as stored. */
export interface ChainLink {
  readonly seq: bigint;
  readonly transactionId: bigint;
  readonly globalPosition: bigint;
  readonly streamId: string;
  readonly streamVersion: bigint;
  readonly eventId: string;
  readonly link: Buffer;
}

/**
 * The whole-log link of an event: sha256(previous link || its position, stream, version and id
 * || its per-stream hash). The per-stream hash covers the content, so the link does too.
 */
export function chainLink(
  prev: Buffer,
  e: { transactionId: bigint; globalPosition: bigint; streamId: string; streamVersion: bigint; eventId: string },
  eventHash: Buffer,
): Buffer {
  return createHash('sha256')
    .update(prev)
    .update(`${e.transactionId}\n${e.globalPosition}\n${e.streamId}\n${e.streamVersion}\n${e.eventId}\n`)
    .update(eventHash)
    .digest();
}

export interface ChainHead {
  readonly seq: bigint;
  readonly position: LogPosition;
  readonly link: Buffer;
}

export async function chainHead(q: Queryable): Promise<ChainHead | null> {
  const [row] = await q<{ seq: bigint; transaction_id: string; global_position: bigint; link: Buffer }[]>`
    select seq, transaction_id::text, global_position, link from nl_log_chain order by seq desc limit 1`;
  return row
    ? { seq: row.seq, position: { transactionId: BigInt(row.transaction_id), globalPosition: row.global_position }, link: row.link }
    : null;
}

/**
 * Extends the whole-log chain over every event below the log horizon (readAll's order, in which
 * nothing is ever inserted behind what was read), in committed batches. Another process already
 * sealing is left to it (answers 0). Answers how many events were sealed.
 */
export async function sealLog(sql: Sql, batch = 2000): Promise<number> {
  let sealed = 0;
  for (;;) {
    const n = await sql.begin(async (tx) => {
      const [{ locked }] = (await tx<{ locked: boolean }[]>`select pg_try_advisory_xact_lock(${SEAL_LOCK}) as locked`) as unknown as [
        { locked: boolean },
      ];
      if (!locked) return -1;
      const head = await chainHead(tx);
      const after = head?.position ?? START;
      const rows = await tx<
        { transaction_id: string; global_position: bigint; stream_id: string; stream_version: bigint; event_id: string; hash: Buffer }[]
      >`
        select e.transaction_id::text as transaction_id, e.global_position, e.stream_id, e.stream_version, e.event_id, e.hash
          from nl_events e
         where (e.transaction_id, e.global_position) > (${after.transactionId.toString()}::xid8, ${after.globalPosition})
           and e.transaction_id < nl_log_horizon()
         order by e.transaction_id, e.global_position
         limit ${batch}`;
      if (rows.length === 0) return 0;
      let prev: Buffer = head?.link ?? Buffer.alloc(0);
      let seq = head?.seq ?? 0n;
      const links = rows.map((r) => {
        seq += 1n;
        const link = chainLink(
          prev,
          {
            transactionId: BigInt(r.transaction_id),
            globalPosition: r.global_position,
            streamId: r.stream_id,
            streamVersion: r.stream_version,
            eventId: r.event_id,
          },
          r.hash,
        );
        prev = link;
        return {
          seq: seq.toString(),
          transaction_id: r.transaction_id,
          global_position: r.global_position.toString(),
          stream_id: r.stream_id,
          stream_version: r.stream_version.toString(),
          event_id: r.event_id,
          link: link.toString('hex'),
        };
      });
      await tx`insert into nl_log_chain (seq, transaction_id, global_position, stream_id, stream_version, event_id, link)
        select x.seq, x.transaction_id::xid8, x.global_position, x.stream_id, x.stream_version, x.event_id, decode(x.link, 'hex')
          from jsonb_to_recordset(${tx.json(links as never)}::jsonb)
            as x(seq bigint, transaction_id text, global_position bigint, stream_id text, stream_version bigint, event_id uuid, link text)`;
      return rows.length;
    });
    if (n < 0) return sealed;
    sealed += n;
    if (n < batch) return sealed;
  }
}
