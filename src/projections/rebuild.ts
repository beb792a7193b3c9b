import type { Queryable, Sql } from '../db/sql.js';
import { deleteCheckpoint, loadCheckpoint, saveCheckpoint } from '../store/checkpoints.js';
import type { LogPosition } from '../store/cursor.js';
import type { EventStore } from '../store/event-store.js';
import type { ProjectedEvent } from '../store/types.js';
import type { Projection } from './projection.js';

export interface RebuildProgress {
  readonly events: number;
  readonly total: number;
}

/** Where a rebuild builds the new read model, and the checkpoint that makes it resumable. */
const SHADOW = 'nl_rebuild';
const CHECKPOINT = 'projections-rebuild';
/** Events per committed batch unless told otherwise. */
export const DEFAULT_BATCH = 20_000;
const APPEND_LOCK = [1852596592, 0] as const; // 'nlap', see migration 008_a

/**
 * Replays the whole log into a new read model beside the live one, then swaps it in. It runs
 * beside a live server: the replay commits in batches (each batch with its checkpoint, so an
 * interrupted rebuild resumes where it stopped), into copies of the projections' tables in schema
 * nl_rebuild, while the server keeps appending and projecting into the live tables. Once caught
 * up, one short transaction holds appenders off (the exclusive side of their advisory lock),
 * replays what is left and swaps the tables. Needs the owner's connection (it creates tables).
 */
export async function rebuildProjections(
  sql: Sql,
  store: EventStore,
  projections: readonly Projection[],
  onProgress: (p: RebuildProgress) => void = () => {},
  batchSize = DEFAULT_BATCH,
  options: { restart?: boolean } = {},
): Promise<number> {
  const [{ schema }] = (await sql<{ schema: string }[]>`select current_schema() as schema`) as unknown as [{ schema: string }];
  const [count] = await sql<{ n: bigint }[]>`select count(*) as n from nl_events`;
  const total = Number(count!.n);
  const inShadow = async (tx: Queryable) => tx.unsafe(`set local search_path = ${SHADOW}, ${quote(schema)}`);

  const [existing] = await sql`select 1 from pg_namespace where nspname = ${SHADOW}`;
  const [saved] = await sql`select 1 from nl_checkpoints where name = ${CHECKPOINT}`;
  if (options.restart || !existing || !saved) {
    await sql.begin(async (tx) => {
      await tx.unsafe(`drop schema if exists ${SHADOW} cascade; create schema ${SHADOW}`);
      const tables = await tx<
        { t: string }[]
      >`select tablename as t from pg_tables where schemaname = ${schema} and tablename like 'rm\\_%'`;
      for (const { t } of tables) await copyTable(tx, schema, t);
      await deleteCheckpoint(tx, CHECKPOINT);
    });
    // The tables a projection empties on reset are its own: those get rebuilt and swapped. The
    // others (written by something other than the log's projections) stay as they are.
    await sql.begin(async (tx) => {
      await inShadow(tx);
      for (const p of projections) await p.reset(tx);
      const owned = await tx<{ t: string }[]>`
        select distinct c.relname as t from pg_locks l join pg_class c on c.oid = l.relation
         where l.pid = pg_backend_pid() and l.mode in ('RowExclusiveLock', 'AccessExclusiveLock') and c.relkind = 'r'
           and c.relnamespace = ${SHADOW}::regnamespace`;
      const keep = new Set(owned.map((r) => r.t));
      const all = await tx<{ t: string }[]>`select tablename as t from pg_tables where schemaname = ${SHADOW}`;
      for (const { t } of all) if (!keep.has(t)) await tx.unsafe(`drop table ${SHADOW}.${quote(t)}`);
      await saveCheckpoint(tx, CHECKPOINT, { transactionId: 0n, globalPosition: 0n });
    });
  }

  let position = await loadCheckpoint(sql, CHECKPOINT);
  const [before] = await sql<{ n: bigint }[]>`select count(*) as n from nl_events
    where (transaction_id, global_position) <= (${position.transactionId.toString()}::xid8, ${position.globalPosition})`;
  let done = Number(before!.n);
  // Batches beside the live server, each committed with its checkpoint. The log is read ahead
  // (outside the batches' transactions, on a second connection when `sql` has one) while the
  // batch before is folded and written: reading and decoding cost about as much as the writes.
  const catchUp = async () => {
    // Read in the log's order by its index, whatever the statistics say: with none yet (a log
    // just imported or loaded) PostgreSQL would rather fetch everything after `after` and sort it,
    // for every page, making the whole read quadratic.
    const read = (after: LogPosition) =>
      sql.begin(async (tx) => {
        await tx`set local enable_sort = off`;
        return store.readForProjections(after, batchSize, tx);
      }) as Promise<ProjectedEvent[]>;
    for await (const events of readAhead(read, position, batchSize)) {
      const last = events[events.length - 1]!.position;
      await sql.begin(async (tx) => {
        // A batch lost in a crash is lost with its checkpoint (one transaction): the rebuild
        // resumes before it, so these commits need not wait for the disk.
        await tx.unsafe(`set local search_path = ${SHADOW}, ${quote(schema)}; set local synchronous_commit = off`);
        for (const p of projections) await p.apply(tx, events);
        await saveCheckpoint(tx, CHECKPOINT, last);
      });
      position = last;
      done += events.length;
      onProgress({ events: done, total: Math.max(total, done) });
    }
  };
  await catchUp();
  // Built once over the whole table rather than kept up row by row through the replay.
  await createDeferredIndexes(sql, schema);
  // What the live server appended meanwhile, so that appenders wait only for what comes after.
  await catchUp();
  // Caught up: appenders wait for this one short transaction.
  return sql.begin(async (tx) => {
    await lockOutAppenders(tx);
    await inShadow(tx);
    done += await replayRest(tx, store, projections, position, batchSize);
    await tx.unsafe(`set local search_path = ${quote(schema)}`);
    const tables = await tx<{ t: string }[]>`select tablename as t from pg_tables where schemaname = ${SHADOW}`;
    for (const { t } of tables) {
      // The new table takes the old one's grants (the app role's among them).
      const grants = await tx<{ grantee: string; privilege: string }[]>`
        select coalesce(r.rolname, 'public') as grantee, a.privilege_type as privilege
          from pg_class c cross join lateral aclexplode(c.relacl) a left join pg_roles r on r.oid = a.grantee
         where c.oid = ${`${quote(schema)}.${quote(t)}`}::regclass`;
      await tx.unsafe(`drop table ${quote(schema)}.${quote(t)}`);
      await tx.unsafe(`alter table ${SHADOW}.${quote(t)} set schema ${quote(schema)}`);
      for (const g of grants)
        await tx.unsafe(`grant ${g.privilege} on ${quote(schema)}.${quote(t)} to ${g.grantee === 'public' ? 'public' : quote(g.grantee)}`);
    }
    await tx.unsafe(`drop schema ${SHADOW} cascade`);
    await deleteCheckpoint(tx, CHECKPOINT);
    onProgress({ events: done, total: Math.max(total, done) });
    return done;
  }) as Promise<number>;
}

