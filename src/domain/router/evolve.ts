import type { RouterEvent } from './events.js';
import { revise } from './lifecycle.js';
import type { RouterState } from './state.js';

export function evolve(state: RouterState, event: RouterEvent): RouterState {
  switch (event.type) {
    case 'RouterCreated': {
      const { createdAt, ...rest } = event.data;
      return { status: 'live', revision: 1, resource: { ...rest, routes: [], gateway: null, interfaces: [], createdAt, updatedAt: createdAt } };
    }
    case 'RouterUpdated': {
      const { id: _id, ...changes } = event.data;
      return revise(state, (r) => ({ ...r, ...changes }));
    }
    case 'RouterRoutesChanged':
      return revise(state, (r) => ({ ...r, routes: event.data.routes, updatedAt: event.data.updatedAt }));
    case 'RouterGatewaySet': {
      const { networkId, portId, enableSnat, externalFixedIps, updatedAt } = event.data;
      return revise(state, (r) => ({ ...r, gateway: { networkId, portId, enableSnat, externalFixedIps }, updatedAt }));
    }
    case 'RouterGatewayCleared':
      return revise(state, (r) => ({ ...r, gateway: null, updatedAt: event.data.updatedAt }));
    case 'RouterInterfaceAdded': {
      const { id: _id, updatedAt, ...added } = event.data;
      return revise(state, (r) => ({ ...r, interfaces: [...r.interfaces, added], updatedAt }));
    }
    case 'RouterInterfaceRemoved': {
      const { portId, subnetId, updatedAt } = event.data;
      return revise(state, (r) => ({ ...r, interfaces: r.interfaces.filter((i) => !(i.portId === portId && i.subnetId === subnetId)), updatedAt }));
    }
    case 'RouterDeleted':
      return state.status === 'live' ? { status: 'deleted', revision: state.revision + 1 } : state;
  }
}
