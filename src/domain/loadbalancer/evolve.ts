import { DESIRED_STATE_EVENTS, type LoadBalancerEvent } from './events.js';
import type { LoadBalancerRecord, LoadBalancerState, LoadBalancerTree, MemberRecord, Tracked } from './state.js';
import { rollUpStatuses } from './status.js';

type Records<T> = Readonly<Record<string, T>>;

export function evolve(state: LoadBalancerState, event: LoadBalancerEvent): LoadBalancerState {
  const generation = DESIRED_STATE_EVENTS.has(event.type) ? state.generation + 1 : state.generation;
  const revision = state.revision + 1;
  const tree = applyEvent({ ...state, generation }, event, generation);
  const pruned = prune(tree);
  const loadBalancer = pruned.loadBalancer ? { ...pruned.loadBalancer, revision } : null;
  const next: LoadBalancerTree = { ...pruned, loadBalancer };
  return { ...next, revision, statuses: rollUpStatuses(next) };
}

function created(id: string, g: number, at: string): Tracked {
  return { id, revision: 1, createdGeneration: g, changedGeneration: g, deletedGeneration: null, createdAt: at, updatedAt: at };
}

function touched<T extends Tracked>(record: T, g: number, at: string, changes: Partial<T> = {}): T {
  return { ...record, ...changes, revision: record.revision + 1, changedGeneration: g, updatedAt: at };
}

function update<T>(records: Records<T>, id: string, f: (r: T) => T): Records<T> {
  const r = records[id];
  return r === undefined ? records : { ...records, [id]: f(r) };
}

function updateWhere<T>(records: Records<T>, match: (r: T) => boolean, f: (r: T) => T): Records<T> {
  return Object.fromEntries(Object.entries(records).map(([id, r]) => [id, match(r) ? f(r) : r]));
}

function tombstone<T extends Tracked>(g: number, at: string) {
  return (r: T): T => (r.deletedGeneration === null ? { ...r, deletedGeneration: g, updatedAt: at } : r);
}

/** Health seen under another monitoring setup says nothing about the new one. */
function forgetHealth(members: Records<MemberRecord>, poolId: string): Records<MemberRecord> {
  return updateWhere(
    members,
    (m) => m.poolId === poolId && m.observedHealth !== null,
    (m) => ({ ...m, observedHealth: null }),
  );
}

