import { alreadyExists, baseFields, basePatch, liveResource, notFound } from '../common/index.js';
import type { Decision } from '../decider.js';
import { domainError, isDomainError, type DomainError } from '../errors.js';
import type {
  CreateFirewallGroup,
  CreateFirewallPolicy,
  CreateFirewallRule,
  FirewallGroupCommand,
  FirewallGroupInput,
  FirewallPolicyCommand,
  FirewallPortFacts,
  FirewallRuleCommand,
  InsertFirewallRule,
  UpdateFirewallGroup,
} from './commands.js';
import type { FirewallGroupEvent, FirewallGroupStatus, FirewallPolicyEvent, FirewallRuleEvent } from './events.js';
import { normaliseFirewallRule, ROUTER_INTERFACE_OWNERS } from './rules.js';
import type { FirewallGroup, FirewallGroupState, FirewallPolicy, FirewallPolicyState, FirewallRuleState } from './state.js';

const DEFAULT_NAME = 'default';
const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

// ---- rules ----

function createRule(c: CreateFirewallRule, s: FirewallRuleState): Decision<FirewallRuleEvent> {
  const base = baseFields(c);
  if (isDomainError(base)) return base;
  const rule = normaliseFirewallRule(c);
  if (isDomainError(rule)) return rule;
  const data = { id: c.id, project: c.project, ...base, ...rule, createdAt: c.now };
  if (s.status === 'live') {
    const { updatedAt: _u, createdAt: _c, ...have } = s.resource;
    const { createdAt: _w, ...want } = data;
    return sameJson({ ...have }, { ...want }) ? [] : alreadyExists('FirewallRule', c.id);
  }
  if (s.status === 'deleted') return notFound('FirewallRule', c.id);
  return [{ type: 'FirewallRuleCreated', data }];
}

export function decideFirewallRule(c: FirewallRuleCommand, s: FirewallRuleState): Decision<FirewallRuleEvent> {
  if (c.type === 'CreateFirewallRule') return createRule(c, s);
  const rule = liveResource(s, 'FirewallRule', c.id, c.expectedRevision);
  if (isDomainError(rule)) return rule;
  if (c.type === 'DeleteFirewallRule') {
    if (c.usedByPolicies.length > 0) {
      return domainError('FirewallRuleInUse', `Firewall rule ${rule.id} is being used.`, {
        details: { firewallRuleId: rule.id, policies: [...c.usedByPolicies] },
      });
    }
    return [{ type: 'FirewallRuleDeleted', data: { id: rule.id, deletedAt: c.now } }];
  }
  const base = basePatch(c.changes);
  if (isDomainError(base)) return base;
  // The rule is re-validated whole: a change may conflict with fields it leaves alone.
  const merged = normaliseFirewallRule({ ...rule, ...stripUndefined(c.changes) });
  if (isDomainError(merged)) return merged;
  return [{ type: 'FirewallRuleUpdated', data: { id: rule.id, changes: { ...base, ...merged }, updatedAt: c.now } }];
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// ---- policies ----

function checkRules(ids: readonly string[], visible: readonly string[]): DomainError | null {
  const missing = ids.find((id) => !visible.includes(id));
  if (missing !== undefined) return notFound('FirewallRule', missing);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup !== undefined)
    return domainError('FirewallRuleAlreadyAssociated', `Firewall rule ${dup} is listed twice in the policy.`, {
      field: ['firewallRules'],
    });
  return null;
}

function createPolicy(c: CreateFirewallPolicy, s: FirewallPolicyState): Decision<FirewallPolicyEvent> {
  const base = baseFields(c);
  if (isDomainError(base)) return base;
  const firewallRules = [...(c.firewallRules ?? [])];
  const data = {
    id: c.id,
    project: c.project,
    ...base,
    firewallRules,
    audited: c.audited ?? false,
    shared: c.shared ?? false,
    createdAt: c.now,
  };
  if (s.status === 'live') {
    const { updatedAt: _u, createdAt: _c, ...have } = s.resource;
    const { createdAt: _w, ...want } = data;
    return sameJson(have, want) ? [] : alreadyExists('FirewallPolicy', c.id);
  }
  if (s.status === 'deleted') return notFound('FirewallPolicy', c.id);
  const bad = checkRules(firewallRules, c.visibleRuleIds);
  if (bad) return bad;
  return [{ type: 'FirewallPolicyCreated', data }];
}

