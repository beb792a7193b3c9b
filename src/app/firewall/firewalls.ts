import { randomUUID } from 'node:crypto';
import type { Lifecycle } from '../../domain/common/index.js';
import { notFound } from '../../domain/common/index.js';
import { isDomainError, type DomainError } from '../../domain/errors.js';
import {
  firewallGroupDecider,
  firewallGroupStreamId,
  firewallPolicyDecider,
  firewallPolicyStreamId,
  firewallRuleDecider,
  firewallRuleStreamId,
  type FirewallGroup,
  type FirewallGroupInput,
  type FirewallPolicy,
  type FirewallPolicyInput,
  type FirewallPortFacts,
  type FirewallRule,
  type FirewallRuleInput,
} from '../../domain/firewall/index.js';
import type { EventMetadata } from '../../store/types.js';
import type { PlannedAppend, Tx } from '../command-runtime.js';
import { isUuid } from '../networking/facts.js';
import { decideAppend } from '../plan.js';
import { resourceVisibilitySql } from '../../projections/policy-sql.js';
import type { Services } from '../services.js';
import { loadOwn, lockRow } from '../routing/own.js';
import { mayReference, type Principal } from '../../domain/policy/index.js';

/**
 * FWaaS v2 commands. Facts the deciders need from other aggregates (visible rules and policies,
 * the ports named, which group holds a port) are read from the read model inside the append
 * transaction, with the rows they depend on locked.
 */

const revision = (expectedRevision: number | undefined) => (expectedRevision !== undefined ? { expectedRevision } : {});
const now = (): string => new Date().toISOString();

/** Ids among `ids` of `kind` that exist and the actor may use: its own, shared ones, any for an admin. */
async function visibleIds(
  tx: Tx,
  actor: Principal,
  kind: 'firewall_rule' | 'firewall_policy',
  ids: readonly (string | null | undefined)[],
): Promise<string[]> {
  const wanted = [...new Set(ids.filter((x): x is string => typeof x === 'string' && isUuid(x)))];
  if (wanted.length === 0) return [];
  const rows = await tx<{ id: string }[]>`
    select id from rm_resources r where kind = ${kind} and id = any(${wanted}::uuid[]) and ${resourceVisibilitySql(tx, actor)} for share`;
  return rows.map((r) => r.id);
}

/** The ports a group names; one the actor may not see is reported as not existing, like a missing one. */
async function portFacts(tx: Tx, actor: Principal, ports: readonly string[] | undefined): Promise<FirewallPortFacts[]> {
  const out: FirewallPortFacts[] = [];
  for (const id of ports ?? []) {
    if (!isUuid(id)) {
      out.push({ id, exists: false, project: '', deviceOwner: '', usedByGroup: null });
      continue;
    }
    // Locked for update: two groups claiming one port serialise here.
    const [port] = await tx<{ project_id: string; owner: string }[]>`
      select project_id, doc->>'deviceOwner' as owner from rm_resources where id = ${id} and kind = 'port' for update`;
    const [holder] = await tx<{ id: string }[]>`select id from rm_resources where kind = 'firewall_group' and doc->'ports' ? ${id} limit 1`;
    const visible = port !== undefined && mayReference(actor, 'port', { project: port.project_id });
    out.push({ id, exists: visible, project: port?.project_id ?? '', deviceOwner: port?.owner ?? '', usedByGroup: holder?.id ?? null });
  }
  return out;
}

// ---- rules ----

export type FirewallRuleCreate = FirewallRuleInput & { readonly id?: string };

export function createFirewallRule(s: Services, actor: Principal, input: FirewallRuleCreate, metadata: EventMetadata) {
  return s.runtime.execute(metadata, async (tx) => planCreateRule(s, tx, actor.projectId, input));
}

async function planCreateRule(s: Services, tx: Tx, project: string, input: FirewallRuleCreate) {
  const id = input.id ?? randomUUID();
  const loaded = await s.aggregates.load<Lifecycle<FirewallRule>>(tx, firewallRuleStreamId(id));
  const append = decideAppend(firewallRuleDecider, loaded, firewallRuleStreamId(id), {
    ...input,
    type: 'CreateFirewallRule',
    id,
    project,
    now: now(),
  });
  return isDomainError(append) ? append : { appends: [append], result: id };
}

/**
 * The groups that apply any of `policyIds` wait for the agent again (PENDING_UPDATE), as
 * neutron-fwaas marks them when a policy or one of its rules changes. Nothing when `changed` is
 * an append without events. A group changing meanwhile fails the append's expected version, and
 * the command runs again.
 */
