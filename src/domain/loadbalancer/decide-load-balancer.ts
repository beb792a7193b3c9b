import type { Decision } from '../decider.js';
import type * as C from './commands.js';
import type { LoadBalancerEvent, LoadBalancerEventOf } from './events.js';
import { domainError } from '../errors.js';
import { LOADBALANCER_PROVIDER } from './model.js';
import { liveValues, type LoadBalancerState } from './state.js';
import { canonicalAddress, descriptiveValid, firstError, revisionMatches } from './validation.js';
import { changesOf, idAlreadyExists, isEmpty, isError, sameAs } from './decide-lookups.js';

type E = LoadBalancerEvent;

export function createLoadBalancer(c: C.CreateLoadBalancer, state: LoadBalancerState): Decision<E> {
  const error = firstError(
    () => descriptiveValid(c),
    () =>
      c.provider !== undefined && c.provider !== LOADBALANCER_PROVIDER
        ? domainError('ProviderNotEnabled', `Provider '${c.provider}' is not enabled.`, { field: ['provider'] })
        : null,
  );
  if (error) return error;
  const address = canonicalAddress('vipAddress', c.vip.address);
  if (isError(address)) return address;
  const createdEvent: LoadBalancerEventOf<'LoadBalancerCreated'> = {
    type: 'LoadBalancerCreated',
    data: {
      id: c.loadBalancerId,
      project: c.project,
      name: c.name ?? '',
      description: c.description ?? '',
      tags: [...(c.tags ?? [])],
      adminStateUp: c.adminStateUp ?? true,
      provider: LOADBALANCER_PROVIDER,
      createdAt: c.now,
    },
  };
  const vipEvent: LoadBalancerEventOf<'VipBound'> = {
    type: 'VipBound',
    data: { portId: c.vip.portId, address, subnetId: c.vip.subnetId, networkId: c.vip.networkId, portOwned: c.vip.portOwned ?? true },
  };
  const lb = state.loadBalancer;
  if (lb) {
    const identical =
      lb.deletedGeneration === null && sameAs(lb, createdEvent.data, ['createdAt']) && sameAs(lb.vip ?? {}, vipEvent.data, []);
    return identical ? [] : idAlreadyExists(c.loadBalancerId);
  }
  return [createdEvent, vipEvent];
}

export function updateLoadBalancer(c: C.UpdateLoadBalancer, state: LoadBalancerState): Decision<E> {
  const lb = state.loadBalancer!;
  const error = firstError(
    () => revisionMatches(c.expectedRevision, state.revision),
    () => descriptiveValid(c),
  );
  if (error) return error;
  const changes = changesOf(
    { name: lb.name, description: lb.description, tags: [...lb.tags], adminStateUp: lb.adminStateUp },
    { name: c.name, description: c.description, tags: c.tags ? [...c.tags] : undefined, adminStateUp: c.adminStateUp },
  );
  return isEmpty(changes) ? [] : [{ type: 'LoadBalancerUpdated', data: { changes, updatedAt: c.now } }];
}

export function deleteLoadBalancer(c: C.DeleteLoadBalancer, state: LoadBalancerState): Decision<E> {
  const lb = state.loadBalancer!;
  const revision = revisionMatches(c.expectedRevision, state.revision);
  if (revision) return revision;
  const listenerIds = liveValues(state.listeners).map((l) => l.id);
  const poolIds = liveValues(state.pools).map((p) => p.id);
  if (!c.cascade && (listenerIds.length > 0 || poolIds.length > 0)) {
    return domainError('InvalidInput', `Cannot delete Load Balancer ${lb.id} - it has children`, { details: { listenerIds, poolIds } });
  }
  return [
    {
      type: 'LoadBalancerDeleted',
      data: {
        id: lb.id,
        listenerIds,
        poolIds,
        memberIds: liveValues(state.members).map((m) => m.id),
        healthMonitorIds: liveValues(state.healthMonitors).map((h) => h.id),
        vipPortId: lb.vip?.portId ?? null,
        vipPortOwned: lb.vip?.portOwned ?? false,
        deletedAt: c.now,
      },
    },
  ];
}
