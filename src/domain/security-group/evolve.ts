import { revised } from '../common/index.js';
import type { SecurityGroupEvent } from './events.js';
import type { SecurityGroup, SecurityGroupState } from './state.js';

function patch(state: SecurityGroupState, change: (g: SecurityGroup) => SecurityGroup): SecurityGroupState {
  return state.status === 'live' ? revised(state, change(state.resource)) : state;
}

export function evolveSecurityGroup(state: SecurityGroupState, event: SecurityGroupEvent): SecurityGroupState {
  switch (event.type) {
    case 'SecurityGroupCreated': {
      const d = event.data;
      return revised(state, { ...d, updatedAt: d.createdAt });
    }
    case 'SecurityGroupUpdated': {
      const { changes, updatedAt } = event.data;
      return patch(state, (g) => ({ ...g, ...changes, updatedAt }));
    }
    case 'SecurityGroupRuleAdded':
      return patch(state, (g) => ({ ...g, rules: [...g.rules, event.data.rule], updatedAt: event.data.updatedAt }));
    case 'SecurityGroupRuleRemoved':
      return patch(state, (g) => ({ ...g, rules: g.rules.filter((r) => r.id !== event.data.rule.id), updatedAt: event.data.updatedAt }));
    case 'SecurityGroupDeleted':
      return { status: 'deleted', revision: state.revision + 1, id: event.data.id };
  }
}
