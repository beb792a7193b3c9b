import type {
  HealthMonitorType,
  HttpMethod,
  LbAlgorithm,
  ListenerProtocol,
  MemberHealth,
  PoolProtocol,
  SessionPersistence,
} from './model.js';

/**
 * Commands for one load balancer aggregate (stream `loadbalancer-<loadBalancerId>`). Child ids are
 * chosen by the caller (uuids) so a retried create is recognised. Optional fields take Octavia's
 * defaults; `now` is the ISO timestamp every change records.
 */
interface Base {
  readonly loadBalancerId: string;
}
interface Change extends Base {
  readonly now: string;
  readonly expectedRevision?: number;
}
interface Descriptive {
  readonly name?: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly adminStateUp?: boolean;
}

/** VIP facts resolved by the application (port allocated on the subnet/network, or the user's port). */
export interface VipFacts {
  readonly portId: string;
  readonly address: string;
  readonly subnetId: string;
  readonly networkId: string;
  /** false when the user handed over an existing port: deleting the LB must then leave it alone. */
  readonly portOwned?: boolean;
}

export interface CreateLoadBalancer extends Base, Descriptive {
  readonly type: 'CreateLoadBalancer';
  readonly project: string;
  readonly provider?: string;
  readonly vip: VipFacts;
  readonly now: string;
}
export interface UpdateLoadBalancer extends Change, Omit<Descriptive, never> {
  readonly type: 'UpdateLoadBalancer';
}
export interface DeleteLoadBalancer extends Change {
  readonly type: 'DeleteLoadBalancer';
  /** Octavia refuses to delete a load balancer with listeners or pools unless cascade is asked for. */
  readonly cascade?: boolean;
}

export interface ListenerTimeouts {
  readonly timeoutClientData?: number;
  readonly timeoutMemberConnect?: number;
  readonly timeoutMemberData?: number;
  readonly timeoutTcpInspect?: number;
}
export interface CreateListener extends Base, Descriptive, ListenerTimeouts {
  readonly type: 'CreateListener';
  readonly listenerId: string;
  readonly protocol: ListenerProtocol;
  readonly protocolPort: number;
  readonly connectionLimit?: number;
  readonly defaultPoolId?: string | null;
  readonly now: string;
}
export interface UpdateListener extends Change, Descriptive, ListenerTimeouts {
  readonly type: 'UpdateListener';
  readonly listenerId: string;
  readonly connectionLimit?: number;
  readonly defaultPoolId?: string | null;
}
export interface DeleteListener extends Change {
  readonly type: 'DeleteListener';
  readonly listenerId: string;
}

export interface CreatePool extends Base, Descriptive {
  readonly type: 'CreatePool';
  readonly poolId: string;
  /** Given: the pool becomes this listener's default pool. Absent: a standalone pool of the LB. */
  readonly listenerId?: string | null;
  readonly protocol: PoolProtocol;
  readonly lbAlgorithm: LbAlgorithm;
  readonly sessionPersistence?: SessionPersistence | null;
  readonly now: string;
}
export interface UpdatePool extends Change, Descriptive {
  readonly type: 'UpdatePool';
  readonly poolId: string;
  readonly lbAlgorithm?: LbAlgorithm;
  readonly sessionPersistence?: SessionPersistence | null;
}
export interface DeletePool extends Change {
  readonly type: 'DeletePool';
  readonly poolId: string;
}

export interface MemberSpec {
  readonly address: string;
  readonly protocolPort: number;
  readonly name?: string;
  readonly tags?: readonly string[];
  readonly adminStateUp?: boolean;
  readonly weight?: number;
  readonly subnetId?: string | null;
  readonly backup?: boolean;
  readonly monitorAddress?: string | null;
  readonly monitorPort?: number | null;
}
/**
 * The CIDR of every subnet the members name, by id: the application answers SubnetNotFound for a
 * subnet that does not exist or that the caller may not see, so one missing here is not found either.
 */
export interface MemberSubnetFacts {
  readonly subnetCidrs: Readonly<Record<string, string>>;
}
export interface AddMember extends Base, MemberSpec, MemberSubnetFacts {
  readonly type: 'AddMember';
  readonly poolId: string;
  readonly memberId: string;
  readonly now: string;
}
/** address and protocolPort are immutable, so they are not part of an update. */
export interface UpdateMember extends Change, Omit<MemberSpec, 'address' | 'protocolPort' | 'subnetId'> {
  readonly type: 'UpdateMember';
  readonly poolId: string;
  readonly memberId: string;
}
export interface RemoveMember extends Change {
  readonly type: 'RemoveMember';
  readonly poolId: string;
  readonly memberId: string;
}
/**
 * Octavia's batch member update: the list is the pool's whole desired member set. Members are
 * matched by address+port; `id` is used only for entries that are new. Omitted fields take their
 * defaults (the entry describes the member completely).
 */
export interface ReplacePoolMembers extends Change, MemberSubnetFacts {
  readonly type: 'ReplacePoolMembers';
  readonly poolId: string;
  readonly members: readonly (MemberSpec & { readonly id: string })[];
}

export interface HealthMonitorSettings {
  readonly delay?: number;
  readonly timeout?: number;
  readonly maxRetries?: number;
  readonly maxRetriesDown?: number;
  readonly httpMethod?: HttpMethod;
  readonly urlPath?: string;
  readonly expectedCodes?: string;
}
export interface CreateHealthMonitor extends Base, HealthMonitorSettings {
  readonly type: 'CreateHealthMonitor';
  readonly healthMonitorId: string;
  readonly poolId: string;
  readonly monitorType: HealthMonitorType;
  readonly delay: number;
  readonly timeout: number;
  readonly maxRetries: number;
  readonly name?: string;
  readonly tags?: readonly string[];
  readonly adminStateUp?: boolean;
  readonly now: string;
}
export interface UpdateHealthMonitor extends Change, HealthMonitorSettings {
  readonly type: 'UpdateHealthMonitor';
  readonly healthMonitorId: string;
  readonly name?: string;
  readonly tags?: readonly string[];
  readonly adminStateUp?: boolean;
}
export interface DeleteHealthMonitor extends Change {
  readonly type: 'DeleteHealthMonitor';
  readonly healthMonitorId: string;
}

/** From the dataplane: everything up to `generation` is now what runs. */
export interface RecordLoadBalancerApplied extends Base {
  readonly type: 'RecordLoadBalancerApplied';
  readonly generation: number;
}
export interface RecordLoadBalancerApplyFailed extends Base {
  readonly type: 'RecordLoadBalancerApplyFailed';
  readonly generation: number;
  readonly reason: string;
}
export interface ObserveMemberHealth extends Base {
  readonly type: 'ObserveMemberHealth';
  readonly memberId: string;
  readonly status: MemberHealth;
}

export type LoadBalancerCommand =
  | CreateLoadBalancer
  | UpdateLoadBalancer
  | DeleteLoadBalancer
  | CreateListener
  | UpdateListener
  | DeleteListener
  | CreatePool
  | UpdatePool
  | DeletePool
  | AddMember
  | UpdateMember
  | RemoveMember
  | ReplacePoolMembers
  | CreateHealthMonitor
  | UpdateHealthMonitor
  | DeleteHealthMonitor
  | RecordLoadBalancerApplied
  | RecordLoadBalancerApplyFailed
  | ObserveMemberHealth;
