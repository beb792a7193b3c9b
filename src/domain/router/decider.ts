import type { Decider } from '../decider.js';
import type { RouterCommand } from './commands.js';
import { decideRouter } from './decide.js';
import type { RouterEvent } from './events.js';
import { evolveRouter } from './evolve.js';
import { initialRouterState, type RouterState } from './state.js';

export const routerDecider: Decider<RouterCommand, RouterState, RouterEvent> = {
  initialState: initialRouterState,
  decide: decideRouter,
  evolve: evolveRouter,
};

export function routerStreamId(id: string): string {
  return `router-${id}`;
}