function insertRule(c: InsertFirewallRule, p: FirewallPolicy): Decision<FirewallPolicyEvent> {
  if (!c.ruleVisible) return notFound('FirewallRule', c.ruleId);
  if (p.firewallRules.includes(c.ruleId)) {
    return domainError('FirewallRuleAlreadyAssociated', `Firewall rule ${c.ruleId} already associated with firewall policy ${p.id}.`);
  }
  const anchor = c.insertBefore ?? c.insertAfter ?? null;
  let at = 0;
  if (anchor !== null) {
    const i = p.firewallRules.indexOf(anchor);
    if (i < 0)
      return domainError('FirewallRuleNotAssociatedWithPolicy', `Firewall rule ${anchor} is not associated with firewall policy ${p.id}.`);
    at = c.insertBefore ? i : i + 1;
  }
  const firewallRules = [...p.firewallRules.slice(0, at), c.ruleId, ...p.firewallRules.slice(at)];
  return [{ type: 'FirewallPolicyUpdated', data: { id: p.id, changes: { firewallRules, audited: false }, updatedAt: c.now } }];
}

export function decideFirewallPolicy(c: FirewallPolicyCommand, s: FirewallPolicyState): Decision<FirewallPolicyEvent> {
  if (c.type === 'CreateFirewallPolicy') return createPolicy(c, s);
  const policy = liveResource(s, 'FirewallPolicy', c.id, c.expectedRevision);
  if (isDomainError(policy)) return policy;
  switch (c.type) {
    case 'DeleteFirewallPolicy':
      if (c.usedByGroups.length > 0)
        return domainError('FirewallPolicyInUse', `Firewall policy ${policy.id} is being used.`, {
          details: { groups: [...c.usedByGroups] },
        });
      return [{ type: 'FirewallPolicyDeleted', data: { id: policy.id, deletedAt: c.now } }];
    case 'InsertFirewallRule':
      return insertRule(c, policy);
    case 'RemoveFirewallRule': {
      if (!policy.firewallRules.includes(c.ruleId)) {
        return domainError(
          'FirewallRuleNotAssociatedWithPolicy',
          `Firewall rule ${c.ruleId} is not associated with firewall policy ${policy.id}.`,
        );
      }
      const firewallRules = policy.firewallRules.filter((r) => r !== c.ruleId);
      return [{ type: 'FirewallPolicyUpdated', data: { id: policy.id, changes: { firewallRules, audited: false }, updatedAt: c.now } }];
    }
    case 'UpdateFirewallPolicy': {
      const base = basePatch(c.changes);
      if (isDomainError(base)) return base;
      if (c.changes.firewallRules !== undefined) {
        const bad = checkRules(c.changes.firewallRules, c.visibleRuleIds);
        if (bad) return bad;
      }
      const changes = {
        ...base,
        ...(c.changes.firewallRules !== undefined ? { firewallRules: [...c.changes.firewallRules] } : {}),
        ...(c.changes.shared !== undefined ? { shared: c.changes.shared } : {}),
        audited: c.changes.audited ?? false,
      };
      return [{ type: 'FirewallPolicyUpdated', data: { id: policy.id, changes, updatedAt: c.now } }];
    }
  }
}

// ---- groups ----

/**
 * DOWN when admin-down, INACTIVE without ports (nothing to apply), else `pending` until the agent
 * hosting the ports' router reports the rules applied (ReportFirewallGroupStatus: ACTIVE or ERROR).
 */
export function groupStatus(
  ports: readonly string[],
  adminStateUp: boolean,
  pending: 'PENDING_CREATE' | 'PENDING_UPDATE' = 'PENDING_CREATE',
): FirewallGroupStatus {
  if (!adminStateUp) return 'DOWN';
  return ports.length === 0 ? 'INACTIVE' : pending;
}

