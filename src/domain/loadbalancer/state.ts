import type {
  HealthMonitorType,
  HttpMethod,
  LbAlgorithm,
  ListenerProtocol,
  MemberHealth,
  OperatingStatus,
  PoolProtocol,
  ProvisioningStatus,
  SessionPersistenceType,
} from './model.js';

/**
 * Desired-state bookkeeping on every object. Generations count desired-state events in the stream;
 * comparing them with the last applied generation is all the provisioning status needs.
 * A deleted child stays as a tombstone (`deletedGeneration`) until the dataplane has applied its
 * removal, so it can honestly show PENDING_DELETE; tombstones are invisible to every command.
 */
export interface Tracked {
  readonly id: string;
  readonly revision: number;
  readonly createdGeneration: number;
  readonly changedGeneration: number;
  readonly deletedGeneration: number | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface Vip {
  readonly portId: string;
  readonly address: string;
  readonly subnetId: string;
  readonly networkId: string;
  readonly portOwned: boolean;
}

export interface LoadBalancerRecord extends Tracked {
  readonly project: string;
  readonly name: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly adminStateUp: boolean;
  readonly provider: string;
  readonly vip: Vip | null;
}

export interface ListenerRecord extends Tracked {
  readonly name: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly adminStateUp: boolean;
  readonly protocol: ListenerProtocol;
  readonly protocolPort: number;
  readonly connectionLimit: number;
  readonly timeoutClientData: number;
  readonly timeoutMemberConnect: number;
  readonly timeoutMemberData: number;
  readonly timeoutTcpInspect: number;
  readonly defaultPoolId: string | null;
}

export interface PoolRecord extends Tracked {
  readonly name: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly adminStateUp: boolean;
  readonly protocol: PoolProtocol;
  readonly lbAlgorithm: LbAlgorithm;
  readonly sessionPersistence: { readonly type: SessionPersistenceType; readonly cookieName: string | null } | null;
}

export interface MemberRecord extends Tracked {
  readonly poolId: string;
  readonly name: string;
  readonly tags: readonly string[];
  readonly adminStateUp: boolean;
  readonly address: string;
  readonly protocolPort: number;
  readonly weight: number;
  readonly subnetId: string | null;
  readonly backup: boolean;
  readonly monitorAddress: string | null;
  readonly monitorPort: number | null;
  /** Last health the dataplane reported; cleared when the pool's monitoring changes. */
  readonly observedHealth: MemberHealth | null;
}

export interface HealthMonitorRecord extends Tracked {
  readonly poolId: string;
  readonly name: string;
  readonly tags: readonly string[];
  readonly adminStateUp: boolean;
  readonly monitorType: HealthMonitorType;
  readonly delay: number;
  readonly timeout: number;
  readonly maxRetries: number;
  readonly maxRetriesDown: number;
  readonly httpMethod: HttpMethod | null;
  readonly urlPath: string | null;
  readonly expectedCodes: string | null;
}

/** The whole load balancer tree plus how far the dataplane got; what the roll-up reads. */
export interface LoadBalancerTree {
  readonly loadBalancer: LoadBalancerRecord | null;
  readonly listeners: Readonly<Record<string, ListenerRecord>>;
  readonly pools: Readonly<Record<string, PoolRecord>>;
  readonly members: Readonly<Record<string, MemberRecord>>;
  readonly healthMonitors: Readonly<Record<string, HealthMonitorRecord>>;
  /** Number of desired-state events so far. */
  readonly generation: number;
  readonly appliedGeneration: number;
  /** The latest failed apply, kept only while it is newer than the last success. */
  readonly failure: { readonly generation: number; readonly reason: string } | null;
}

export interface ObjectStatus {
  readonly provisioningStatus: ProvisioningStatus;
  readonly operatingStatus: OperatingStatus;
  /** Why the apply that covered this object failed (only with provisioningStatus ERROR). */
  readonly error?: string;
}

export interface LoadBalancerStatuses {
  readonly loadBalancer: ObjectStatus | null;
  readonly listeners: Readonly<Record<string, ObjectStatus>>;
  readonly pools: Readonly<Record<string, ObjectStatus>>;
  readonly members: Readonly<Record<string, ObjectStatus>>;
  readonly healthMonitors: Readonly<Record<string, ObjectStatus>>;
}

export interface LoadBalancerState extends LoadBalancerTree {
  /** Stream version: every event counts, status reports included. */
  readonly revision: number;
  readonly statuses: LoadBalancerStatuses;
}

export const initialLoadBalancerState: LoadBalancerState = {
  loadBalancer: null,
  listeners: {},
  pools: {},
  members: {},
  healthMonitors: {},
  generation: 0,
  appliedGeneration: 0,
  failure: null,
  revision: 0,
  statuses: { loadBalancer: null, listeners: {}, pools: {}, members: {}, healthMonitors: {} },
};

export function isLive(record: Tracked | undefined): record is Tracked {
  return record !== undefined && record.deletedGeneration === null;
}

export function liveValues<T extends Tracked>(records: Readonly<Record<string, T>>): T[] {
  return Object.values(records).filter((r) => r.deletedGeneration === null);
}

export function livePoolMembers(tree: LoadBalancerTree, poolId: string): MemberRecord[] {
  return liveValues(tree.members).filter((m) => m.poolId === poolId);
}

export function livePoolMonitor(tree: LoadBalancerTree, poolId: string): HealthMonitorRecord | undefined {
  return liveValues(tree.healthMonitors).find((h) => h.poolId === poolId);
}

/** The load balancer exists and is not deleted. */
export function isLoadBalancerLive(tree: LoadBalancerTree): boolean {
  return tree.loadBalancer !== null && tree.loadBalancer.deletedGeneration === null;
}

/** Whether any record of the tree (tombstones included) already uses this id. */
export function idInUse(tree: LoadBalancerTree, id: string): boolean {
  return tree.loadBalancer?.id === id || id in tree.listeners || id in tree.pools || id in tree.members || id in tree.healthMonitors;
}
