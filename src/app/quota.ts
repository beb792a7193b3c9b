import { domainError, type DomainError } from '../domain/errors.js';
import { DEFAULT_QUOTAS, type QuotaResource } from '../domain/project/events.js';
import { quotaResourceOf, type AggregateProjection } from '../projections/aggregate-projection.js';
import { quotaUsage } from '../projections/quota-usage.js';
import type { RecordedEvent } from '../store/types.js';
import type { AppendRule, Tx } from './command-runtime.js';

interface Counted {
  readonly kind: string;
  readonly project_id: string;
  readonly n: number;
}

/** Sent at once (`execute`), so it runs before whatever the caller sends next. */
function countRows(tx: Tx, streams: readonly string[]): Promise<Counted[]> {
  return tx<
    Counted[]
  >`select kind, project_id, count(*)::int as n from rm_resources where stream_id = any(${streams as string[]}) group by kind, project_id`.execute();
}

type Limit = { project_id: string; resource: string; max_count: number };

/** The limits of the given projects, sent at once. */
function limitsOf(tx: Tx, projects: readonly string[]): Promise<Limit[]> {
  return tx<Limit[]>`select project_id, resource, max_count from rm_quota_limits where project_id = any(${projects as string[]})`.execute();
}

/**
 * An append may not take a project past a quota. The rows the appended streams show before and
 * after the projections give what the append added; each count that grew against a finite limit is
 * then counted from the read model under a transaction-scoped advisory lock on (project, resource),
 * so racing creates in one project count one after the other, each seeing the commits before it:
 * of 50 racing creates against a quota of 10, exactly 10 commit. An unlimited quota takes no lock
 * and writes nothing. Only growth is refused: a delete or an update in a project already past a
 * lowered limit still goes through.
 *
 * A stream the append starts had no rows, and the rows it will have are its events' fold
 * (`rowsOfNewStream`, the one the projection writes), so neither count is read for it, and its
 * projects' limits go down the connection with the projections' writes: a create under an
 * unlimited quota costs no round trip of its own.
 */
export function enforceQuota(aggregates: Pick<AggregateProjection, 'kindOf' | 'rowsOfNewStream'>): AppendRule {
  return async (tx: Tx, events: readonly RecordedEvent[]) => {
    const existing: string[] = [];
    const fresh: Counted[] = [];
    for (const id of new Set(events.map((e) => e.streamId))) {
      if (!aggregates.kindOf(id)) continue; // no read-model rows, nothing counted
      const rows = aggregates.rowsOfNewStream(id, events);
      if (rows) fresh.push(...rows.map((r) => ({ kind: r.kind, project_id: r.project, n: 1 })));
      else existing.push(id);
    }
    const freshProjects = [...new Set(fresh.map((r) => r.project_id))];
    const [before, freshLimits] = await Promise.all([
      existing.length > 0 ? countRows(tx, existing) : [],
      freshProjects.length > 0 ? limitsOf(tx, freshProjects) : [],
    ]);
    return async (): Promise<DomainError | null> => {
      // The limits of every project the existing streams belong to come down the connection right
      // behind their count (pipelined): one round trip for both.
      const [after, limits] =
        existing.length > 0
          ? await Promise.all([
              countRows(tx, existing),
              tx<Limit[]>`
                select project_id, resource, max_count from rm_quota_limits
                 where project_id in (select project_id from rm_resources where stream_id = any(${existing}))`,
            ])
          : [[], []];
      return overQuota(tx, before, [...after, ...fresh], [...freshLimits, ...limits]);
    };
  };
}

async function overQuota(
  tx: Tx,
  before: readonly Counted[],
  after: readonly Counted[],
  limits: readonly Limit[],
): Promise<DomainError | null> {
  const delta = new Map<string, { project: string; resource: QuotaResource; n: number }>();
  for (const [rows, sign] of [
    [before, -1],
    [after, 1],
  ] as const) {
    for (const r of rows) {
      const resource = quotaResourceOf(r.kind);
      if (!resource) continue;
      const key = `${r.project_id}\u0000${resource}`;
      const d = delta.get(key) ?? { project: r.project_id, resource, n: 0 };
      d.n += sign * r.n;
      delta.set(key, d);
    }
  }
  const grown = [...delta.values()].filter((x) => x.n > 0);
  if (grown.length === 0) return null;
  // Sorted so concurrent transactions take the locks in one order (no deadlock).
  for (const d of grown.sort((a, b) => (a.project + a.resource < b.project + b.resource ? -1 : 1))) {
    const { resource } = d;
    const max = limits.find((l) => l.project_id === d.project && l.resource === resource)?.max_count ?? DEFAULT_QUOTAS[resource];
    if (max < 0) continue;
    // Held until commit; the count is a new statement, so it sees whatever committed before.
    await tx`select pg_advisory_xact_lock(hashtextextended(${`quota:${d.project}:${resource}`}, 0))`;
    const used = (await quotaUsage(tx, d.project, [resource])).get(resource) ?? 0;
    if (used > max) {
      return domainError('OverQuota', `Quota exceeded for resources: ['${resource}'].`, { details: { resource, limit: max } });
    }
  }
  return null;
}
