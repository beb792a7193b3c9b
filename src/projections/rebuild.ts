import type { Queryable, Sql } from '../db/sql.js';
import { START } from '../store/cursor.js';
import type { EventStore } from '../store/event-store.js';
import type { Projection } from './projection.js';

export interface RebuildProgress {
  readonly events: number;
  readonly total: number;
}

/**
 * Empties the read model and replays the whole log into it, in one transaction that holds writers
 * off (SHARE lock on nl_streams), so the result is exactly the log and nobody sees it half-built.
 */
export async function rebuildProjections(
  sql: Sql,
  store: EventStore,
  projections: readonly Projection[],
  onProgress: (p: RebuildProgress) => void = () => {},
  batchSize = 5000,
): Promise<number> {
  return sql.begin(async (tx) => {
    await tx`lock table nl_streams in share mode`;
    const [count] = await tx<{ n: bigint }[]>`select count(*) as n from nl_events`;
    const total = Number(count!.n);
    for (const p of projections) await p.reset(tx);
    let position = START;
    let done = 0;
    for (;;) {
      const events = await store.readAll(position, batchSize, tx, { writersLockedOut: true });
      if (events.length === 0) break;
      for (const p of projections) await p.apply(tx, events);
      position = events[events.length - 1]!.position;
      done += events.length;
      onProgress({ events: done, total });
    }
    return done;
  });
}

/** A stable digest of every read-model table: a rebuild from the log must give the same one. */
export async function readModelChecksum(sql: Queryable): Promise<{ digest: string; tables: Record<string, string> }> {
  const tables = await sql<{ table_name: string }[]>`
    select table_name from information_schema.tables where table_schema = current_schema() and table_name like 'rm\\_%' order by table_name`;
  const out: Record<string, string> = {};
  for (const { table_name } of tables) {
    const [row] = await sql<{ d: string }[]>`select md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) as d from ${sql(table_name)} t`;
    out[table_name] = row!.d;
  }
  const [all] = await sql<{ d: string }[]>`select md5(${Object.entries(out).map(([k, v]) => `${k}:${v}`).join('\n')}) as d`;
  return { digest: all!.d, tables: out };
}
