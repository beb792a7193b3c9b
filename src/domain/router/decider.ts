import type { Decider } from '../decider.js';
import type { RouterCommand } from './commands.js';
import { decide } from './decide.js';
import type { RouterEvent } from './events.js';
import { evolve } from './evolve.js';
import { absent } from './lifecycle.js';
import type { RouterState } from './state.js';

export const routerDecider: Decider<RouterCommand, RouterState, RouterEvent> = { initialState: absent, decide, evolve };
