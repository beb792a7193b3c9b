import type { Queryable } from '../../db/sql.js';
import type { Agent } from '../../domain/agent/index.js';
import { listAgents } from '../agents-projection.js';
import type { Topology } from '../desired-state/topology.js';

/** A resource row as topology parts see it: the read-model document and its revision. */
export interface ResourceDoc<D> {
  readonly id: string;
  readonly revision: number;
  readonly doc: D;
}

/**
 * The read model, as of one snapshot, to every part of one topology build. `docs(kind)` is read
 * once per build whichever parts ask for it, so parts may share kinds freely.
 */
export interface TopologySource {
  docs<D>(kind: string): Promise<readonly ResourceDoc<D>[]>;
  /** The snapshot's transaction, for parts that need a query of their own. */
  readonly q: Queryable;
  /**
   * The registered agents the build needs (tunnel endpoints, DVR MACs), read once per build; a
   * host's slice holds only the hosts its ports are bound to. Absent: every agent.
   */
  agents?(): Promise<readonly Agent[]>;
}

/** What one part adds: any of the topology's lists (concatenated with the other parts' lists). */
export type TopologyFragment = { readonly [K in keyof Topology]?: Topology[K] };
export type TopologyPart = (source: TopologySource) => Promise<TopologyFragment>;

/** Concatenates the parts' lists, key by key. */
export function mergeFragments(fragments: readonly TopologyFragment[]): Topology {
  const out: Record<string, unknown[]> = { networks: [], ports: [], routers: [], floatingIps: [] };
  for (const f of fragments) {
    for (const [key, list] of Object.entries(f) as [string, readonly unknown[] | undefined][]) {
      if (list) out[key] = [...(out[key] ?? []), ...list];
    }
  }
  return out as unknown as Topology;
}

type Row = { kind: string; id: string; revision: bigint; doc: unknown };
const toDoc = (r: Omit<Row, 'kind'>): ResourceDoc<unknown> => ({ id: r.id, revision: Number(r.revision), doc: r.doc });

/**
 * Reads resource documents of one kind, memoized for the life of the source. `preload` kinds are
 * read up front in one query (a host's slice reads several small kinds whole: one round trip).
 */
export function readModelSource(q: Queryable, preload: readonly string[] = []): TopologySource {
  const cache = new Map<string, Promise<readonly ResourceDoc<unknown>[]>>();
  if (preload.length > 0) {
    const all = q<Row[]>`select kind, id, revision, doc from rm_resources where kind = any(${preload as string[]}::text[])`;
    // A failed read fails the part that awaits it; here it is only started.
    all.catch(() => undefined);
    for (const kind of preload)
      cache.set(
        kind,
        all.then((rows) => rows.filter((r) => r.kind === kind).map(toDoc)),
      );
  }
  let agents: Promise<readonly Agent[]> | undefined;
  return {
    q,
    agents: () => (agents ??= listAgents(q)),
    docs<D>(kind: string) {
      let hit = cache.get(kind);
      if (!hit) {
        hit = q<Omit<Row, 'kind'>[]>`select id, revision, doc from rm_resources where kind = ${kind}`.then((rows) => rows.map(toDoc));
        cache.set(kind, hit);
      }
      return hit as Promise<readonly ResourceDoc<D>[]>;
    },
  };
}

/** The documents of one kind, without their revisions. */
export async function docsOf<D>(source: TopologySource, kind: string): Promise<D[]> {
  return (await source.docs<D>(kind)).map((r) => r.doc);
}

/** The agents a build reads (TopologySource.agents). */
export function agentsOf(source: TopologySource): Promise<readonly Agent[]> {
  return source.agents ? source.agents() : listAgents(source.q);
}
