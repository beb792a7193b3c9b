import type { Queryable } from '../db/sql.js';
import type { Principal } from '../domain/policy/index.js';

/**
 * The visibility rules of `domain/policy` (`maySee`, `maySeeEvent`) as SQL, for lists, gets and
 * queries over the log: the read model's rows (`rm_resources`) carry what the rules look at (the
 * owning project, a network's or firewall object's `shared`, a network's `external`). A change to
 * a rule there is a change here.
 */

const PROJECT_PREFIX = 'project-';

/** `maySee` over `rm_resources <alias>`. */
export function resourceVisibilitySql(sql: Queryable, p: Principal, alias = 'r') {
  if (p.isAdmin) return sql`true`;
  const a = sql.unsafe(alias);
  return sql`(${a}.project_id = ${p.projectId}
    or (${a}.kind = 'network' and ((${a}.doc->>'shared')::boolean or (${a}.doc->>'external')::boolean))
    or (${a}.kind = 'subnet' and exists (select 1 from rm_resources n where n.id = ${a}.network_id
          and ((n.doc->>'shared')::boolean or (n.doc->>'external')::boolean)))
    or (${a}.kind in ('firewall_rule', 'firewall_policy') and (${a}.doc->>'shared')::boolean))`;
}

/** `maySeeEvent` over `nl_events e`. */
export function eventVisibilitySql(sql: Queryable, p: Principal) {
  if (p.isAdmin) return sql`true`;
  const id = p.projectId;
  return sql`(e.metadata->>'project' = ${id}
    or e.stream_id = ${PROJECT_PREFIX + id}
    or exists (select 1 from nl_events f where f.stream_id = e.stream_id and f.stream_version = 1 and f.data->>'project' = ${id})
    or (e.stream_id like 'network-%' and exists (select 1 from rm_resources n where n.stream_id = e.stream_id and n.kind = 'network'
          and ((n.doc->>'shared')::boolean or (n.doc->>'external')::boolean))))`;
}
