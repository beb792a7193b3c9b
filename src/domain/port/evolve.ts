import { revised } from '../common/index.js';
import type { PortEvent } from './events.js';
import type { Port, PortState } from './state.js';

function patch(state: PortState, change: (p: Port) => Port): PortState {
  return state.status === 'live' ? revised(state, change(state.resource)) : state;
}

export function evolvePort(state: PortState, event: PortEvent): PortState {
  switch (event.type) {
    case 'PortCreated':
      return revised(state, { ...event.data, updatedAt: event.data.createdAt, statusReason: null });
    case 'PortUpdated': {
      const { changes, updatedAt } = event.data;
      return patch(state, (p) => ({ ...p, ...changes, updatedAt }));
    }
    case 'FixedIpsChanged': {
      const { fixedIps, updatedAt } = event.data;
      return patch(state, (p) => ({ ...p, fixedIps, updatedAt }));
    }
    case 'PortStatusChanged': {
      const { status, reason, updatedAt } = event.data;
      return patch(state, (p) => ({ ...p, status, statusReason: reason, updatedAt }));
    }
    case 'PortDeleted':
      return { status: 'deleted', revision: state.revision + 1, id: event.data.id };
  }
}
