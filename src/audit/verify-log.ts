import { verify } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import type { Sql } from '../db/sql.js';
import { encodeCursor } from '../store/cursor.js';
import type { AuditKey } from '../store/seal/audit-key.js';
import { verifyChain } from './chain.js';
import { chainLink } from '../store/seal/log-chain.js';
import { checkpointMessage, listCheckpoints, signatureHolds, type ExportedCheckpoint } from '../store/seal/signed-checkpoints.js';

export type ProblemKind = 'stream-chain' | 'missing' | 'changed' | 'not-sealed' | 'chain' | 'checkpoint';

export interface LogProblem {
  readonly kind: ProblemKind;
  readonly eventId: string | null;
  readonly streamId: string | null;
  readonly streamVersion: number | null;
  readonly cursor: string | null;
  readonly message: string;
}

export interface LogReport {
  readonly events: number;
  readonly streams: number;
  /** Events in the whole-log chain, and events after it not sealed yet (not a problem). */
  readonly sealed: number;
  readonly unsealed: number;
  readonly checkpoints: number;
  /** Every problem found, in the order the checks ran; empty when the log is intact. */
  readonly problems: LogProblem[];
}

interface ChainRow {
  seq: bigint;
  c_xid: string;
  global_position: bigint;
  stream_id: string;
  stream_version: bigint;
  event_id: string;
  link: Buffer;
  e_xid: string | null;
  e_stream: string | null;
  e_version: bigint | null;
  e_event: string | null;
  e_hash: Buffer | null;
}

/**
 * Checks every stream's chain, the whole-log chain against the events, that no event sits behind
 * the sealed head without being sealed, and every signed checkpoint (those stored, and those an
 * auditor kept: `against`) against the trusted key and the chain.
 */
