import { initialLifecycle, type Lifecycle, type ResourceBase } from '../common/index.js';
import type { FirewallAction, FirewallGroupStatus, FirewallProtocol } from './events.js';

export interface FirewallRule extends ResourceBase {
  readonly protocol: FirewallProtocol | null;
  readonly ipVersion: 4 | 6;
  readonly sourceIpAddress: string | null;
  readonly destinationIpAddress: string | null;
  readonly sourcePort: string | null;
  readonly destinationPort: string | null;
  readonly action: FirewallAction;
  readonly enabled: boolean;
  readonly shared: boolean;
}

export interface FirewallPolicy extends ResourceBase {
  /** Rule ids in evaluation order: first match wins. */
  readonly firewallRules: readonly string[];
  readonly audited: boolean;
  readonly shared: boolean;
}

export interface FirewallGroup extends ResourceBase {
  readonly ingressFirewallPolicyId: string | null;
  readonly egressFirewallPolicyId: string | null;
  /** Router interface ports the group applies to. */
  readonly ports: readonly string[];
  readonly adminStateUp: boolean;
  readonly shared: boolean;
  readonly isDefault: boolean;
  readonly status: FirewallGroupStatus;
}

export type FirewallRuleState = Lifecycle<FirewallRule>;
export type FirewallPolicyState = Lifecycle<FirewallPolicy>;
export type FirewallGroupState = Lifecycle<FirewallGroup>;

export const initialFirewallRuleState: FirewallRuleState = initialLifecycle<FirewallRule>();
export const initialFirewallPolicyState: FirewallPolicyState = initialLifecycle<FirewallPolicy>();
export const initialFirewallGroupState: FirewallGroupState = initialLifecycle<FirewallGroup>();
