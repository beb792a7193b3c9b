import type { Queryable } from '../../db/sql.js';
import { livePoolMembers, livePoolMonitor, liveValues, type LoadBalancerState } from '../../domain/loadbalancer/index.js';
import type { TopologyLoadBalancer, TopologyPool } from '../desired-state/topology.js';
import { decodeState } from '../json-state.js';
import type { TopologyFragment, TopologySource } from './source.js';

/**
 * Load balancers for the dataplane, from the load balancer aggregates' stored state (the
 * resource rows hide which children are tombstones, the state says it). Deleted objects are left
 * out: a deleted member disappears from HAProxy, a deleted load balancer from the host.
 */

/** The running part of one load balancer tree; null when it is deleted or has no VIP yet. */
export function loadBalancerToTopology(state: LoadBalancerState): TopologyLoadBalancer | null {
  const lb = state.loadBalancer;
  if (!lb || lb.deletedGeneration !== null || !lb.vip) return null;
  const pools: TopologyPool[] = liveValues(state.pools).map((p) => {
    const hm = livePoolMonitor(state, p.id);
    return {
      id: p.id,
      adminStateUp: p.adminStateUp,
      protocol: p.protocol,
      lbAlgorithm: p.lbAlgorithm,
      sessionPersistence: p.sessionPersistence ? { type: p.sessionPersistence.type, cookieName: p.sessionPersistence.cookieName } : null,
      members: livePoolMembers(state, p.id).map((m) => ({
        id: m.id,
        adminStateUp: m.adminStateUp,
        address: m.address,
        protocolPort: m.protocolPort,
        weight: m.weight,
        backup: m.backup,
        monitorAddress: m.monitorAddress,
        monitorPort: m.monitorPort,
      })),
      healthMonitor: hm
        ? {
            id: hm.id,
            adminStateUp: hm.adminStateUp,
            type: hm.monitorType,
            delay: hm.delay,
            timeout: hm.timeout,
            maxRetries: hm.maxRetries,
            maxRetriesDown: hm.maxRetriesDown,
            httpMethod: hm.httpMethod,
            urlPath: hm.urlPath,
            expectedCodes: hm.expectedCodes,
          }
        : null,
    };
  });
  const livePools = new Set(pools.map((p) => p.id));
  return {
    id: lb.id,
    adminStateUp: lb.adminStateUp,
    vipPortId: lb.vip.portId,
    vipAddress: lb.vip.address,
    generation: state.generation,
    listeners: liveValues(state.listeners).map((l) => ({
      id: l.id,
      adminStateUp: l.adminStateUp,
      protocol: l.protocol,
      protocolPort: l.protocolPort,
      connectionLimit: l.connectionLimit,
      timeoutClientData: l.timeoutClientData,
      timeoutMemberConnect: l.timeoutMemberConnect,
      timeoutMemberData: l.timeoutMemberData,
      timeoutTcpInspect: l.timeoutTcpInspect,
      defaultPoolId: l.defaultPoolId !== null && livePools.has(l.defaultPoolId) ? l.defaultPoolId : null,
    })),
    pools,
  };
}

/** Every load balancer stream's state, as of the caller's snapshot. */
export async function loadBalancerTopology(q: Queryable): Promise<TopologyLoadBalancer[]> {
  const rows = await q<{ state: unknown }[]>`select state from rm_aggregates where stream_id like 'loadbalancer-%' order by stream_id`;
  return rows.flatMap((r) => {
    const lb = loadBalancerToTopology(decodeState<LoadBalancerState>(r.state));
    return lb ? [lb] : [];
  });
}

export async function loadBalancerTopologyPart(source: TopologySource): Promise<TopologyFragment> {
  return { loadBalancers: await loadBalancerTopology(source.q) };
}
