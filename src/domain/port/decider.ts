import type { Decider } from '../decider.js';
import type { PortCommand } from './commands.js';
import { decidePort } from './decide.js';
import type { PortEvent } from './events.js';
import { evolvePort } from './evolve.js';
import { initialPortState, type PortState } from './state.js';

export const portDecider: Decider<PortCommand, PortState, PortEvent> = {
  initialState: initialPortState,
  decide: decidePort,
  evolve: evolvePort,
};

export function portStreamId(id: string): string {
  return `port-${id}`;
}