/**
 * neutron-fwaas's `_need_pending_update`: a group whose ports or policies change goes back to
 * PENDING_UPDATE; so does one coming back from DOWN or INACTIVE. A rename leaves the status alone.
 */
function updatedStatus(g: FirewallGroup, c: UpdateFirewallGroup, ports: readonly string[], adminStateUp: boolean): FirewallGroupStatus {
  const portsChanged = ports.length !== g.ports.length || ports.some((p) => !g.ports.includes(p));
  const policiesChanged =
    (c.changes.ingressFirewallPolicyId !== undefined && c.changes.ingressFirewallPolicyId !== g.ingressFirewallPolicyId) ||
    (c.changes.egressFirewallPolicyId !== undefined && c.changes.egressFirewallPolicyId !== g.egressFirewallPolicyId);
  const status = groupStatus(ports, adminStateUp, 'PENDING_UPDATE');
  const applied = g.status === 'ACTIVE' || g.status === 'ERROR' || g.status === 'PENDING_CREATE';
  return status === 'PENDING_UPDATE' && applied && !portsChanged && !policiesChanged ? g.status : status;
}

function checkGroupRefs(
  groupId: string,
  project: string,
  input: FirewallGroupInput,
  visiblePolicyIds: readonly string[],
  portFacts: readonly FirewallPortFacts[],
  isAdmin: boolean,
): DomainError | null {
  for (const [field, id] of [
    ['ingressFirewallPolicyId', input.ingressFirewallPolicyId],
    ['egressFirewallPolicyId', input.egressFirewallPolicyId],
  ] as const) {
    if (id !== undefined && id !== null && !visiblePolicyIds.includes(id)) return { ...notFound('FirewallPolicy', id), field: [field] };
  }
  const ports = input.ports ?? [];
  const dup = ports.find((p, i) => ports.indexOf(p) !== i);
  if (dup !== undefined)
    return domainError('InvalidInput', `Invalid input for ports. Reason: duplicate port ${dup}.`, { field: ['ports'] });
  for (const id of ports) {
    const f = portFacts.find((x) => x.id === id);
    if (!f || !f.exists) return { ...notFound('Port', id), field: ['ports'] };
    if (!isAdmin && f.project !== project) {
      return domainError(
        'FirewallGroupPortInvalidProject',
        `Operation cannot be performed since associated firewall group port ${id} is in different project.`,
        { field: ['ports'] },
      );
    }
    if (!ROUTER_INTERFACE_OWNERS.includes(f.deviceOwner)) {
      return domainError(
        'FirewallGroupPortInvalid',
        `Port ${id} is not a router interface port: firewall groups apply to router interfaces.`,
        { field: ['ports'] },
      );
    }
    if (f.usedByGroup !== null && f.usedByGroup !== groupId) {
      return domainError('FirewallGroupPortInUse', `Port(s) ${id} provided already associated with other firewall group(s).`, {
        field: ['ports'],
        details: { portId: id, firewallGroupId: f.usedByGroup },
      });
    }
  }
  return null;
}

function createGroup(c: CreateFirewallGroup, s: FirewallGroupState): Decision<FirewallGroupEvent> {
  const base = baseFields(c);
  if (isDomainError(base)) return base;
  const isDefault = base.name === DEFAULT_NAME;
  const ports = [...(c.ports ?? [])];
  const adminStateUp = c.adminStateUp ?? true;
  const data = {
    id: c.id,
    project: c.project,
    ...base,
    ingressFirewallPolicyId: c.ingressFirewallPolicyId ?? null,
    egressFirewallPolicyId: c.egressFirewallPolicyId ?? null,
    ports,
    adminStateUp,
    shared: c.shared ?? false,
    isDefault,
    status: groupStatus(ports, adminStateUp),
    createdAt: c.now,
  };
  if (s.status === 'live') {
    const { updatedAt: _u, createdAt: _c, status: _s, ...have } = s.resource;
    const { createdAt: _w, status: _t, ...want } = data;
    return sameJson(have, want) ? [] : alreadyExists('FirewallGroup', c.id);
  }
  if (s.status === 'deleted') return notFound('FirewallGroup', c.id);
  if (isDefault && c.defaultGroupExists)
    return domainError('FirewallGroupDefaultAlreadyExists', 'Default firewall group already exists.', { field: ['name'] });
  const bad = checkGroupRefs(c.id, c.project, c, c.visiblePolicyIds, c.portFacts, c.isAdmin);
  if (bad) return bad;
  return [{ type: 'FirewallGroupCreated', data }];
}

