import { alreadyExists, baseFields, basePatch, liveResource, notFound } from '../common/index.js';
import type { Decision } from '../decider.js';
import { domainError, isDomainError } from '../errors.js';
import type {
  AddSecurityGroupRule,
  CreateSecurityGroup,
  DeleteSecurityGroup,
  RemoveRulesForRemoteGroup,
  SecurityGroupCommand,
  UpdateSecurityGroup,
} from './commands.js';
import type { SecurityGroupEvent } from './events.js';
import { initialRules, normaliseRule, ruleKey } from './rules.js';
import type { SecurityGroup, SecurityGroupState } from './state.js';

const DEFAULT_NAME = 'default';
const DEFAULT_DESCRIPTION = 'Default security group';

const inUse = (id: string) => domainError('SecurityGroupInUse', `Security Group ${id} in use.`, { details: { securityGroupId: id } });

const defaultExists = () => domainError('SecurityGroupDefaultAlreadyExists', 'Default security group already exists.', { field: ['name'] });

function create(c: CreateSecurityGroup, s: SecurityGroupState): Decision<SecurityGroupEvent> {
  const isDefault = c.name === DEFAULT_NAME;
  const base = baseFields({ ...c, description: c.description ?? (isDefault ? DEFAULT_DESCRIPTION : undefined) });
  if (isDomainError(base)) return base;
  const stateful = c.stateful ?? true;
  if (s.status === 'live') {
    const g = s.resource;
    const same =
      g.project === c.project &&
      g.name === base.name &&
      g.description === base.description &&
      g.stateful === stateful &&
      g.tags.length === base.tags.length &&
      g.tags.every((t, i) => t === base.tags[i]);
    return same ? [] : alreadyExists('SecurityGroup', c.id);
  }
  if (s.status === 'deleted') return notFound('SecurityGroup', c.id);
  if (isDefault && c.defaultGroupExists) return defaultExists();
  const rules = initialRules(c.id, isDefault, c.ruleIds);
  if (isDomainError(rules)) return rules;
  return [
    {
      type: 'SecurityGroupCreated',
      data: { id: c.id, project: c.project, ...base, stateful, isDefault, rules: [...rules], createdAt: c.now },
    },
  ];
}

function update(c: UpdateSecurityGroup, group: SecurityGroup): Decision<SecurityGroupEvent> {
  // Neutron refuses any name in an update of the default group, even its own.
  if (group.isDefault && c.changes.name !== undefined) {
    return domainError('SecurityGroupCannotUpdateDefault', 'Updating default security group not allowed.', { field: ['name'] });
  }
  if (c.changes.name === DEFAULT_NAME) return defaultExists();
  // Ports already wired with or without conntrack would change under their owners (Neutron refuses it too).
  if (c.changes.stateful !== undefined && c.changes.stateful !== group.stateful && c.inUseByPorts) return inUse(group.id);
  const base = basePatch(c.changes);
  if (isDomainError(base)) return base;
  const changes = c.changes.stateful === undefined ? base : { ...base, stateful: c.changes.stateful };
  return [{ type: 'SecurityGroupUpdated', data: { id: group.id, changes, updatedAt: c.now } }];
}

function remove(c: DeleteSecurityGroup, group: SecurityGroup): Decision<SecurityGroupEvent> {
  if (c.inUseByPorts) return inUse(group.id);
  if (group.isDefault && !c.isAdmin && !c.projectTeardown) {
    return domainError('SecurityGroupCannotRemoveDefault', 'Insufficient rights for removing default security group.');
  }
  return [{ type: 'SecurityGroupDeleted', data: { id: group.id, project: group.project, isDefault: group.isDefault, deletedAt: c.now } }];
}

function addRule(c: AddSecurityGroupRule, group: SecurityGroup): Decision<SecurityGroupEvent> {
  const rule = normaliseRule(c.rule);
  if (isDomainError(rule)) return rule;
  const sameId = group.rules.find((r) => r.id === rule.id);
  if (sameId) {
    return ruleKey(sameId) === ruleKey(rule) && sameId.description === rule.description ? [] : alreadyExists('SecurityGroupRule', rule.id);
  }
  if (rule.remoteGroupId !== null && rule.remoteGroupId !== group.id && !c.remoteGroupExists)
    return notFound('SecurityGroup', rule.remoteGroupId);
  const key = ruleKey(rule);
  const duplicate = group.rules.find((r) => ruleKey(r) === key);
  if (duplicate) {
    return domainError('SecurityGroupRuleExists', `Security group rule already exists. Rule id is ${duplicate.id}.`, {
      details: { ruleId: duplicate.id },
    });
  }
  return [{ type: 'SecurityGroupRuleAdded', data: { id: group.id, rule, updatedAt: c.now } }];
}

function removeRule(ruleId: string, now: string, group: SecurityGroup): Decision<SecurityGroupEvent> {
  const rule = group.rules.find((r) => r.id === ruleId);
  if (!rule) return notFound('SecurityGroupRule', ruleId);
  return [{ type: 'SecurityGroupRuleRemoved', data: { id: group.id, rule, updatedAt: now } }];
}

function removeRulesFor(c: RemoveRulesForRemoteGroup, group: SecurityGroup): Decision<SecurityGroupEvent> {
  if (c.remoteGroupId === group.id) return [];
  return group.rules
    .filter((r) => r.remoteGroupId === c.remoteGroupId)
    .map((rule) => ({
      type: 'SecurityGroupRuleRemoved',
      data: { id: group.id, rule, remoteGroupDeleted: c.remoteGroupId, updatedAt: c.now },
    }));
}

export function decideSecurityGroup(c: SecurityGroupCommand, s: SecurityGroupState): Decision<SecurityGroupEvent> {
  if (c.type === 'CreateSecurityGroup') return create(c, s);
  const group = liveResource(s, 'SecurityGroup', c.id, c.expectedRevision);
  if (isDomainError(group)) return group;
  switch (c.type) {
    case 'UpdateSecurityGroup':
      return update(c, group);
    case 'DeleteSecurityGroup':
      return remove(c, group);
    case 'AddSecurityGroupRule':
      return addRule(c, group);
    case 'RemoveSecurityGroupRule':
      return removeRule(c.ruleId, c.now, group);
    case 'RemoveRulesForRemoteGroup':
      return removeRulesFor(c, group);
  }
}
