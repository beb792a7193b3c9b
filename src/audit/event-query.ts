import type { Services } from '../app/services.js';
import { aggregateKinds } from '../app/registry.js';
import { decodeCursor, START } from '../store/cursor.js';
import { filterSql, type EventFilter } from './event-filter.js';
import { LOG_COLUMNS, recordedFromRow, type LogRow } from './log-rows.js';
import type { Principal } from '../domain/policy/index.js';
import { eventVisibilitySql } from '../projections/policy-sql.js';
import { StreamOwners, type OwnedEvent } from './visibility.js';

export const MAX_EVENTS_PAGE = 1000;

/** Every stream type the log holds: the aggregates' and the projects'. */
export function knownStreamTypes(): string[] {
  return ['project', ...new Set(aggregateKinds().map((k) => k.streamType))];
}

export interface EventPage {
  readonly events: readonly OwnedEvent[];
  readonly hasNextPage: boolean;
  readonly hasPreviousPage: boolean;
}

/**
 * One page of the log in its global order, narrowed by `filter` and by what `viewer` may see.
 * Only events every reader can already see are listed, so paging on with the last cursor never
 * skips a late commit. `last` pages backwards from `before` (or from the head).
 */
export async function queryEvents(
  s: Pick<Services, 'sql' | 'store'>,
  viewer: Principal,
  filter: EventFilter,
  page: { first?: number | null; after?: string | null; last?: number | null; before?: string | null },
): Promise<EventPage> {
  const sql = s.sql;
  const backwards = page.last != null && page.first == null;
  const size = Math.min(Math.max(0, (backwards ? page.last : page.first) ?? 100), MAX_EVENTS_PAGE);
  const from = page.after ? decodeCursor(page.after) : START;
  const until = page.before ? decodeCursor(page.before) : null;
  const rows = await sql<LogRow[]>`
    select ${sql.unsafe(LOG_COLUMNS)} from nl_events e
     where (e.transaction_id, e.global_position) > (${from.transactionId.toString()}::xid8, ${from.globalPosition})
       ${until ? sql`and (e.transaction_id, e.global_position) < (${until.transactionId.toString()}::xid8, ${until.globalPosition})` : sql``}
       and e.transaction_id < nl_log_horizon()
       and ${filterSql(sql, filter, knownStreamTypes())}
       and ${eventVisibilitySql(sql, viewer)}
     order by e.transaction_id ${backwards ? sql`desc` : sql`asc`}, e.global_position ${backwards ? sql`desc` : sql`asc`}
     limit ${size + 1}`;
  const more = rows.length > size;
  const slice = rows.slice(0, size);
  if (backwards) slice.reverse();
  const events = await new StreamOwners(sql).annotate(slice.map((r) => recordedFromRow(s.store.registry, r)));
  return { events, hasNextPage: backwards ? Boolean(until) : more, hasPreviousPage: backwards ? more : page.after != null };
}
