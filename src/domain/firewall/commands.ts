import type { ResourceBaseInput } from '../common/index.js';

interface Existing {
  readonly id: string;
  readonly expectedRevision?: number;
  readonly now: string;
}

/** A rule as the API receives it; rules.ts validates and normalises it. */
export interface FirewallRuleInput extends ResourceBaseInput {
  readonly protocol?: string | null;
  readonly ipVersion?: number;
  readonly sourceIpAddress?: string | null;
  readonly destinationIpAddress?: string | null;
  readonly sourcePort?: string | null;
  readonly destinationPort?: string | null;
  readonly action?: string;
  readonly enabled?: boolean;
  readonly shared?: boolean;
}

export interface CreateFirewallRule extends FirewallRuleInput {
  readonly type: 'CreateFirewallRule';
  readonly id: string;
  readonly project: string;
  readonly now: string;
}

export interface UpdateFirewallRule extends Existing {
  readonly type: 'UpdateFirewallRule';
  readonly changes: FirewallRuleInput;
}

export interface DeleteFirewallRule extends Existing {
  readonly type: 'DeleteFirewallRule';
  /** Policies that list the rule. */
  readonly usedByPolicies: readonly string[];
}

export type FirewallRuleCommand = CreateFirewallRule | UpdateFirewallRule | DeleteFirewallRule;

export interface FirewallPolicyInput extends ResourceBaseInput {
  readonly firewallRules?: readonly string[];
  readonly audited?: boolean;
  readonly shared?: boolean;
}

/** `visibleRuleIds`: which of the named rules exist and the project may use. */
export interface CreateFirewallPolicy extends FirewallPolicyInput {
  readonly type: 'CreateFirewallPolicy';
  readonly id: string;
  readonly project: string;
  readonly visibleRuleIds: readonly string[];
  readonly now: string;
}

export interface UpdateFirewallPolicy extends Existing {
  readonly type: 'UpdateFirewallPolicy';
  readonly changes: FirewallPolicyInput;
  readonly visibleRuleIds: readonly string[];
}

/** Neutron's insert_rule: before or after a listed rule, else at the top. */
export interface InsertFirewallRule extends Existing {
  readonly type: 'InsertFirewallRule';
  readonly ruleId: string;
  readonly insertBefore?: string | null;
  readonly insertAfter?: string | null;
  readonly ruleVisible: boolean;
}

export interface RemoveFirewallRule extends Existing {
  readonly type: 'RemoveFirewallRule';
  readonly ruleId: string;
}

export interface DeleteFirewallPolicy extends Existing {
  readonly type: 'DeleteFirewallPolicy';
  /** Groups using the policy in either direction. */
  readonly usedByGroups: readonly string[];
}

export type FirewallPolicyCommand =
  CreateFirewallPolicy | UpdateFirewallPolicy | InsertFirewallRule | RemoveFirewallRule | DeleteFirewallPolicy;

/** Facts about a port named in a group's `ports`. */
export interface FirewallPortFacts {
  readonly id: string;
  readonly exists: boolean;
  readonly project: string;
  readonly deviceOwner: string;
  /** Another group of the project already holds it. */
  readonly usedByGroup: string | null;
}

export interface FirewallGroupInput extends ResourceBaseInput {
  readonly ingressFirewallPolicyId?: string | null;
  readonly egressFirewallPolicyId?: string | null;
  readonly ports?: readonly string[];
  readonly adminStateUp?: boolean;
  readonly shared?: boolean;
}

export interface CreateFirewallGroup extends FirewallGroupInput {
  readonly type: 'CreateFirewallGroup';
  readonly id: string;
  readonly project: string;
  readonly isAdmin: boolean;
  /** Policy ids (of those named) that exist and are visible to the project. */
  readonly visiblePolicyIds: readonly string[];
  readonly portFacts: readonly FirewallPortFacts[];
  /** Whether the project already has its `default` group. */
  readonly defaultGroupExists: boolean;
  readonly now: string;
}

export interface UpdateFirewallGroup extends Existing {
  readonly type: 'UpdateFirewallGroup';
  readonly changes: FirewallGroupInput;
  readonly isAdmin: boolean;
  readonly visiblePolicyIds: readonly string[];
  readonly portFacts: readonly FirewallPortFacts[];
}

export interface ReportFirewallGroupStatus extends Existing {
  readonly type: 'ReportFirewallGroupStatus';
  readonly status: 'ACTIVE' | 'ERROR';
}

/** A policy of the group, or a rule of such a policy, changed: the agent has to apply it again. */
export interface MarkFirewallGroupPending extends Existing {
  readonly type: 'MarkFirewallGroupPending';
}

export interface DeleteFirewallGroup extends Existing {
  readonly type: 'DeleteFirewallGroup';
  readonly isAdmin: boolean;
  readonly projectTeardown?: boolean;
}

export type FirewallGroupCommand =
  CreateFirewallGroup | UpdateFirewallGroup | ReportFirewallGroupStatus | MarkFirewallGroupPending | DeleteFirewallGroup;
