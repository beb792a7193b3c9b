import type { Decider } from '../decider.js';
import type { SubnetCommand } from './commands.js';
import { decideSubnet } from './decide.js';
import type { SubnetEvent } from './events.js';
import { evolveSubnet } from './evolve.js';
import { initialSubnetState, type SubnetState } from './state.js';

export const subnetDecider: Decider<SubnetCommand, SubnetState, SubnetEvent> = {
  initialState: initialSubnetState,
  decide: decideSubnet,
  evolve: evolveSubnet,
};

export function subnetStreamId(id: string): string {
  return `subnet-${id}`;
}