/**
 * An empty copy of a table in the shadow schema, its constraints and indexes under their own
 * names (LIKE … INCLUDING INDEXES would invent new ones), so that after the swap later
 * migrations still find them by name; the indexes of DEFERRED_INDEXES tables come later.
 */
async function copyTable(tx: Queryable, schema: string, t: string): Promise<void> {
  const original = `${quote(schema)}.${quote(t)}`;
  await tx.unsafe(`create table ${SHADOW}.${quote(t)} (like ${original} including all excluding indexes)`);
  const constraints = await tx<{ name: string; def: string }[]>`
    select conname as name, pg_get_constraintdef(oid) as def from pg_constraint
     where conrelid = ${original}::regclass and contype in ('p', 'u', 'x') order by conname`;
  for (const c of constraints) await tx.unsafe(`alter table ${SHADOW}.${quote(t)} add constraint ${quote(c.name)} ${c.def}`);
  if (DEFERRED_INDEXES.has(t)) return;
  const indexes = await tx<{ def: string; qualified: string }[]>`
    select pg_get_indexdef(i.indexrelid) as def, format('%I.%I', ${schema}::text, ${t}::text) as qualified from pg_index i
     where i.indrelid = ${original}::regclass and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)`;
  for (const i of indexes) await tx.unsafe(shadowIndex(t, i));
}

function shadowIndex(t: string, i: { def: string; qualified: string }): string {
  const def = i.def.replace(` ON ${i.qualified} `, ` ON ${SHADOW}.${quote(t)} `);
  if (def === i.def) throw new Error(`cannot copy index of ${t}: ${i.def}`);
  return def;
}

