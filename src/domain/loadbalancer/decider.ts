import type { Decider } from '../decider.js';
import type { LoadBalancerCommand } from './commands.js';
import { decide } from './decide.js';
import type { LoadBalancerEvent } from './events.js';
import { evolve } from './evolve.js';
import { initialLoadBalancerState, type LoadBalancerState } from './state.js';

/** One aggregate per load balancer (stream `loadbalancer-<id>`) holding its whole tree. */
export const loadBalancerDecider: Decider<LoadBalancerCommand, LoadBalancerState, LoadBalancerEvent> = {
  initialState: initialLoadBalancerState,
  decide,
  evolve,
};
