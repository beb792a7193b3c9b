import type { ResourceBaseInput } from '../common/index.js';

interface Existing {
  readonly id: string;
  readonly expectedRevision?: number;
  readonly now: string;
}

/** A rule as the API receives it; rules.ts validates and normalises it. */
export interface SecurityGroupRuleInput {
  readonly id: string;
  readonly direction: string;
  /** Case-insensitive; IPv4 when absent. */
  readonly ethertype?: string;
  /** A name (`tcp`, `icmp`, ...), a number 0-255, or null/`any` for all protocols. */
  readonly protocol?: string | number | null;
  readonly portRangeMin?: number | null;
  readonly portRangeMax?: number | null;
  readonly remoteIpPrefix?: string | null;
  readonly remoteGroupId?: string | null;
  readonly description?: string;
}

/** The name `default` makes this the project's default group (four rules instead of two). */
export interface CreateSecurityGroup extends ResourceBaseInput {
  readonly type: 'CreateSecurityGroup';
  readonly id: string;
  readonly project: string;
  readonly stateful?: boolean;
  /** Whether the project already has its default group. */
  readonly defaultGroupExists: boolean;
  /** Ids for the initial rules: 4 for the default group, 2 otherwise. */
  readonly ruleIds: readonly string[];
  readonly now: string;
}

export interface UpdateSecurityGroup extends Existing {
  readonly type: 'UpdateSecurityGroup';
  readonly changes: ResourceBaseInput & { readonly stateful?: boolean };
  /** Whether any port is bound to this group (asked when `stateful` is given). */
  readonly inUseByPorts?: boolean;
}

export interface DeleteSecurityGroup extends Existing {
  readonly type: 'DeleteSecurityGroup';
  readonly isAdmin: boolean;
  /** The project itself is being removed: its default group goes too. */
  readonly projectTeardown?: boolean;
  /** Whether any port is bound to this group. */
  readonly inUseByPorts: boolean;
}

export interface AddSecurityGroupRule extends Existing {
  readonly type: 'AddSecurityGroupRule';
  readonly rule: SecurityGroupRuleInput;
  /** Whether `rule.remoteGroupId` names a group the project may use (not needed for the group itself). */
  readonly remoteGroupExists?: boolean;
}

export interface RemoveSecurityGroupRule extends Existing {
  readonly type: 'RemoveSecurityGroupRule';
  readonly ruleId: string;
}

/**
 * Another group, `remoteGroupId`, is being deleted: this group's rules that name it as their remote
 * group go with it (Neutron's foreign key cascades), each with its own event.
 */
export interface RemoveRulesForRemoteGroup extends Existing {
  readonly type: 'RemoveRulesForRemoteGroup';
  readonly remoteGroupId: string;
}

export type SecurityGroupCommand =
  | CreateSecurityGroup
  | UpdateSecurityGroup
  | DeleteSecurityGroup
  | AddSecurityGroupRule
  | RemoveSecurityGroupRule
  | RemoveRulesForRemoteGroup;
