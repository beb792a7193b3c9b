import { createdAtRevisionZero, revised } from '../common/index.js';
import type { SubnetEvent } from './events.js';
import type { SubnetState } from './state.js';

export function evolveSubnet(state: SubnetState, event: SubnetEvent): SubnetState {
  switch (event.type) {
    case 'SubnetCreated':
      return createdAtRevisionZero({ ...event.data, updatedAt: event.data.createdAt });
    case 'SubnetUpdated': {
      if (state.status !== 'live') return state;
      const { changes, updatedAt } = event.data;
      return revised(state, { ...state.resource, ...changes, updatedAt });
    }
    case 'SubnetDeleted':
      return { status: 'deleted', revision: state.revision + 1, id: event.data.id };
  }
}
