import { domainError, type DomainError } from '../domain/errors.js';
import { DEFAULT_QUOTAS, type QuotaResource } from '../domain/project/events.js';
import { quotaResourceOf } from '../projections/aggregate-projection.js';
import type { RecordedEvent } from '../store/types.js';
import type { AppendRule, Tx } from './command-runtime.js';

interface Counted {
  readonly kind: string;
  readonly project_id: string;
  readonly n: number;
}

async function countRows(tx: Tx, streams: readonly string[]): Promise<Counted[]> {
  return tx<Counted[]>`select kind, project_id, count(*)::int as n from rm_resources where stream_id = any(${streams as string[]}) group by kind, project_id`;
}

/**
 * An append may not take a project past a quota. The projections only count (rm_quota_usage); the
 * decision is here: the rows the appended streams show before and after the projections give what
 * the append added, and each count that grew is read back after the projection moved it. That
 * upsert holds the usage row's lock until commit, so the count read is exact whatever runs
 * concurrently: of 50 racing creates against a quota of 10, exactly 10 commit. Only growth is
 * refused: a delete or an update in a project already past a lowered limit still goes through.
 */
export const enforceQuota: AppendRule = async (tx: Tx, events: readonly RecordedEvent[]) => {
  const streams = [...new Set(events.map((e) => e.streamId))];
  const before = await countRows(tx, streams);
  return async (): Promise<DomainError | null> => {
    const delta = new Map<string, { project: string; resource: QuotaResource; n: number }>();
    for (const [rows, sign] of [[before, -1], [await countRows(tx, streams), 1]] as const) {
      for (const r of rows) {
        const resource = quotaResourceOf(r.kind);
        if (!resource) continue;
        const key = `${r.project_id}\u0000${resource}`;
        const d = delta.get(key) ?? { project: r.project_id, resource, n: 0 };
        d.n += sign * r.n;
        delta.set(key, d);
      }
    }
    for (const d of [...delta.values()].filter((x) => x.n > 0).sort((a, b) => (a.project + a.resource < b.project + b.resource ? -1 : 1))) {
      const { resource } = d;
      const [row] = await tx<{ used: number; max_count: number | null }[]>`
        select u.used, (select max_count from rm_quota_limits l where l.project_id = u.project_id and l.resource = u.resource) as max_count
          from rm_quota_usage u where u.project_id = ${d.project} and u.resource = ${resource}`;
      if (!row) continue;
      const max = row.max_count ?? DEFAULT_QUOTAS[resource];
      if (max >= 0 && row.used > max) {
        return domainError('OverQuota', `Quota exceeded for resources: ['${resource}'].`, { details: { resource, limit: max } });
      }
    }
    return null;
  };
};
