import type { MemberHealth } from '../../domain/loadbalancer/index.js';
import type { EventMetadata } from '../../store/types.js';
import type { Services } from '../services.js';
import { changeLoadBalancer } from './aggregate.js';
import type { Principal } from '../../domain/policy/index.js';

/**
 * What the dataplane agent reports back. Not part of the tenant API: the agent sees every
 * project's load balancers, and a report is about what runs, not a request to change anything.
 */
const AGENT: Principal = { projectId: '', isAdmin: true };
const AGENT_METADATA: EventMetadata = { actor: 'agent' };

/** Everything up to desired `generation` now runs (LoadBalancerApplied); statuses become ACTIVE. */
export function recordApplied(s: Services, loadBalancerId: string, generation: number, metadata: EventMetadata = AGENT_METADATA) {
  return changeLoadBalancer(
    s,
    AGENT,
    { loadBalancerId },
    metadata,
    (c) => ({ type: 'RecordLoadBalancerApplied', loadBalancerId: c.loadBalancerId, generation }),
    {
      result: loadBalancerId,
    },
  );
}

/** Applying `generation` failed; the objects it covered show ERROR with `reason`. */
export function recordApplyFailed(
  s: Services,
  loadBalancerId: string,
  generation: number,
  reason: string,
  metadata: EventMetadata = AGENT_METADATA,
) {
  return changeLoadBalancer(
    s,
    AGENT,
    { loadBalancerId },
    metadata,
    (c) => ({ type: 'RecordLoadBalancerApplyFailed', loadBalancerId: c.loadBalancerId, generation, reason }),
    {
      result: loadBalancerId,
    },
  );
}

/** A member's observed health; a repeat of the last observation records nothing. */
export function recordMemberHealth(
  s: Services,
  loadBalancerId: string,
  memberId: string,
  status: MemberHealth,
  metadata: EventMetadata = AGENT_METADATA,
) {
  return changeLoadBalancer(
    s,
    AGENT,
    { loadBalancerId },
    metadata,
    (c) => ({ type: 'ObserveMemberHealth', loadBalancerId: c.loadBalancerId, memberId, status }),
    {
      result: loadBalancerId,
    },
  );
}
