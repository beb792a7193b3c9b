import type { Decider } from '../decider.js';
import type { NetworkCommand } from './commands.js';
import { decideNetwork } from './decide.js';
import type { NetworkEvent } from './events.js';
import { evolveNetwork } from './evolve.js';
import { initialNetworkState, type NetworkState } from './state.js';

export const networkDecider: Decider<NetworkCommand, NetworkState, NetworkEvent> = {
  initialState: initialNetworkState,
  decide: decideNetwork,
  evolve: evolveNetwork,
};

export function networkStreamId(id: string): string {
  return `network-${id}`;
}
