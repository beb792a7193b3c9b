import type { Decider } from '../decider.js';
import type { FloatingIpCommand } from './commands.js';
import { decideFloatingIp } from './decide.js';
import type { FloatingIpEvent } from './events.js';
import { evolveFloatingIp } from './evolve.js';
import { initialFloatingIpState, type FloatingIpState } from './state.js';

export const floatingIpDecider: Decider<FloatingIpCommand, FloatingIpState, FloatingIpEvent> = {
  initialState: initialFloatingIpState,
  decide: decideFloatingIp,
  evolve: evolveFloatingIp,
};

export function floatingIpStreamId(id: string): string {
  return `floatingip-${id}`;
}
