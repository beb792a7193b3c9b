import { createdAtRevisionZero, revised } from '../common/index.js';
import type { FloatingIpEvent } from './events.js';
import type { FloatingIp, FloatingIpState } from './state.js';

function patch(state: FloatingIpState, change: (f: FloatingIp) => FloatingIp): FloatingIpState {
  return state.status === 'live' ? revised(state, change(state.resource)) : state;
}

export function evolveFloatingIp(state: FloatingIpState, event: FloatingIpEvent): FloatingIpState {
  switch (event.type) {
    case 'FloatingIpCreated': {
      const d = event.data;
      return createdAtRevisionZero({ ...d, statusReason: null, updatedAt: d.createdAt });
    }
    case 'FloatingIpUpdated': {
      const { changes, updatedAt } = event.data;
      return patch(state, (f) => ({ ...f, ...changes, updatedAt }));
    }
    case 'FloatingIpAssociated': {
      const { portId, fixedIpAddress, routerId, updatedAt } = event.data;
      return patch(state, (f) => ({ ...f, association: { portId, fixedIpAddress, routerId }, updatedAt }));
    }
    case 'FloatingIpDisassociated':
      return patch(state, (f) => ({ ...f, association: null, updatedAt: event.data.updatedAt }));
    case 'FloatingIpStatusChanged':
      return patch(state, (f) => ({ ...f, status: event.data.status, statusReason: event.data.reason, updatedAt: event.data.updatedAt }));
    case 'FloatingIpDeleted':
      return { status: 'deleted', revision: state.revision + 1, id: event.data.id };
  }
}