async function regroupPending(s: Services, tx: Tx, changed: PlannedAppend, policyIds: readonly string[]): Promise<PlannedAppend[]> {
  if (changed.events.length === 0 || policyIds.length === 0) return [];
  const groups = await tx<{ id: string }[]>`
    select id from rm_resources where kind = 'firewall_group'
       and (doc->>'ingressFirewallPolicyId' = any(${[...policyIds]}::text[]) or doc->>'egressFirewallPolicyId' = any(${[...policyIds]}::text[]))
     order by id`;
  const appends: PlannedAppend[] = [];
  for (const { id } of groups) {
    const loaded = await s.aggregates.load<Lifecycle<FirewallGroup>>(tx, firewallGroupStreamId(id));
    const append = decideAppend(firewallGroupDecider, loaded, firewallGroupStreamId(id), {
      type: 'MarkFirewallGroupPending',
      id,
      now: now(),
    });
    if (!isDomainError(append) && append.events.length > 0) appends.push(append);
  }
  return appends;
}

async function ownRule(s: Services, tx: Tx, actor: Principal, id: string) {
  await lockRow(tx, id, 'update');
  const loaded = await loadOwn<FirewallRule>(s, tx, actor, 'firewallrule', id);
  return loaded && loaded.state.status === 'live' ? loaded : null;
}

export function updateFirewallRule(
  s: Services,
  actor: Principal,
  id: string,
  changes: FirewallRuleInput,
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  return s.runtime.execute(metadata, async (tx) => {
    const loaded = await ownRule(s, tx, actor, id);
    if (!loaded) return notFound('FirewallRule', id);
    const append = decideAppend(firewallRuleDecider, loaded, firewallRuleStreamId(id), {
      type: 'UpdateFirewallRule',
      id,
      changes,
      now: now(),
      ...revision(expectedRevision),
    });
    if (isDomainError(append)) return append;
    const policies = await tx<
      { id: string }[]
    >`select id from rm_resources where kind = 'firewall_policy' and doc->'firewallRules' ? ${id}`;
    return {
      appends: [
        append,
        ...(await regroupPending(
          s,
          tx,
          append,
          policies.map((p) => p.id),
        )),
      ],
      result: id,
    };
  });
}

export function deleteFirewallRule(
  s: Services,
  actor: Principal,
  id: string,
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  return s.runtime.execute(metadata, async (tx) => {
    const loaded = await ownRule(s, tx, actor, id);
    if (!loaded) return notFound('FirewallRule', id);
    const used = await tx<{ id: string }[]>`select id from rm_resources where kind = 'firewall_policy' and doc->'firewallRules' ? ${id}`;
    const append = decideAppend(firewallRuleDecider, loaded, firewallRuleStreamId(id), {
      type: 'DeleteFirewallRule',
      id,
      usedByPolicies: used.map((r) => r.id),
      now: now(),
      ...revision(expectedRevision),
    });
    return isDomainError(append) ? append : { appends: [append], result: id };
  });
}

// ---- policies ----

export type FirewallPolicyCreate = FirewallPolicyInput & { readonly id?: string };

export function createFirewallPolicy(s: Services, actor: Principal, input: FirewallPolicyCreate, metadata: EventMetadata) {
  return s.runtime.execute(metadata, async (tx) => planCreatePolicy(s, tx, actor, input));
}

async function planCreatePolicy(s: Services, tx: Tx, actor: Principal, input: FirewallPolicyCreate, extraVisible: readonly string[] = []) {
  const id = input.id ?? randomUUID();
  const loaded = await s.aggregates.load<Lifecycle<FirewallPolicy>>(tx, firewallPolicyStreamId(id));
  const visibleRuleIds = [...(await visibleIds(tx, actor, 'firewall_rule', input.firewallRules ?? [])), ...extraVisible];
  const append = decideAppend(firewallPolicyDecider, loaded, firewallPolicyStreamId(id), {
    ...input,
    type: 'CreateFirewallPolicy',
    id,
    project: actor.projectId,
    visibleRuleIds,
    now: now(),
  });
  return isDomainError(append) ? append : { appends: [append], result: id };
}

