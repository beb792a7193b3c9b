import type { OperatingStatus } from './model.js';
import { type LoadBalancerStatuses, type LoadBalancerTree, type ObjectStatus, type PoolRecord, type Tracked } from './state.js';

/**
 * Derives every object's provisioning and operating status from the tree, the dataplane's applied
 * generation and the observed member health. evolve stores the result; the API may call it too.
 *
 * Provisioning is honest about the dataplane rather than a lock (no ImmutableObject): an object is
 * ACTIVE once the generation holding its latest change has been applied, ERROR when the attempt
 * covering that change failed, PENDING_* otherwise. A parent's latest change includes its
 * children's, as Octavia moves the parents of a changed child to PENDING_UPDATE.
 *
 * Operating status follows Octavia's roll-up: members from observed health (NO_MONITOR without an
 * active monitor, OFFLINE when they or a parent are admin-down or not yet running), pools from
 * their running members, listeners from their default pool, the LB from its listeners.
 */
export function rollUpStatuses(tree: LoadBalancerTree): LoadBalancerStatuses {
  const lb = tree.loadBalancer;
  if (!lb) return { loadBalancer: null, listeners: {}, pools: {}, members: {}, healthMonitors: {} };
  const running = (r: Tracked): boolean => r.deletedGeneration === null && r.createdGeneration <= tree.appliedGeneration;
  const lbUp = lb.adminStateUp && running(lb);

  const members: Record<string, ObjectStatus> = {};
  const healthMonitors: Record<string, ObjectStatus> = {};
  const pools: Record<string, ObjectStatus> = {};
  const listeners: Record<string, ObjectStatus> = {};
  const poolLatest = new Map<string, number>();
  const poolMemberHealth = new Map<string, OperatingStatus[]>();

  const monitored = new Set<string>();
  for (const hm of Object.values(tree.healthMonitors)) {
    const latest = hm.deletedGeneration ?? hm.changedGeneration;
    poolLatest.set(hm.poolId, Math.max(poolLatest.get(hm.poolId) ?? 0, latest));
    const active = running(hm) && hm.adminStateUp && lbUp;
    if (active) monitored.add(hm.poolId);
    healthMonitors[hm.id] = { ...provisioning(tree, hm, latest), operatingStatus: active ? 'ONLINE' : 'OFFLINE' };
  }

  for (const m of Object.values(tree.members)) {
    const latest = m.deletedGeneration ?? m.changedGeneration;
    poolLatest.set(m.poolId, Math.max(poolLatest.get(m.poolId) ?? 0, latest));
    const pool = tree.pools[m.poolId];
    const up = running(m) && m.adminStateUp && lbUp && pool !== undefined && pool.adminStateUp;
    let op: OperatingStatus;
    if (!up) op = 'OFFLINE';
    else if (!monitored.has(m.poolId)) op = 'NO_MONITOR';
    // a NO_MONITOR report predates the monitor: not checked yet, like Octavia's initial OFFLINE
    else op = m.observedHealth === null || m.observedHealth === 'NO_MONITOR' ? 'OFFLINE' : m.observedHealth;
    members[m.id] = { ...provisioning(tree, m, latest), operatingStatus: op };
    if (up) poolMemberHealth.set(m.poolId, [...(poolMemberHealth.get(m.poolId) ?? []), op]);
  }

  const poolOperating = (p: PoolRecord): OperatingStatus => {
    if (!(running(p) && p.adminStateUp && lbUp)) return 'OFFLINE';
    const health = poolMemberHealth.get(p.id) ?? [];
    const errors = health.filter((h) => h === 'ERROR').length;
    const working = health.filter((h) => h === 'ONLINE' || h === 'NO_MONITOR' || h === 'DRAINING').length;
    // the reference: a backend without a working server is DOWN → ERROR, also when it has none
    if (working === 0 && (errors > 0 || health.length === 0)) return 'ERROR';
    if (errors > 0) return 'DEGRADED';
    return working > 0 ? 'ONLINE' : 'OFFLINE';
  };
  const effectivePoolLatest = new Map<string, number>();
  for (const p of Object.values(tree.pools)) {
    const latest = p.deletedGeneration ?? Math.max(p.changedGeneration, poolLatest.get(p.id) ?? 0);
    effectivePoolLatest.set(p.id, latest);
    pools[p.id] = { ...provisioning(tree, p, latest), operatingStatus: poolOperating(p) };
  }

  const lbHealth: OperatingStatus[] = [];
  for (const l of Object.values(tree.listeners)) {
    const pool = l.defaultPoolId ? tree.pools[l.defaultPoolId] : undefined;
    const latest = l.deletedGeneration ?? Math.max(l.changedGeneration, pool ? (effectivePoolLatest.get(pool.id) ?? 0) : 0);
    let op: OperatingStatus;
    if (!(running(l) && l.adminStateUp && lbUp)) op = 'OFFLINE';
    else if (!pool || pool.deletedGeneration !== null) op = 'ONLINE';
    else {
      const poolOp = pools[pool.id]!.operatingStatus;
      // an admin-down or not yet running default pool: the frontend is open but cannot serve
      op = poolOp === 'OFFLINE' ? 'DEGRADED' : poolOp;
    }
    listeners[l.id] = { ...provisioning(tree, l, latest), operatingStatus: op };
    if (op !== 'OFFLINE') lbHealth.push(op);
  }

  // standalone pools carry no traffic, so only listeners speak for the load balancer
  const lbOperating: OperatingStatus = !lbUp ? 'OFFLINE' : worst(lbHealth);
  const lbLatest = lb.deletedGeneration ?? tree.generation;
  return {
    loadBalancer: { ...provisioning(tree, lb, lbLatest), operatingStatus: lbOperating },
    listeners,
    pools,
    members,
    healthMonitors,
  };
}

const SEVERITY: readonly OperatingStatus[] = ['ONLINE', 'DEGRADED', 'ERROR'];
function worst(statuses: readonly OperatingStatus[]): OperatingStatus {
  return statuses.reduce<OperatingStatus>((w, s) => (SEVERITY.indexOf(s) > SEVERITY.indexOf(w) ? s : w), 'ONLINE');
}

function provisioning(tree: LoadBalancerTree, r: Tracked, latest: number): Pick<ObjectStatus, 'provisioningStatus' | 'error'> {
  if (latest <= tree.appliedGeneration) return { provisioningStatus: r.deletedGeneration !== null ? 'DELETED' : 'ACTIVE' };
  if (tree.failure && tree.failure.generation >= latest) return { provisioningStatus: 'ERROR', error: tree.failure.reason };
  if (r.deletedGeneration !== null) return { provisioningStatus: 'PENDING_DELETE' };
  return { provisioningStatus: r.createdGeneration > tree.appliedGeneration ? 'PENDING_CREATE' : 'PENDING_UPDATE' };
}
