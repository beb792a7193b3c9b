import { revised, type Lifecycle } from '../common/index.js';
import type { FirewallGroupEvent, FirewallPolicyEvent, FirewallRuleEvent } from './events.js';
import type { FirewallGroupState, FirewallPolicyState, FirewallRuleState } from './state.js';

function patch<R>(state: Lifecycle<R>, change: (r: R) => R): Lifecycle<R> {
  return state.status === 'live' ? revised(state, change(state.resource)) : state;
}

export function evolveFirewallRule(state: FirewallRuleState, event: FirewallRuleEvent): FirewallRuleState {
  switch (event.type) {
    case 'FirewallRuleCreated':
      return revised(state, { ...event.data, updatedAt: event.data.createdAt });
    case 'FirewallRuleUpdated':
      return patch(state, (r) => ({ ...r, ...event.data.changes, updatedAt: event.data.updatedAt }));
    case 'FirewallRuleDeleted':
      return { status: 'deleted', revision: state.revision + 1, id: event.data.id };
  }
}

export function evolveFirewallPolicy(state: FirewallPolicyState, event: FirewallPolicyEvent): FirewallPolicyState {
  switch (event.type) {
    case 'FirewallPolicyCreated':
      return revised(state, { ...event.data, updatedAt: event.data.createdAt });
    case 'FirewallPolicyUpdated':
      return patch(state, (p) => ({ ...p, ...event.data.changes, updatedAt: event.data.updatedAt }));
    case 'FirewallPolicyDeleted':
      return { status: 'deleted', revision: state.revision + 1, id: event.data.id };
  }
}

export function evolveFirewallGroup(state: FirewallGroupState, event: FirewallGroupEvent): FirewallGroupState {
  switch (event.type) {
    case 'FirewallGroupCreated':
      return revised(state, { ...event.data, updatedAt: event.data.createdAt });
    case 'FirewallGroupUpdated':
      return patch(state, (g) => ({ ...g, ...event.data.changes, updatedAt: event.data.updatedAt }));
    case 'FirewallGroupStatusChanged':
      return patch(state, (g) => ({ ...g, status: event.data.status, updatedAt: event.data.updatedAt }));
    case 'FirewallGroupDeleted':
      return { status: 'deleted', revision: state.revision + 1, id: event.data.id };
  }
}