function applyEvent(s: LoadBalancerTree, e: LoadBalancerEvent, g: number): LoadBalancerTree {
  switch (e.type) {
    case 'LoadBalancerCreated': {
      const { id, createdAt, ...rest } = e.data;
      return { ...s, loadBalancer: { ...created(id, g, createdAt), ...rest, vip: null } };
    }
    case 'VipBound':
      return s.loadBalancer ? { ...s, loadBalancer: { ...s.loadBalancer, vip: e.data, changedGeneration: g } } : s;
    case 'LoadBalancerUpdated':
      return s.loadBalancer ? { ...s, loadBalancer: touched(s.loadBalancer, g, e.data.updatedAt, e.data.changes) } : s;
    case 'LoadBalancerDeleted': {
      const at = e.data.deletedAt;
      if (!s.loadBalancer) return s;
      return {
        ...s,
        loadBalancer: tombstone<LoadBalancerRecord>(g, at)(s.loadBalancer),
        listeners: updateWhere(s.listeners, () => true, tombstone(g, at)),
        pools: updateWhere(s.pools, () => true, tombstone(g, at)),
        members: updateWhere(s.members, () => true, tombstone(g, at)),
        healthMonitors: updateWhere(s.healthMonitors, () => true, tombstone(g, at)),
      };
    }
    case 'ListenerCreated': {
      const { listenerId, createdAt, ...rest } = e.data;
      return { ...s, listeners: { ...s.listeners, [listenerId]: { ...created(listenerId, g, createdAt), ...rest } } };
    }
    case 'ListenerUpdated':
      return { ...s, listeners: update(s.listeners, e.data.listenerId, (l) => touched(l, g, e.data.updatedAt, e.data.changes)) };
    case 'ListenerDeleted':
      return { ...s, listeners: update(s.listeners, e.data.listenerId, tombstone(g, e.data.deletedAt)) };
    case 'PoolCreated': {
      const { poolId, listenerId, createdAt, ...rest } = e.data;
      const pools = { ...s.pools, [poolId]: { ...created(poolId, g, createdAt), ...rest } };
      const listeners = listenerId
        ? update(s.listeners, listenerId, (l) => touched(l, g, createdAt, { defaultPoolId: poolId }))
        : s.listeners;
      return { ...s, pools, listeners };
    }
    case 'PoolUpdated':
      return { ...s, pools: update(s.pools, e.data.poolId, (p) => touched(p, g, e.data.updatedAt, e.data.changes)) };
    case 'PoolDeleted': {
      const { poolId, deletedAt: at } = e.data;
      const cleared = new Set(e.data.clearedDefaultPoolOfListenerIds);
      return {
        ...s,
        pools: update(s.pools, poolId, tombstone(g, at)),
        members: updateWhere(s.members, (m) => m.poolId === poolId, tombstone(g, at)),
        healthMonitors: updateWhere(s.healthMonitors, (h) => h.poolId === poolId, tombstone(g, at)),
        listeners: updateWhere(
          s.listeners,
          (l) => cleared.has(l.id),
          (l) => touched(l, g, at, { defaultPoolId: null }),
        ),
      };
    }
    case 'MemberAdded': {
      const { memberId, createdAt, ...rest } = e.data;
      return { ...s, members: { ...s.members, [memberId]: { ...created(memberId, g, createdAt), ...rest, observedHealth: null } } };
    }
    case 'MemberUpdated':
      return { ...s, members: update(s.members, e.data.memberId, (m) => touched(m, g, e.data.updatedAt, e.data.changes)) };
    case 'MemberRemoved':
      return { ...s, members: update(s.members, e.data.memberId, tombstone(g, e.data.removedAt)) };
    case 'HealthMonitorCreated': {
      const { healthMonitorId, createdAt, ...rest } = e.data;
      return {
        ...s,
        healthMonitors: { ...s.healthMonitors, [healthMonitorId]: { ...created(healthMonitorId, g, createdAt), ...rest } },
        members: forgetHealth(s.members, rest.poolId),
      };
    }
    case 'HealthMonitorUpdated': {
      const hm = s.healthMonitors[e.data.healthMonitorId];
      if (!hm) return s;
      const monitoringChanged = e.data.changes.adminStateUp !== undefined && e.data.changes.adminStateUp !== hm.adminStateUp;
      return {
        ...s,
        healthMonitors: { ...s.healthMonitors, [hm.id]: touched(hm, g, e.data.updatedAt, e.data.changes) },
        members: monitoringChanged ? forgetHealth(s.members, hm.poolId) : s.members,
      };
    }
    case 'HealthMonitorDeleted': {
      const hm = s.healthMonitors[e.data.healthMonitorId];
      if (!hm) return s;
      return {
        ...s,
        healthMonitors: { ...s.healthMonitors, [hm.id]: tombstone<typeof hm>(g, e.data.deletedAt)(hm) },
        members: forgetHealth(s.members, hm.poolId),
      };
    }
    case 'LoadBalancerApplied': {
      const appliedGeneration = Math.max(s.appliedGeneration, e.data.generation);
      const failure = s.failure && s.failure.generation > appliedGeneration ? s.failure : null;
      return { ...s, appliedGeneration, failure };
    }
    case 'LoadBalancerApplyFailed':
      return e.data.generation > s.appliedGeneration ? { ...s, failure: { generation: e.data.generation, reason: e.data.reason } } : s;
    case 'MemberHealthObserved':
      return { ...s, members: update(s.members, e.data.memberId, (m) => ({ ...m, observedHealth: e.data.status })) };
  }
}

/** Children whose removal the dataplane has applied are gone for good. */
function prune(s: LoadBalancerTree): LoadBalancerTree {
  const keep = <T extends Tracked>(records: Records<T>): Records<T> => {
    const gone = Object.values(records).some((r) => r.deletedGeneration !== null && r.deletedGeneration <= s.appliedGeneration);
    return gone
      ? Object.fromEntries(
          Object.entries(records).filter(([, r]) => r.deletedGeneration === null || r.deletedGeneration > s.appliedGeneration),
        )
      : records;
  };
  return { ...s, listeners: keep(s.listeners), pools: keep(s.pools), members: keep(s.members), healthMonitors: keep(s.healthMonitors) };
}
