import { randomUUID } from 'node:crypto';
import { notFound } from '../../domain/common/index.js';
import { domainError, isDomainError, type DomainError } from '../../domain/errors.js';
import {
  securityGroupDecider,
  securityGroupStreamId,
  type SecurityGroup,
  type SecurityGroupCommand,
  type SecurityGroupState,
  type SecurityGroupRuleInput,
  type UpdateSecurityGroup,
} from '../../domain/security-group/index.js';
import type { EventMetadata } from '../../store/types.js';
import type { PlannedAppend, Tx } from '../command-runtime.js';
import { isUuid } from '../networking/facts.js';
import { decideAppend, loadAndDecide } from '../plan.js';
import { resolveReferences } from '../references.js';
import type { Services } from '../services.js';
import { loadOwn, lockRow } from '../routing/own.js';
import { isOwnerOrAdmin, type Principal } from '../../domain/policy/index.js';

const STREAM = 'securitygroup';
const DEFAULT_RULES = 4;
const NEW_GROUP_RULES = 2;

const ids = (n: number) => Array.from({ length: n }, () => randomUUID());
const groupNotFound = (id: string) => notFound('SecurityGroup', id);
const revision = (expectedRevision: number | undefined) => (expectedRevision !== undefined ? { expectedRevision } : {});

/**
 * The project's default group, planned into this command when the project has none yet (its first
 * request). Two first requests racing both plan one; the loser's unique row in
 * rm_default_security_groups vetoes its append and its retry finds the winner's group. An existing
 * group is locked for share so an admin deleting it waits for (or is seen by) this command.
 */
export async function planDefaultSecurityGroup(
  s: Services,
  tx: Tx,
  projectId: string,
  now: string,
): Promise<{ id: string; appends: PlannedAppend[] } | DomainError> {
  const [existing] = await tx<{ id: string }[]>`
    select r.id from rm_default_security_groups d join rm_resources r on r.id = d.group_id where d.project_id = ${projectId} for share of r`;
  if (existing) return { id: existing.id, appends: [] };
  const id = randomUUID();
  const loaded = await s.aggregates.load<SecurityGroupState>(tx, securityGroupStreamId(id));
  const append = decideAppend(securityGroupDecider, loaded, securityGroupStreamId(id), {
    type: 'CreateSecurityGroup',
    id,
    project: projectId,
    name: 'default',
    defaultGroupExists: false,
    ruleIds: ids(DEFAULT_RULES),
    now,
  });
  return isDomainError(append) ? append : { id, appends: [append] };
}

/** For reads: makes sure the project's default group exists before its first listing. */
export function ensureDefaultSecurityGroup(s: Services, actor: Principal, metadata: EventMetadata) {
  return s.runtime.execute(metadata, async (tx) => {
    const planned = await planDefaultSecurityGroup(s, tx, actor.projectId, new Date().toISOString());
    return isDomainError(planned) ? planned : { appends: planned.appends, result: planned.id };
  });
}

export interface SecurityGroupInput {
  readonly id?: string;
  readonly name?: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly stateful?: boolean;
}

export function createSecurityGroup(s: Services, actor: Principal, input: SecurityGroupInput, metadata: EventMetadata) {
  return s.runtime.execute(metadata, async (tx) => {
    const now = new Date().toISOString();
    const defaults = await planDefaultSecurityGroup(s, tx, actor.projectId, now);
    if (isDomainError(defaults)) return defaults;
    const id = input.id ?? randomUUID();
    const loaded = await s.aggregates.load<SecurityGroupState>(tx, securityGroupStreamId(id));
    const append = decideAppend(securityGroupDecider, loaded, securityGroupStreamId(id), {
      ...input,
      type: 'CreateSecurityGroup',
      id,
      project: actor.projectId,
      defaultGroupExists: true,
      ruleIds: ids(NEW_GROUP_RULES),
      now,
    });
    return isDomainError(append) ? append : { appends: [...defaults.appends, append], result: id };
  });
}

/** Decides one command on a group the actor owns (admins: any). */
async function decideOnGroup(
  s: Services,
  tx: Tx,
  actor: Principal,
  id: string,
  command: (group: SecurityGroup) => Promise<SecurityGroupCommand>,
) {
  const loaded = await loadOwn<SecurityGroup>(s, tx, actor, STREAM, id);
  if (!loaded || loaded.state.status !== 'live') return groupNotFound(id);
  const append = decideAppend(securityGroupDecider, loaded, securityGroupStreamId(id), await command(loaded.state.resource));
  return isDomainError(append) ? append : { appends: [append], result: id };
}

