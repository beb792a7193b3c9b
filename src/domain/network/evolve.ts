import { revised } from '../common/index.js';
import type { NetworkEvent } from './events.js';
import type { Network, NetworkState } from './state.js';

function patch(state: NetworkState, change: (n: Network) => Network): NetworkState {
  return state.status === 'live' ? revised(state, change(state.resource)) : state;
}

export function evolveNetwork(state: NetworkState, event: NetworkEvent): NetworkState {
  switch (event.type) {
    case 'NetworkCreated': {
      const d = event.data;
      return revised(state, { ...d, updatedAt: d.createdAt, status: 'ACTIVE', subnets: [] });
    }
    case 'NetworkUpdated': {
      const { changes, updatedAt } = event.data;
      return patch(state, (n) => ({ ...n, ...changes, updatedAt }));
    }
    case 'NetworkDeleted':
      return { status: 'deleted', revision: state.revision + 1, id: event.data.id };
    case 'NetworkSubnetAdded': {
      const { subnetId, cidr, updatedAt } = event.data;
      return patch(state, (n) => ({ ...n, subnets: [...n.subnets, { id: subnetId, cidr }], updatedAt }));
    }
    case 'NetworkSubnetRemoved': {
      const { subnetId, updatedAt } = event.data;
      return patch(state, (n) => ({ ...n, subnets: n.subnets.filter((x) => x.id !== subnetId), updatedAt }));
    }
    case 'NetworkSubnetUpdated':
      return patch(state, (n) => ({ ...n, updatedAt: event.data.updatedAt }));
  }
}
