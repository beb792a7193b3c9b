import type { Decider } from '../decider.js';
import type { FirewallGroupCommand, FirewallPolicyCommand, FirewallRuleCommand } from './commands.js';
import { decideFirewallGroup, decideFirewallPolicy, decideFirewallRule } from './decide.js';
import type { FirewallGroupEvent, FirewallPolicyEvent, FirewallRuleEvent } from './events.js';
import { evolveFirewallGroup, evolveFirewallPolicy, evolveFirewallRule } from './evolve.js';
import {
  initialFirewallGroupState,
  initialFirewallPolicyState,
  initialFirewallRuleState,
  type FirewallGroupState,
  type FirewallPolicyState,
  type FirewallRuleState,
} from './state.js';

export const firewallRuleDecider: Decider<FirewallRuleCommand, FirewallRuleState, FirewallRuleEvent> = {
  initialState: initialFirewallRuleState,
  decide: decideFirewallRule,
  evolve: evolveFirewallRule,
};

export const firewallPolicyDecider: Decider<FirewallPolicyCommand, FirewallPolicyState, FirewallPolicyEvent> = {
  initialState: initialFirewallPolicyState,
  decide: decideFirewallPolicy,
  evolve: evolveFirewallPolicy,
};

export const firewallGroupDecider: Decider<FirewallGroupCommand, FirewallGroupState, FirewallGroupEvent> = {
  initialState: initialFirewallGroupState,
  decide: decideFirewallGroup,
  evolve: evolveFirewallGroup,
};

export const firewallRuleStreamId = (id: string): string => `firewallrule-${id}`;
export const firewallPolicyStreamId = (id: string): string => `firewallpolicy-${id}`;
export const firewallGroupStreamId = (id: string): string => `firewallgroup-${id}`;
