import { domainError, type DomainError } from '../domain/errors.js';
import { DEFAULT_QUOTAS, type QuotaResource } from '../domain/project/events.js';
import { quotaResourceOf } from '../projections/aggregate-projection.js';
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

/**
 * An append may not take a project past a quota. The rows the appended streams show before and
 * after the projections give what the append added; each count that grew against a finite limit is
 * then counted from the read model under a transaction-scoped advisory lock on (project, resource),
 * so racing creates in one project count one after the other, each seeing the commits before it:
 * of 50 racing creates against a quota of 10, exactly 10 commit. An unlimited quota takes no lock
 * and writes nothing. Only growth is refused: a delete or an update in a project already past a
 * lowered limit still goes through.
 */
export const enforceQuota: AppendRule = async (tx: Tx, events: readonly RecordedEvent[]) => {
  const streams = [...new Set(events.map((e) => e.streamId))];
  // A stream whose first event here is its version 1 starts with this append: it had no rows.
  const existing = streams.filter((id) => events.find((e) => e.streamId === id)!.streamVersion > 1);
  const before = existing.length > 0 ? await countRows(tx, existing) : [];
  return async (): Promise<DomainError | null> => {
    // The limits of every project these streams belong to come down the connection right behind
    // the count (pipelined): one round trip for both.
    const [after, limits] = await Promise.all([
      countRows(tx, streams),
      tx<{ project_id: string; resource: string; max_count: number }[]>`
        select project_id, resource, max_count from rm_quota_limits
         where project_id in (select project_id from rm_resources where stream_id = any(${streams as string[]}))`,
    ]);
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
  };
};
