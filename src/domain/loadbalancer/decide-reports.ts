import type { Decision } from '../decider.js';
import type * as C from './commands.js';
import type { LoadBalancerEvent } from './events.js';
import { domainError } from '../errors.js';
import type { LoadBalancerState } from './state.js';
import type { Check } from './validation.js';
import { loadBalancerNotFound, notFound } from './decide-lookups.js';

type E = LoadBalancerEvent;

function reportedGeneration(state: LoadBalancerState, generation: number): Check {
  return Number.isInteger(generation) && generation >= 1 && generation <= state.generation
    ? null
    : domainError('InvalidInput', `Generation ${generation} is not between 1 and the desired generation ${state.generation}.`, {
        field: ['generation'],
      });
}

/** Reports may arrive late or twice: one older than what is known changes nothing. */
export function recordApplied(c: C.RecordLoadBalancerApplied, state: LoadBalancerState): Decision<E> {
  if (!state.loadBalancer) return loadBalancerNotFound(c.loadBalancerId);
  const error = reportedGeneration(state, c.generation);
  if (error) return error;
  return c.generation <= state.appliedGeneration ? [] : [{ type: 'LoadBalancerApplied', data: { generation: c.generation } }];
}

export function recordApplyFailed(c: C.RecordLoadBalancerApplyFailed, state: LoadBalancerState): Decision<E> {
  if (!state.loadBalancer) return loadBalancerNotFound(c.loadBalancerId);
  const error = reportedGeneration(state, c.generation);
  if (error) return error;
  const known = state.failure && state.failure.generation === c.generation && state.failure.reason === c.reason;
  return c.generation <= state.appliedGeneration || known
    ? []
    : [{ type: 'LoadBalancerApplyFailed', data: { generation: c.generation, reason: c.reason } }];
}

export function observeMemberHealth(c: C.ObserveMemberHealth, state: LoadBalancerState): Decision<E> {
  if (!state.loadBalancer) return loadBalancerNotFound(c.loadBalancerId);
  const m = state.members[c.memberId];
  if (!m) return notFound('MemberNotFound', 'Member', c.memberId);
  // a report about a member on its way out is stale, not wrong
  if (m.deletedGeneration !== null || m.observedHealth === c.status) return [];
  return [{ type: 'MemberHealthObserved', data: { memberId: m.id, status: c.status } }];
}