/**
 * Tables whose secondary indexes are made after the replay, not kept up through it: rm_resources
 * has seven, and the replay writes it only through its primary key (aggregate-projection.ts).
 * Tables that projections search by a secondary index while replaying (rm_ip_allocations by port)
 * keep theirs throughout.
 */
const DEFERRED_INDEXES = new Set(['rm_resources']);

/**
 * The deferred tables' indexes that no constraint owns, made on their shadow copies under the
 * same names (LIKE … INCLUDING INDEXES would invent new ones), so that after the swap later
 * migrations still find them by name. Those already made (a resumed rebuild) are left alone.
 */
async function createDeferredIndexes(sql: Sql, schema: string): Promise<void> {
  const indexes = await sql<{ t: string; name: string; def: string; qualified: string }[]>`
    select t.tablename as t, c.relname as name, pg_get_indexdef(i.indexrelid) as def, format('%I.%I', ${schema}::text, t.tablename::text) as qualified
      from pg_tables t
      join pg_index i on i.indrelid = format('%I.%I', ${schema}::text, t.tablename::text)::regclass
      join pg_class c on c.oid = i.indexrelid
     where t.schemaname = ${SHADOW} and t.tablename = any(${[...DEFERRED_INDEXES]}::text[])
       and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)
       and not exists (select 1 from pg_class s where s.relname = c.relname and s.relnamespace = ${SHADOW}::regnamespace)
     order by 1, 2`;
  for (const i of indexes) await sql.unsafe(shadowIndex(i.t, i));
}

/**
 * The log after `from` in pages of `size`, each read as soon as the one before it has arrived (up
 * to `depth` pages waiting), so that reading overlaps the caller's work on the pages it has. A
 * page shorter than `size` is the last: what comes after it is left to the caller.
 */
async function* readAhead<T extends { position: LogPosition }>(
  read: (after: LogPosition) => Promise<T[]>,
  from: LogPosition,
  size: number,
  depth = 2,
): AsyncGenerator<T[]> {
  const next = (page: Promise<T[]>): Promise<T[]> => {
    const p = page.then((events) => (events.length === size ? read(events[events.length - 1]!.position) : []));
    // Awaited below unless the caller stops first; then its own failure is the one to report.
    p.catch(() => {});
    return p;
  };
  const first = read(from);
  first.catch(() => {});
  const pending = [first];
  while (pending.length < depth) pending.push(next(pending[pending.length - 1]!));
  for (;;) {
    const events = await pending.shift()!;
    if (events.length === 0) return;
    pending.push(next(pending[pending.length - 1]!));
    yield events;
    if (events.length < size) return;
  }
}

function quote(ident: string): string {
  return `"${ident.replace(/"/g, '""')}"`;
}

/**
 * Holds every appender off until `tx` ends (the exclusive side of the lock appends take shared):
 * what is committed then is the whole log, so nothing in flight can be overtaken.
 */
export async function lockOutAppenders(tx: Queryable): Promise<void> {
  await tx`select pg_advisory_xact_lock(${APPEND_LOCK[0]}, ${APPEND_LOCK[1]})`;
}

/** Folds every event after `from` into `projections` inside `tx`, whose appenders are locked out; answers how many. */
export async function replayRest(
  tx: Queryable,
  store: EventStore,
  projections: readonly Projection[],
  from: LogPosition,
  batchSize: number,
): Promise<number> {
  let position = from;
  let count = 0;
  for (;;) {
    const events = await store.readForProjections(position, batchSize, tx, { writersLockedOut: true });
    if (events.length === 0) return count;
    for (const p of projections) await p.apply(tx, events);
    position = events[events.length - 1]!.position;
    count += events.length;
  }
}

/** A stable digest of every read-model table: a rebuild from the log must give the same one. */
export async function readModelChecksum(sql: Queryable): Promise<{ digest: string; tables: Record<string, string> }> {
  const tables = await sql<{ table_name: string }[]>`
    select table_name from information_schema.tables where table_schema = current_schema() and table_name like 'rm\\_%' order by table_name`;
  const out: Record<string, string> = {};
  for (const { table_name } of tables) {
    const [row] = await sql<
      { d: string }[]
    >`select md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) as d from ${sql(table_name)} t`;
    out[table_name] = row!.d;
  }
  const [all] = await sql<{ d: string }[]>`select md5(${Object.entries(out)
    .map(([k, v]) => `${k}:${v}`)
    .join('\n')}) as d`;
  return { digest: all!.d, tables: out };
}
