import { revised } from '../common/index.js';
import type { RouterEvent } from './events.js';
import type { Router, RouterState } from './state.js';

function patch(state: RouterState, change: (r: Router) => Router): RouterState {
  return state.status === 'live' ? revised(state, change(state.resource)) : state;
}

export function evolveRouter(state: RouterState, event: RouterEvent): RouterState {
  switch (event.type) {
    case 'RouterCreated': {
      const d = event.data;
      return revised(state, { ...d, routes: [], gateway: null, interfaces: [], updatedAt: d.createdAt });
    }
    case 'RouterUpdated': {
      const { changes, updatedAt } = event.data;
      // Leaving HA (or entering it) starts from scratch: the old VRRP id and states mean nothing.
      const haChanged = changes.ha !== undefined && state.status === 'live' && changes.ha !== state.resource.ha;
      return patch(state, (r) => ({ ...r, ...changes, ...(haChanged ? { haVrid: null, haStates: {} } : {}), updatedAt }));
    }
    case 'RouterRoutesChanged':
      return patch(state, (r) => ({ ...r, routes: event.data.routes, updatedAt: event.data.updatedAt }));
    case 'RouterGatewaySet': {
      const { networkId, portId, enableSnat, externalFixedIps, updatedAt } = event.data;
      return patch(state, (r) => ({ ...r, gateway: { networkId, portId, enableSnat, externalFixedIps }, updatedAt }));
    }
    case 'RouterGatewayCleared':
      return patch(state, (r) => ({ ...r, gateway: null, updatedAt: event.data.updatedAt }));
    case 'RouterInterfaceAdded': {
      const { portId, subnetId, networkId, ip, cidr, updatedAt } = event.data;
      return patch(state, (r) => ({ ...r, interfaces: [...r.interfaces, { portId, subnetId, networkId, ip, cidr }], updatedAt }));
    }
    case 'RouterInterfaceRemoved': {
      const { portId, subnetId, updatedAt } = event.data;
      return patch(state, (r) => ({
        ...r,
        interfaces: r.interfaces.filter((i) => !(i.portId === portId && i.subnetId === subnetId)),
        updatedAt,
      }));
    }
    case 'RouterHaVridAllocated': {
      const { haNetworkId, vrid, updatedAt } = event.data;
      return patch(state, (r) => ({ ...r, haVrid: { networkId: haNetworkId, vrid }, updatedAt }));
    }
    case 'RouterHaStateChanged': {
      const { host, haState, updatedAt } = event.data;
      return patch(state, (r) => ({ ...r, haStates: { ...(r.haStates ?? {}), [host]: haState }, updatedAt }));
    }
    case 'RouterDeleted':
      return { status: 'deleted', revision: state.revision + 1, id: event.data.id };
  }
}
