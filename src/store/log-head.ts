import type { Queryable } from '../db/sql.js';
import type { LogPosition } from './cursor.js';

/**
 * The newest event every reader can see now (readAll's visibility rule), or null for an empty log.
 * ORDER BY names the table's column: the select list's `transaction_id::text` keeps the name
 * `transaction_id`, and an unqualified ORDER BY would sort that text ('1000' < '999').
 */
export async function visibleHead(q: Queryable): Promise<LogPosition | null> {
  const [row] = await q<{ xid: string; global_position: bigint }[]>`
    select e.transaction_id::text as xid, e.global_position from nl_events e
     where e.transaction_id < nl_log_horizon()
     order by e.transaction_id desc, e.global_position desc limit 1`;
  return row ? { transactionId: BigInt(row.xid), globalPosition: BigInt(row.global_position) } : null;
}
