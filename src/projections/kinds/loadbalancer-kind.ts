import { RESOURCE_KINDS } from '../../domain/kinds.js';
import {
  loadBalancerDecider,
  loadBalancerEvents,
  type HealthMonitorRecord,
  type ListenerRecord,
  type LoadBalancerEvent,
  type LoadBalancerRecord,
  type LoadBalancerState,
  type MemberRecord,
  type ObjectStatus,
  type PoolRecord,
  type Tracked,
} from '../../domain/loadbalancer/index.js';
import { defineKind, type ResourceRow } from '../aggregate-kind.js';

export const loadBalancerStreamId = (id: string): string => `loadbalancer-${id}`;

/** Read-model kinds of a load balancer tree, one rm_resources row per object. */
export const LB_KINDS = {
  loadBalancer: 'loadbalancer',
  listener: 'listener',
  pool: 'pool',
  member: 'member',
  healthMonitor: 'healthmonitor',
} as const;

type Public<T extends Tracked> = Omit<T, 'revision' | 'createdGeneration' | 'changedGeneration' | 'deletedGeneration'>;

interface StatusFields {
  readonly provisioningStatus: ObjectStatus['provisioningStatus'];
  readonly operatingStatus: ObjectStatus['operatingStatus'];
  readonly statusError: string | null;
}
interface InTree extends StatusFields {
  readonly loadBalancerId: string;
  readonly project: string;
}

export type LoadBalancerDoc = Public<LoadBalancerRecord> &
  StatusFields & {
    readonly generation: number;
    readonly appliedGeneration: number;
    readonly listenerIds: string[];
    readonly poolIds: string[];
  };
export type ListenerDoc = Public<ListenerRecord> & InTree;
export type PoolDoc = Public<PoolRecord> &
  InTree & { readonly listenerIds: string[]; readonly memberIds: string[]; readonly healthMonitorId: string | null };
export type MemberDoc = Omit<Public<MemberRecord>, 'observedHealth'> & InTree;
export type HealthMonitorDoc = Public<HealthMonitorRecord> & InTree;

function publicOf<T extends Tracked>(r: T): Public<T> {
  const { revision: _r, createdGeneration: _c, changedGeneration: _g, deletedGeneration: _d, ...rest } = r;
  return rest;
}

function statusOf(s: ObjectStatus | null | undefined): StatusFields {
  return {
    provisioningStatus: s?.provisioningStatus ?? 'PENDING_CREATE',
    operatingStatus: s?.operatingStatus ?? 'OFFLINE',
    statusError: s?.error ?? null,
  };
}

/** jsonb does not keep key order, so the stored state's maps come back shuffled; generations do not. */
function inCreationOrder<T extends Tracked>(records: Readonly<Record<string, T>>): T[] {
  return Object.values(records).sort((a, b) => a.createdGeneration - b.createdGeneration || (a.id < b.id ? -1 : 1));
}

/**
 * The whole tree as rows, tombstones included: an object whose removal the dataplane has not yet
 * applied still shows, as PENDING_DELETE (Octavia's behaviour, and the load balancer's quota is
 * held until then). A deleted load balancer leaves the read model once its removal is applied.
 */
export function loadBalancerRows(state: LoadBalancerState): ResourceRow[] {
  const lb = state.loadBalancer;
  if (!lb) return [];
  const lbStatus = statusOf(state.statuses.loadBalancer);
  if (lbStatus.provisioningStatus === 'DELETED') return [];
  const listeners = inCreationOrder(state.listeners);
  const pools = inCreationOrder(state.pools);
  const members = inCreationOrder(state.members);
  const monitors = inCreationOrder(state.healthMonitors);
  const row = (
    kind: string,
    r: Tracked & { name: string; tags: readonly string[] },
    doc: object,
    networkId: string | null = null,
  ): ResourceRow => ({
    id: r.id,
    kind,
    project: lb.project,
    name: r.name,
    tags: r.tags,
    networkId,
    revision: r.revision,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    doc,
  });
  const inTree = (status: ObjectStatus | undefined) => ({ loadBalancerId: lb.id, project: lb.project, ...statusOf(status) });

  const lbDoc: LoadBalancerDoc = {
    ...publicOf(lb),
    ...lbStatus,
    generation: state.generation,
    appliedGeneration: state.appliedGeneration,
    listenerIds: listeners.map((l) => l.id),
    poolIds: pools.map((p) => p.id),
  };
  return [
    row(LB_KINDS.loadBalancer, lb, lbDoc, lb.vip?.networkId ?? null),
    ...listeners.map((l) => row(LB_KINDS.listener, l, { ...publicOf(l), ...inTree(state.statuses.listeners[l.id]) } satisfies ListenerDoc)),
    ...pools.map((p) => {
      const monitor = monitors.find((h) => h.poolId === p.id && h.deletedGeneration === null) ?? monitors.find((h) => h.poolId === p.id);
      const doc: PoolDoc = {
        ...publicOf(p),
        ...inTree(state.statuses.pools[p.id]),
        listenerIds: listeners.filter((l) => l.defaultPoolId === p.id).map((l) => l.id),
        memberIds: members.filter((m) => m.poolId === p.id).map((m) => m.id),
        healthMonitorId: monitor?.id ?? null,
      };
      return row(LB_KINDS.pool, p, doc);
    }),
    ...members.map((m) => {
      const { observedHealth: _h, ...rest } = publicOf(m);
      return row(LB_KINDS.member, m, { ...rest, ...inTree(state.statuses.members[m.id]) } satisfies MemberDoc);
    }),
    ...monitors.map((h) =>
      row(LB_KINDS.healthMonitor, h, { ...publicOf(h), ...inTree(state.statuses.healthMonitors[h.id]) } satisfies HealthMonitorDoc),
    ),
  ];
}

/** A load balancer stream exposes its whole tree; the 'loadbalancer' row counts against the quota. */
export const loadBalancerKind = defineKind<LoadBalancerState, LoadBalancerEvent>({
  streamType: RESOURCE_KINDS.loadbalancer.streamType,
  eventTypes: loadBalancerEvents.map((d) => d.type),
  initialState: loadBalancerDecider.initialState,
  evolve: (s, e) => loadBalancerDecider.evolve(s, e),
  resources: (s) => loadBalancerRows(s),
});