export function updateSecurityGroup(
  s: Services,
  actor: Principal,
  id: string,
  changes: UpdateSecurityGroup['changes'],
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  return s.runtime.execute(metadata, async (tx) => {
    // As for a delete: the row lock orders this against a port taking the group (a share lock).
    if (changes.stateful !== undefined) await lockRow(tx, id, 'update');
    return decideOnGroup(s, tx, actor, id, async () => ({
      type: 'UpdateSecurityGroup',
      id,
      now: new Date().toISOString(),
      changes,
      ...(changes.stateful !== undefined ? { inUseByPorts: await portsUse(tx, id) } : {}),
      ...revision(expectedRevision),
    }));
  });
}

async function portsUse(tx: Tx, groupId: string): Promise<boolean> {
  const [used] = await tx`select 1 from rm_resources where kind = 'port' and doc->'securityGroups' ? ${groupId} limit 1`;
  return Boolean(used);
}

/**
 * Refused while a port uses the group. The group row is locked first, so a port being created
 * with the default group (which takes a share lock on it) commits before we look, or waits; a rule
 * naming it as remote group takes the same share lock, so the cascade below sees every such rule.
 */
export function deleteSecurityGroup(
  s: Services,
  actor: Principal,
  id: string,
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  return s.runtime.execute(metadata, async (tx) => {
    await lockRow(tx, id, 'update');
    const now = new Date().toISOString();
    const decided = await decideOnGroup(s, tx, actor, id, async () => {
      return {
        type: 'DeleteSecurityGroup',
        id,
        now,
        isAdmin: actor.isAdmin,
        inUseByPorts: await portsUse(tx, id),
        ...revision(expectedRevision),
      };
    });
    if (isDomainError(decided)) return decided;
    // Neutron's remote_group_id foreign key cascades: other groups' rules naming this one go too.
    const referring = await tx<{ group_id: string }[]>`
      select distinct doc->>'securityGroupId' as group_id from rm_resources
       where kind = 'security_group_rule' and doc->>'remoteGroupId' = ${id} and doc->>'securityGroupId' <> ${id}
       order by 1`;
    const appends = [...decided.appends];
    for (const { group_id: groupId } of referring) {
      const append = await loadAndDecide(s, tx, securityGroupDecider, securityGroupStreamId(groupId), {
        type: 'RemoveRulesForRemoteGroup',
        id: groupId,
        remoteGroupId: id,
        now,
      });
      if (isDomainError(append)) return append;
      appends.push(append);
    }
    return { appends, result: id };
  });
}

export type RuleInput = Omit<SecurityGroupRuleInput, 'id'> & { readonly id?: string };

/** A remote group must be one the group's project may use: its own, or any for an admin. */
async function remoteGroupVisible(
  tx: Tx,
  actor: Principal,
  group: SecurityGroup,
  remoteGroupId: string | null | undefined,
): Promise<boolean> {
  if (!remoteGroupId) return false;
  const owner = { projectId: group.project, isAdmin: actor.isAdmin };
  return !isDomainError(await resolveReferences(tx, owner, [{ kind: 'security_group', id: remoteGroupId, field: 'remoteGroupId' }]));
}

export function createSecurityGroupRule(s: Services, actor: Principal, groupId: string, rule: RuleInput, metadata: EventMetadata) {
  return s.runtime.execute(metadata, async (tx) => {
    const ruleId = rule.id ?? randomUUID();
    const decided = await decideOnGroup(s, tx, actor, groupId, async (group) => ({
      type: 'AddSecurityGroupRule',
      id: groupId,
      now: new Date().toISOString(),
      rule: { ...rule, id: ruleId },
      remoteGroupExists: await remoteGroupVisible(tx, actor, group, rule.remoteGroupId),
    }));
    return isDomainError(decided) ? decided : { ...decided, result: ruleId };
  });
}

export function deleteSecurityGroupRule(s: Services, actor: Principal, ruleId: string, metadata: EventMetadata) {
  return s.runtime.execute(metadata, async (tx) => {
    const missing = domainError('SecurityGroupRuleNotFound', `Security group rule ${ruleId} could not be found.`);
    if (!isUuid(ruleId)) return missing;
    const [row] = await tx<{ group_id: string; project_id: string }[]>`
      select doc->>'securityGroupId' as group_id, project_id from rm_resources where id = ${ruleId} and kind = 'security_group_rule'`;
    if (!row || !isOwnerOrAdmin(actor, { project: row.project_id })) return missing;
    const decided = await decideOnGroup(s, tx, actor, row.group_id, async () => ({
      type: 'RemoveSecurityGroupRule',
      id: row.group_id,
      ruleId,
      now: new Date().toISOString(),
    }));
    return isDomainError(decided) ? decided : { ...decided, result: ruleId };
  });
}
