import type { Sql } from '../db/sql.js';
import { START } from '../store/cursor.js';
import type { EventStore } from '../store/event-store.js';
import type { AggregateKind, ResourceRow } from './aggregate-kind.js';
import { decodeState } from './json-state.js';
import type { Projection } from './projection.js';
import { lockOutAppenders, readModelChecksum, replayRest } from './rebuild.js';

export interface ReadModelDrift {
  /** Streams whose stored state is not at the log's version. */
  readonly streamsOutOfStep: number;
  /** Resource rows missing, extra (another stream's, or none's) or different from what the stored states show. */
  readonly rowsOutOfStep: number;
}

interface StoredRow {
  stream_id: string;
  kind: string;
  id: string;
  project_id: string;
  name: string;
  tags: string[];
  network_id: string | null;
  revision: bigint;
  updated_at: Date;
  doc: unknown;
}

/** JSON with sorted keys: jsonb does not keep key order. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : x,
  );
}

const keyOf = (streamId: string, kind: string, id: string) => `${streamId}\u0000${kind}\u0000${id.toLowerCase()}`;

function expectedOf(r: ResourceRow): string {
  return canonical([
    r.project,
    r.name,
    r.tags,
    r.networkId?.toLowerCase() ?? null,
    r.revision,
    new Date(r.updatedAt).getTime(),
    JSON.parse(JSON.stringify(r.doc)) as unknown,
  ]);
}

function storedOf(r: StoredRow): string {
  return canonical([r.project_id, r.name, r.tags, r.network_id, Number(r.revision), r.updated_at.getTime(), r.doc]);
}

/**
 * Checks the inline read model without replaying the log: every stored state is at its stream's
 * version, and the resource rows are exactly those the stored states show (a row overwritten by
 * another stream, edited, or left behind counts). One consistent snapshot, so live writers cannot
 * cause false alarms; cost grows with the read model, not the log.
 */
export async function readModelDrift(sql: Sql, kinds: readonly AggregateKind[], batchSize = 500): Promise<ReadModelDrift> {
  const byType = new Map(kinds.map((k) => [k.streamType, k]));
  return sql.begin('isolation level repeatable read read only', async (tx) => {
    const [drift] = await tx<{ n: bigint }[]>`
      select count(*) as n from nl_streams st left join rm_aggregates a on a.stream_id = st.stream_id
       where st.stream_type = any(${[...byType.keys()]}::text[]) and a.version is distinct from st.version`;
    let rowsOutOfStep = 0;
    let after = '';
    for (;;) {
      const states = await tx<{ stream_id: string; version: bigint; state: unknown }[]>`
        select stream_id, version, state from rm_aggregates where stream_id > ${after} order by stream_id limit ${batchSize}`;
      if (states.length === 0) break;
      after = states[states.length - 1]!.stream_id;
      const expected = new Map<string, string>();
      for (const s of states) {
        const kind = byType.get(s.stream_id.slice(0, s.stream_id.indexOf('-')));
        if (!kind) continue;
        for (const r of kind.resources(decodeState(s.state), Number(s.version)))
          expected.set(keyOf(s.stream_id, r.kind, r.id), expectedOf(r));
      }
      const stored = await tx<StoredRow[]>`
        select stream_id, kind, id::text, project_id, name, tags, network_id::text, revision, updated_at, doc
          from rm_resources where stream_id = any(${states.map((s) => s.stream_id)}::text[])`;
      const found = new Map(stored.map((r) => [keyOf(r.stream_id, r.kind, r.id), storedOf(r)]));
      for (const [k, e] of expected) if (found.get(k) !== e) rowsOutOfStep++;
      for (const k of found.keys()) if (!expected.has(k)) rowsOutOfStep++;
    }
    const [orphans] = await tx<{ n: bigint }[]>`
      select count(*) as n from rm_resources r where not exists (select 1 from rm_aggregates a where a.stream_id = r.stream_id)`;
    return { streamsOutOfStep: Number(drift!.n), rowsOutOfStep: rowsOutOfStep + Number(orphans!.n) };
  });
}

export interface ReadModelVerification {
  readonly live: string;
  readonly replayed: string;
  /** Read-model tables whose digest differs from a replay of the log. */
  readonly differing: readonly string[];
}

class RolledBack extends Error {
  constructor(readonly result: ReadModelVerification) {
    super('verification replay rolled back');
  }
}

/**
 * The thorough check: replays the whole log into the read model inside a transaction that is then
 * rolled back, and compares every table's digest with the live one. Appenders wait meanwhile (the
 * same lock a rebuild's last step takes), so it costs what a rebuild costs.
 */
export async function verifyReadModel(
  sql: Sql,
  store: EventStore,
  projections: readonly Projection[],
  batchSize = 5000,
): Promise<ReadModelVerification> {
  try {
    await sql.begin(async (tx) => {
      await lockOutAppenders(tx);
      const live = await readModelChecksum(tx);
      for (const p of projections) await p.reset(tx);
      await replayRest(tx, store, projections, START, batchSize);
      const replayed = await readModelChecksum(tx);
      const differing = Object.keys({ ...live.tables, ...replayed.tables })
        .filter((t) => live.tables[t] !== replayed.tables[t])
        .sort();
      throw new RolledBack({ live: live.digest, replayed: replayed.digest, differing });
    });
  } catch (e) {
    if (e instanceof RolledBack) return e.result;
    throw e;
  }
  throw new Error('unreachable: the verification transaction always rolls back');
}