function updateGroup(c: UpdateFirewallGroup, g: FirewallGroup): Decision<FirewallGroupEvent> {
  if (g.isDefault && c.changes.name !== undefined && c.changes.name !== g.name) {
    return domainError('FirewallDefaultObjectUpdateRestricted', `Unable to update default firewall group ${g.id}: its name is fixed.`, {
      field: ['name'],
    });
  }
  if (!g.isDefault && c.changes.name === DEFAULT_NAME)
    return domainError('FirewallGroupDefaultAlreadyExists', 'Default firewall group already exists.', { field: ['name'] });
  const base = basePatch(c.changes);
  if (isDomainError(base)) return base;
  const bad = checkGroupRefs(g.id, g.project, c.changes, c.visiblePolicyIds, c.portFacts, c.isAdmin);
  if (bad) return bad;
  const ports: string[] = [...(c.changes.ports ?? g.ports)];
  const adminStateUp = c.changes.adminStateUp ?? g.adminStateUp;
  const changes = {
    ...base,
    ...(c.changes.ingressFirewallPolicyId !== undefined ? { ingressFirewallPolicyId: c.changes.ingressFirewallPolicyId } : {}),
    ...(c.changes.egressFirewallPolicyId !== undefined ? { egressFirewallPolicyId: c.changes.egressFirewallPolicyId } : {}),
    ...(c.changes.ports !== undefined ? { ports } : {}),
    ...(c.changes.adminStateUp !== undefined ? { adminStateUp } : {}),
    ...(c.changes.shared !== undefined ? { shared: c.changes.shared } : {}),
    status: updatedStatus(g, c, ports, adminStateUp),
  };
  return [{ type: 'FirewallGroupUpdated', data: { id: g.id, changes, updatedAt: c.now } }];
}

export function decideFirewallGroup(c: FirewallGroupCommand, s: FirewallGroupState): Decision<FirewallGroupEvent> {
  if (c.type === 'CreateFirewallGroup') return createGroup(c, s);
  const group = liveResource(s, 'FirewallGroup', c.id, c.expectedRevision);
  if (isDomainError(group)) return group;
  switch (c.type) {
    case 'UpdateFirewallGroup':
      return updateGroup(c, group);
    case 'ReportFirewallGroupStatus': {
      // Nothing is applied for a group without ports or admin-down: those statuses stand. The agent
      // names the revision it applied, so a report about an older one is refused.
      if (group.status === 'INACTIVE' || group.status === 'DOWN' || group.status === c.status) return [];
      return [{ type: 'FirewallGroupStatusChanged', data: { id: group.id, status: c.status, updatedAt: c.now } }];
    }
    case 'MarkFirewallGroupPending':
      // neutron-fwaas's _rpc_update_firewall_group: only a group with something applied waits again.
      if (group.status === 'INACTIVE' || group.status === 'DOWN' || group.status === 'PENDING_UPDATE') return [];
      return [{ type: 'FirewallGroupStatusChanged', data: { id: group.id, status: 'PENDING_UPDATE', updatedAt: c.now } }];
    case 'DeleteFirewallGroup':
      if (group.isDefault && !c.isAdmin && !c.projectTeardown) {
        return domainError('FirewallGroupCannotRemoveDefault', 'Insufficient rights for removing default firewall group.');
      }
      if (group.ports.length > 0 && !c.projectTeardown) {
        return domainError('FirewallGroupInUse', `Firewall group ${group.id} is still active.`, { details: { firewallGroupId: group.id } });
      }
      return [
        { type: 'FirewallGroupDeleted', data: { id: group.id, project: group.project, isDefault: group.isDefault, deletedAt: c.now } },
      ];
  }
}
