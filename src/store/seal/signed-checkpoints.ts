import { sign, verify } from 'node:crypto';
import type { Queryable } from '../../db/sql.js';
import { encodeCursor } from '../cursor.js';
import type { AuditKey } from './audit-key.js';
import { chainHead } from './log-chain.js';

/** A signed statement "the log's first `seq` events chain to `head`", as exported for auditors. */
export interface ExportedCheckpoint {
  readonly seq: string;
  readonly transactionId: string;
  readonly globalPosition: string;
  readonly cursor: string;
  readonly head: string;
  readonly signedAt: string;
  readonly keyId: string;
  readonly publicKey: string;
  readonly signature: string;
}

/** The exact bytes signed. */
export function checkpointMessage(c: Pick<ExportedCheckpoint, 'seq' | 'transactionId' | 'globalPosition' | 'head' | 'signedAt'>): Buffer {
  return Buffer.from(`netledger-log-checkpoint/v1\n${c.seq}\n${c.transactionId}:${c.globalPosition}\n${c.head}\n${c.signedAt}\n`);
}

export function signatureHolds(c: ExportedCheckpoint, key: AuditKey): boolean {
  return c.keyId === key.keyId && verify(null, checkpointMessage(c), key.publicKey, Buffer.from(c.signature, 'base64'));
}

/** Signs the sealed chain's head now; null when nothing is sealed yet or the head is already signed. */
export async function signCheckpoint(q: Queryable, key: AuditKey): Promise<ExportedCheckpoint | null> {
  if (!key.privateKey) throw new Error('signing a checkpoint needs the private audit key');
  const head = await chainHead(q);
  if (!head) return null;
  const [last] = await q<{ seq: bigint }[]>`select seq from nl_audit_checkpoints where key_id = ${key.keyId} order by id desc limit 1`;
  if (last && last.seq === head.seq) return null;
  const body = {
    seq: head.seq.toString(),
    transactionId: head.position.transactionId.toString(),
    globalPosition: head.position.globalPosition.toString(),
    head: head.link.toString('hex'),
    signedAt: new Date().toISOString(),
  };
  const signature = sign(null, checkpointMessage(body), key.privateKey);
  await q`insert into nl_audit_checkpoints (seq, transaction_id, global_position, head, signed_at, key_id, public_key, signature)
    values (${body.seq}, ${body.transactionId}::xid8, ${body.globalPosition}, decode(${body.head}, 'hex'), ${body.signedAt}, ${key.keyId}, ${key.publicPem}, ${signature})`;
  return {
    ...body,
    cursor: encodeCursor(head.position),
    keyId: key.keyId,
    publicKey: key.publicPem,
    signature: signature.toString('base64'),
  };
}

export async function listCheckpoints(q: Queryable): Promise<(ExportedCheckpoint & { id: string })[]> {
  const rows = await q<
    {
      id: bigint;
      seq: bigint;
      transaction_id: string;
      global_position: bigint;
      head: Buffer;
      signed_at: Date;
      key_id: string;
      public_key: string;
      signature: Buffer;
    }[]
  >`
    select id, seq, transaction_id::text, global_position, head, signed_at, key_id, public_key, signature from nl_audit_checkpoints order by id`;
  return rows.map((r) => ({
    id: r.id.toString(),
    seq: r.seq.toString(),
    transactionId: r.transaction_id,
    globalPosition: r.global_position.toString(),
    cursor: encodeCursor({ transactionId: BigInt(r.transaction_id), globalPosition: r.global_position }),
    head: r.head.toString('hex'),
    signedAt: r.signed_at.toISOString(),
    keyId: r.key_id,
    publicKey: r.public_key,
    signature: r.signature.toString('base64'),
  }));
}