async function onPolicy(
  s: Services,
  tx: Tx,
  actor: Principal,
  id: string,
  command: (p: FirewallPolicy) => Promise<Parameters<typeof firewallPolicyDecider.decide>[0]>,
) {
  await lockRow(tx, id, 'update');
  const loaded = await loadOwn<FirewallPolicy>(s, tx, actor, 'firewallpolicy', id);
  if (!loaded || loaded.state.status !== 'live') return notFound('FirewallPolicy', id);
  const decided = await command(loaded.state.resource);
  const append = decideAppend(firewallPolicyDecider, loaded, firewallPolicyStreamId(id), decided);
  if (isDomainError(append)) return append;
  const pending = decided.type === 'DeleteFirewallPolicy' ? [] : await regroupPending(s, tx, append, [id]);
  return { appends: [append, ...pending], result: id };
}

export function updateFirewallPolicy(
  s: Services,
  actor: Principal,
  id: string,
  changes: FirewallPolicyInput,
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  return s.runtime.execute(metadata, (tx) =>
    onPolicy(s, tx, actor, id, async () => ({
      type: 'UpdateFirewallPolicy',
      id,
      changes,
      visibleRuleIds: await visibleIds(tx, actor, 'firewall_rule', changes.firewallRules ?? []),
      now: now(),
      ...revision(expectedRevision),
    })),
  );
}

export function insertFirewallRule(
  s: Services,
  actor: Principal,
  id: string,
  input: { ruleId: string; insertBefore?: string | null; insertAfter?: string | null },
  metadata: EventMetadata,
) {
  return s.runtime.execute(metadata, (tx) =>
    onPolicy(s, tx, actor, id, async () => ({
      type: 'InsertFirewallRule',
      id,
      ...input,
      ruleVisible: (await visibleIds(tx, actor, 'firewall_rule', [input.ruleId])).length > 0,
      now: now(),
    })),
  );
}

export function removeFirewallRule(s: Services, actor: Principal, id: string, ruleId: string, metadata: EventMetadata) {
  return s.runtime.execute(metadata, (tx) =>
    onPolicy(s, tx, actor, id, async () => ({ type: 'RemoveFirewallRule', id, ruleId, now: now() })),
  );
}

export function deleteFirewallPolicy(
  s: Services,
  actor: Principal,
  id: string,
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  return s.runtime.execute(metadata, (tx) =>
    onPolicy(s, tx, actor, id, async () => {
      const used = await tx<{ id: string }[]>`
        select id from rm_resources where kind = 'firewall_group' and (doc->>'ingressFirewallPolicyId' = ${id} or doc->>'egressFirewallPolicyId' = ${id})`;
      return { type: 'DeleteFirewallPolicy', id, usedByGroups: used.map((r) => r.id), now: now(), ...revision(expectedRevision) };
    }),
  );
}

// ---- groups ----

export type FirewallGroupCreate = FirewallGroupInput & { readonly id?: string };

/**
 * The project's `default` group (reference 6.1): ingress policy denying everything, egress policy
 * allowing everything, for IPv4 and IPv6. Planned into the first request that needs it; racing
 * first requests serialise on an advisory lock and the later one finds the group.
 */
export async function planDefaultFirewallGroup(
  s: Services,
  tx: Tx,
  actor: Principal,
): Promise<{ id: string; appends: PlannedAppend[] } | DomainError> {
  await tx`select pg_advisory_xact_lock(hashtext(${`default-fwg:${actor.projectId}`}))`;
  const [existing] = await tx<{ id: string }[]>`
    select id from rm_resources where kind = 'firewall_group' and project_id = ${actor.projectId} and doc->>'isDefault' = 'true' limit 1`;
  if (existing) return { id: existing.id, appends: [] };
  const appends: PlannedAppend[] = [];
  const policyOf = async (direction: 'ingress' | 'egress', action: 'allow' | 'deny'): Promise<string | DomainError> => {
    const ruleIds: string[] = [];
    for (const ipVersion of [4, 6]) {
      const rule = await planCreateRule(s, tx, actor.projectId, {
        name: `default ${direction} ipv${ipVersion} (${action})`,
        ipVersion,
        action,
      });
      if (isDomainError(rule)) return rule;
      appends.push(...rule.appends);
      ruleIds.push(rule.result);
    }
    const policy = await planCreatePolicy(
      s,
      tx,
      actor,
      { name: `default ${direction} policy`, firewallRules: ruleIds, audited: false },
      ruleIds,
    );
    if (isDomainError(policy)) return policy;
    appends.push(...policy.appends);
    return policy.result;
  };
  const ingress = await policyOf('ingress', 'deny');
  if (isDomainError(ingress)) return ingress;
  const egress = await policyOf('egress', 'allow');
  if (isDomainError(egress)) return egress;
  const id = randomUUID();
  const loaded = await s.aggregates.load<Lifecycle<FirewallGroup>>(tx, firewallGroupStreamId(id));
  const append = decideAppend(firewallGroupDecider, loaded, firewallGroupStreamId(id), {
    type: 'CreateFirewallGroup',
    id,
    project: actor.projectId,
    name: 'default',
    description: 'Default firewall group',
    ingressFirewallPolicyId: ingress,
    egressFirewallPolicyId: egress,
    isAdmin: actor.isAdmin,
    visiblePolicyIds: [ingress, egress],
    portFacts: [],
    defaultGroupExists: false,
    now: now(),
  });
  if (isDomainError(append)) return append;
  appends.push(append);
  return { id, appends };
}

