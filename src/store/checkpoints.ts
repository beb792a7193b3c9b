import type { Queryable } from '../db/sql.js';
import { decodeCursor, encodeCursor, START, type LogPosition } from './cursor.js';

/** Where a named consumer is. Save it in the same transaction as the consumer's own writes. */
export async function loadCheckpoint(q: Queryable, name: string): Promise<LogPosition> {
  const [row] = await q<{ position: string }[]>`select position from nl_checkpoints where name = ${name}`;
  return row ? decodeCursor(row.position) : START;
}

export async function saveCheckpoint(q: Queryable, name: string, position: LogPosition): Promise<void> {
  const cursor = encodeCursor(position);
  await q`insert into nl_checkpoints (name, position) values (${name}, ${cursor})
          on conflict (name) do update set position = excluded.position, updated_at = now()`;
}

export async function deleteCheckpoint(q: Queryable, name: string): Promise<void> {
  await q`delete from nl_checkpoints where name = ${name}`;
}