export async function verifyLog(sql: Sql, options: { key: AuditKey | null; against?: readonly ExportedCheckpoint[] }): Promise<LogReport> {
  return sql.begin('isolation level repeatable read read only', async (tx) => {
    const problems: LogProblem[] = [];
    const streams = await verifyChain(tx);
    for (const b of streams.broken) {
      problems.push({
        kind: 'stream-chain',
        eventId: b.eventId,
        streamId: b.streamId,
        streamVersion: b.streamVersion,
        cursor: b.cursor,
        message: b.problem,
      });
    }

    const stored = await listCheckpoints(tx);
    const claims = [
      ...stored.map((c) => ({ c, from: `checkpoint #${c.id}` })),
      ...(options.against ?? []).map((c, i) => ({ c, from: `exported checkpoint ${i + 1}` })),
    ];
    const wanted = new Set(claims.map(({ c }) => BigInt(c.seq)));
    const linksAt = new Map<bigint, { link: Buffer; xid: string; gp: bigint }>();

    let prev: Buffer = Buffer.alloc(0);
    let expected = 1n;
    let last: { xid: string; gp: bigint } | null = null;
    await tx<ChainRow[]>`
      select c.seq, c.transaction_id::text as c_xid, c.global_position, c.stream_id, c.stream_version, c.event_id, c.link,
             e.transaction_id::text as e_xid, e.stream_id as e_stream, e.stream_version as e_version, e.event_id as e_event, e.hash as e_hash
        from nl_log_chain c left join nl_events e on e.global_position = c.global_position
       order by c.seq`.cursor(2000, (rows) => {
      for (const r of rows) {
        const cursor = encodeCursor({ transactionId: BigInt(r.c_xid), globalPosition: r.global_position });
        const at = { eventId: r.event_id, streamId: r.stream_id, streamVersion: Number(r.stream_version), cursor };
        if (r.seq !== expected) {
          problems.push({
            kind: 'chain',
            ...at,
            message: `the whole-log chain jumps from link ${expected - 1n} to ${r.seq}: links were removed`,
          });
        }
        expected = r.seq + 1n;
        if (r.e_hash === null) {
          problems.push({
            kind: 'missing',
            ...at,
            message: `sealed event ${r.event_id} (stream ${r.stream_id}, version ${r.stream_version}) is missing from the log`,
          });
        } else if (r.e_event !== r.event_id || r.e_stream !== r.stream_id || r.e_version !== r.stream_version || r.e_xid !== r.c_xid) {
          problems.push({
            kind: 'changed',
            ...at,
            message: `the event at this position was sealed as ${r.event_id} (stream ${r.stream_id}, version ${r.stream_version}) but is now ${r.e_event} (stream ${r.e_stream}, version ${r.e_version})`,
          });
        } else {
          const link = chainLink(
            prev,
            {
              transactionId: BigInt(r.c_xid),
              globalPosition: r.global_position,
              streamId: r.stream_id,
              streamVersion: r.stream_version,
              eventId: r.event_id,
            },
            r.e_hash,
          );
          if (!link.equals(r.link))
            problems.push({
              kind: 'changed',
              ...at,
              message:
                "the event does not match its sealed link: it was changed after sealing (its stream's hashes recomputed, or the chain rewritten)",
            });
        }
        prev = r.link;
        last = { xid: r.c_xid, gp: r.global_position };
        if (wanted.has(r.seq)) linksAt.set(r.seq, { link: r.link, xid: r.c_xid, gp: r.global_position });
      }
    });
    const sealed = expected - 1n;
    const head = last as { xid: string; gp: bigint } | null;

    const behind = head
      ? await tx<{ event_id: string; stream_id: string; stream_version: bigint; transaction_id: string; global_position: bigint }[]>`
          select e.event_id, e.stream_id, e.stream_version, e.transaction_id::text, e.global_position from nl_events e
           where (e.transaction_id, e.global_position) < (${head.xid}::xid8, ${head.gp})
             and not exists (select 1 from nl_log_chain c where c.global_position = e.global_position)
           order by e.transaction_id, e.global_position`
      : [];
    for (const e of behind) {
      problems.push({
        kind: 'not-sealed',
        eventId: e.event_id,
        streamId: e.stream_id,
        streamVersion: Number(e.stream_version),
        cursor: encodeCursor({ transactionId: BigInt(e.transaction_id), globalPosition: e.global_position }),
        message: `event ${e.event_id} (stream ${e.stream_id}, version ${e.stream_version}) sits behind the sealed head but was never sealed: it was inserted afterwards`,
      });
    }
    const [after] = await tx<{ n: bigint }[]>`select count(*) as n from nl_events e
      where ${head ? tx`(e.transaction_id, e.global_position) > (${head.xid}::xid8, ${head.gp})` : tx`true`}`;

    for (const { c, from } of claims) {
      const what = `${from} (${c.seq} events, signed ${c.signedAt})`;
      const fail = (message: string) =>
        problems.push({
          kind: 'checkpoint',
          eventId: null,
          streamId: null,
          streamVersion: null,
          cursor: c.cursor,
          message: `${what}: ${message}`,
        });
      if (options.key) {
        if (c.keyId !== options.key.keyId)
          fail(`signed by key ${c.keyId.slice(0, 16)}…, not the trusted key ${options.key.keyId.slice(0, 16)}…`);
        else if (!signatureHolds(c, options.key)) fail('its signature does not hold: the checkpoint was altered');
      } else if (!verify(null, checkpointMessage(c), createPublicKey(c.publicKey), Buffer.from(c.signature, 'base64'))) {
        fail('its signature does not hold even under the key it names');
      }
      const at = linksAt.get(BigInt(c.seq));
      if (!at) fail(`the log now holds only ${sealed} sealed events: events it covered were removed`);
      else if (at.link.toString('hex') !== c.head || at.xid !== c.transactionId || at.gp.toString() !== c.globalPosition) {
        fail('the log no longer contains what was signed: the chain up to it was rewritten');
      }
    }

    return {
      events: streams.events,
      streams: streams.streams,
      sealed: Number(sealed),
      unsealed: Number(after!.n),
      checkpoints: stored.length,
      problems,
    };
  }) as Promise<LogReport>;
}

export function describeProblem(p: LogProblem): string {
  return `[${p.kind}] ${p.message}${p.cursor && p.kind !== 'checkpoint' ? ` (cursor ${p.cursor})` : ''}`;
}