export function ensureDefaultFirewallGroup(s: Services, actor: Principal, metadata: EventMetadata) {
  return s.runtime.execute(metadata, async (tx) => {
    const planned = await planDefaultFirewallGroup(s, tx, actor);
    return isDomainError(planned) ? planned : { appends: planned.appends, result: planned.id };
  });
}

export function createFirewallGroup(s: Services, actor: Principal, input: FirewallGroupCreate, metadata: EventMetadata) {
  return s.runtime.execute(metadata, async (tx) => {
    const defaults = await planDefaultFirewallGroup(s, tx, actor);
    if (isDomainError(defaults)) return defaults;
    const id = input.id ?? randomUUID();
    const loaded = await s.aggregates.load<Lifecycle<FirewallGroup>>(tx, firewallGroupStreamId(id));
    const append = decideAppend(firewallGroupDecider, loaded, firewallGroupStreamId(id), {
      ...input,
      type: 'CreateFirewallGroup',
      id,
      project: actor.projectId,
      isAdmin: actor.isAdmin,
      visiblePolicyIds: await visibleIds(tx, actor, 'firewall_policy', [input.ingressFirewallPolicyId, input.egressFirewallPolicyId]),
      portFacts: await portFacts(tx, actor, input.ports),
      defaultGroupExists: true,
      now: now(),
    });
    return isDomainError(append) ? append : { appends: [...defaults.appends, append], result: id };
  });
}

async function ownGroup(s: Services, tx: Tx, actor: Principal, id: string) {
  await lockRow(tx, id, 'update');
  const loaded = await loadOwn<FirewallGroup>(s, tx, actor, 'firewallgroup', id);
  return loaded && loaded.state.status === 'live' ? loaded : null;
}

export function updateFirewallGroup(
  s: Services,
  actor: Principal,
  id: string,
  changes: FirewallGroupInput,
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  return s.runtime.execute(metadata, async (tx) => {
    const loaded = await ownGroup(s, tx, actor, id);
    if (!loaded) return notFound('FirewallGroup', id);
    const append = decideAppend(firewallGroupDecider, loaded, firewallGroupStreamId(id), {
      type: 'UpdateFirewallGroup',
      id,
      changes,
      isAdmin: actor.isAdmin,
      visiblePolicyIds: await visibleIds(tx, actor, 'firewall_policy', [changes.ingressFirewallPolicyId, changes.egressFirewallPolicyId]),
      portFacts: await portFacts(tx, actor, changes.ports),
      now: now(),
      ...revision(expectedRevision),
    });
    return isDomainError(append) ? append : { appends: [append], result: id };
  });
}

export function deleteFirewallGroup(
  s: Services,
  actor: Principal,
  id: string,
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  return s.runtime.execute(metadata, async (tx) => {
    const loaded = await ownGroup(s, tx, actor, id);
    if (!loaded) return notFound('FirewallGroup', id);
    const append = decideAppend(firewallGroupDecider, loaded, firewallGroupStreamId(id), {
      type: 'DeleteFirewallGroup',
      id,
      isAdmin: actor.isAdmin,
      now: now(),
      ...revision(expectedRevision),
    });
    return isDomainError(append) ? append : { appends: [append], result: id };
  });
}

/** The dataplane's word on a group: ACTIVE once applied, ERROR when it could not be. */
export function reportFirewallGroupStatus(s: Services, id: string, status: 'ACTIVE' | 'ERROR', metadata: EventMetadata) {
  return s.runtime.execute(metadata, async (tx) => {
    const loaded = await s.aggregates.load<Lifecycle<FirewallGroup>>(tx, firewallGroupStreamId(id));
    const append = decideAppend(firewallGroupDecider, loaded, firewallGroupStreamId(id), {
      type: 'ReportFirewallGroupStatus',
      id,
      status,
      now: now(),
    });
    return isDomainError(append) ? append : { appends: [append], result: id };
  });
}
