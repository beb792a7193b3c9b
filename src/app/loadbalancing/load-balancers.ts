import { randomUUID } from 'node:crypto';
import { isDomainError } from '../../domain/errors.js';
import {
  loadBalancerDecider,
  type CreateLoadBalancer,
  type LoadBalancerEventOf,
  type UpdateLoadBalancer,
} from '../../domain/loadbalancer/index.js';
import type { EventMetadata } from '../../store/types.js';
import type { PlannedAppend } from '../command-runtime.js';
import { decideAppend } from '../plan.js';
import type { Services } from '../services.js';
import { changeLoadBalancer, loadOwnLoadBalancer, lockLoadBalancer, targetNotFound } from './aggregate.js';
import { planReleaseVip, planVip, requestedVip, type VipRequest } from './vip.js';
import type { Principal } from '../../domain/policy/index.js';

export type LoadBalancerInput = Omit<CreateLoadBalancer, 'type' | 'loadBalancerId' | 'project' | 'vip' | 'now'> &
  VipRequest & { readonly id?: string };
export type LoadBalancerChanges = Omit<UpdateLoadBalancer, 'type' | 'loadBalancerId' | 'now' | 'expectedRevision'>;

/**
 * Creates the load balancer with its VIP port in one transaction. A repeated create with the same
 * id never allocates another port: the request is compared with the VIP already bound.
 */
export function createLoadBalancer(s: Services, actor: Principal, input: LoadBalancerInput, metadata: EventMetadata) {
  const id = (input.id ?? randomUUID()).toLowerCase();
  const { vipSubnetId, vipNetworkId, vipPortId, vipAddress, id: _id, ...fields } = input;
  const request: VipRequest = { vipSubnetId, vipNetworkId, vipPortId, vipAddress };
  return s.runtime.execute(metadata, async (tx) => {
    const now = new Date().toISOString();
    const lb = await lockLoadBalancer(s, tx, id);
    const existing = lb.loaded.state.loadBalancer;
    const appends: PlannedAppend[] = [];
    let vip = existing ? requestedVip(existing.vip, request) : null;
    if (!vip) {
      const planned = await planVip(s, tx, actor, id, request, now);
      if (isDomainError(planned)) return planned;
      if (planned.append) appends.push(planned.append);
      vip = planned.vip;
    }
    const append = decideAppend(loadBalancerDecider, lb.loaded, lb.streamId, {
      ...fields,
      type: 'CreateLoadBalancer',
      loadBalancerId: id,
      project: actor.projectId,
      vip,
      now,
    });
    if (isDomainError(append)) return append;
    return { appends: [...appends, append], result: id };
  });
}

export function updateLoadBalancer(
  s: Services,
  actor: Principal,
  id: string,
  changes: LoadBalancerChanges,
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  return changeLoadBalancer(
    s,
    actor,
    { loadBalancerId: id },
    metadata,
    (c) => ({
      ...changes,
      type: 'UpdateLoadBalancer',
      loadBalancerId: c.loadBalancerId,
      now: c.now,
      ...(expectedRevision !== undefined ? { expectedRevision } : {}),
    }),
    { result: id },
  );
}

/** Octavia refuses a load balancer with children unless `cascade`; the VIP port it allocated goes with it. */
export function deleteLoadBalancer(
  s: Services,
  actor: Principal,
  id: string,
  options: { cascade?: boolean; expectedRevision?: number },
  metadata: EventMetadata,
) {
  return s.runtime.execute(metadata, async (tx) => {
    const now = new Date().toISOString();
    const target = { loadBalancerId: id };
    const lb = await loadOwnLoadBalancer(s, tx, actor, target);
    if (!lb) return targetNotFound(target);
    const append = decideAppend(loadBalancerDecider, lb.loaded, lb.streamId, {
      type: 'DeleteLoadBalancer',
      loadBalancerId: lb.id,
      now,
      cascade: options.cascade ?? false,
      ...(options.expectedRevision !== undefined ? { expectedRevision: options.expectedRevision } : {}),
    });
    if (isDomainError(append)) return append;
    const appends: PlannedAppend[] = [append];
    const deleted = append.events.find((e): e is LoadBalancerEventOf<'LoadBalancerDeleted'> => e.type === 'LoadBalancerDeleted');
    if (deleted) {
      const release = await planReleaseVip(s, tx, lb.loaded.state.loadBalancer!.project, deleted.data, now);
      if (isDomainError(release)) return release;
      if (release) appends.push(release);
    }
    return { appends, result: lb.id };
  });
}
