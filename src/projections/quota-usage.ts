import type { Queryable } from '../db/sql.js';
import type { QuotaResource } from '../domain/project/events.js';
import { quotaKindsOf, quotaResourceOf } from './aggregate-projection.js';

/**
 * How many live resources of each quota a project holds, counted from its read-model rows (the
 * (kind, project_id) index). Counted when asked rather than kept in a counter row, so creates with
 * an unlimited quota write and lock nothing for it.
 */
export async function quotaUsage(
  q: Queryable,
  projectId: string,
  resources: readonly QuotaResource[],
): Promise<Map<QuotaResource, number>> {
  const kinds = resources.flatMap((r) => quotaKindsOf(r));
  const rows = await q<{ kind: string; n: number }[]>`
    select kind, count(*)::int as n from rm_resources where kind = any(${kinds}) and project_id = ${projectId} group by kind`;
  const used = new Map<QuotaResource, number>(resources.map((r) => [r, 0]));
  for (const row of rows) {
    const resource = quotaResourceOf(row.kind);
    if (resource) used.set(resource, (used.get(resource) ?? 0) + row.n);
  }
  return used;
}
