import { z } from 'zod';
import { defineEvent, type EventOf } from '../event-definition.js';
import {
  HealthMonitorTypeSchema,
  HttpMethodSchema,
  LbAlgorithmSchema,
  ListenerProtocolSchema,
  MemberHealthSchema,
  PoolProtocolSchema,
  SessionPersistenceSchema,
} from './model.js';

const id = z.uuid();
const tags = z.array(z.string());
const at = z.string();
const port = z.number().int().min(1).max(65535);

export const LoadBalancerCreated = defineEvent(
  'LoadBalancerCreated',
  z.object({
    id,
    project: z.string(),
    name: z.string(),
    description: z.string(),
    tags,
    adminStateUp: z.boolean(),
    provider: z.string(),
    createdAt: at,
  }),
);
export const VipBound = defineEvent(
  'VipBound',
  z.object({ portId: id, address: z.string(), subnetId: id, networkId: id, portOwned: z.boolean() }),
);
export const LoadBalancerUpdated = defineEvent(
  'LoadBalancerUpdated',
  z.object({
    changes: z.object({ name: z.string(), description: z.string(), tags, adminStateUp: z.boolean() }).partial(),
    updatedAt: at,
  }),
);
/**
 * One event for the cascade: the user asked for one thing, the stream ends with it, and it lists
 * every child it took along so read models can drop rows without replaying the tree. Per-child
 * events would make a half-applied cascade representable, which it never is.
 */
export const LoadBalancerDeleted = defineEvent(
  'LoadBalancerDeleted',
  z.object({
    id,
    listenerIds: z.array(id),
    poolIds: z.array(id),
    memberIds: z.array(id),
    healthMonitorIds: z.array(id),
    vipPortId: id.nullable(),
    vipPortOwned: z.boolean(),
    deletedAt: at,
  }),
);

const listenerSettings = {
  name: z.string(),
  description: z.string(),
  tags,
  adminStateUp: z.boolean(),
  connectionLimit: z.number().int(),
  timeoutClientData: z.number().int(),
  timeoutMemberConnect: z.number().int(),
  timeoutMemberData: z.number().int(),
  timeoutTcpInspect: z.number().int(),
  defaultPoolId: id.nullable(),
};
export const ListenerCreated = defineEvent(
  'ListenerCreated',
  z.object({ listenerId: id, protocol: ListenerProtocolSchema, protocolPort: port, ...listenerSettings, createdAt: at }),
);
export const ListenerUpdated = defineEvent(
  'ListenerUpdated',
  z.object({ listenerId: id, changes: z.object(listenerSettings).partial(), updatedAt: at }),
);
/** Pools the listener used stay (Octavia does not cascade a listener to its pools). */
export const ListenerDeleted = defineEvent('ListenerDeleted', z.object({ listenerId: id, deletedAt: at }));

const poolSettings = {
  name: z.string(),
  description: z.string(),
  tags,
  adminStateUp: z.boolean(),
  lbAlgorithm: LbAlgorithmSchema,
  sessionPersistence: SessionPersistenceSchema.nullable(),
};
export const PoolCreated = defineEvent(
  'PoolCreated',
  z.object({ poolId: id, listenerId: id.nullable(), protocol: PoolProtocolSchema, ...poolSettings, createdAt: at }),
);
export const PoolUpdated = defineEvent('PoolUpdated', z.object({ poolId: id, changes: z.object(poolSettings).partial(), updatedAt: at }));
/** Octavia deletes a pool's members and monitor with it and clears it as default pool of its listeners. */
export const PoolDeleted = defineEvent(
  'PoolDeleted',
  z.object({
    poolId: id,
    memberIds: z.array(id),
    healthMonitorId: id.nullable(),
    clearedDefaultPoolOfListenerIds: z.array(id),
    deletedAt: at,
  }),
);

const memberSettings = {
  name: z.string(),
  tags,
  adminStateUp: z.boolean(),
  weight: z.number().int().min(0).max(256),
  backup: z.boolean(),
  monitorAddress: z.string().nullable(),
  monitorPort: port.nullable(),
};
export const MemberAdded = defineEvent(
  'MemberAdded',
  z.object({
    poolId: id,
    memberId: id,
    address: z.string(),
    protocolPort: port,
    subnetId: id.nullable(),
    ...memberSettings,
    createdAt: at,
  }),
);
export const MemberUpdated = defineEvent(
  'MemberUpdated',
  z.object({ poolId: id, memberId: id, changes: z.object(memberSettings).partial(), updatedAt: at }),
);
export const MemberRemoved = defineEvent('MemberRemoved', z.object({ poolId: id, memberId: id, removedAt: at }));

const monitorSettings = {
  name: z.string(),
  tags,
  adminStateUp: z.boolean(),
  delay: z.number().int(),
  timeout: z.number().int(),
  maxRetries: z.number().int(),
  maxRetriesDown: z.number().int(),
  httpMethod: HttpMethodSchema.nullable(),
  urlPath: z.string().nullable(),
  expectedCodes: z.string().nullable(),
};
export const HealthMonitorCreated = defineEvent(
  'HealthMonitorCreated',
  z.object({ healthMonitorId: id, poolId: id, monitorType: HealthMonitorTypeSchema, ...monitorSettings, createdAt: at }),
);
export const HealthMonitorUpdated = defineEvent(
  'HealthMonitorUpdated',
  z.object({ healthMonitorId: id, changes: z.object(monitorSettings).partial(), updatedAt: at }),
);
export const HealthMonitorDeleted = defineEvent('HealthMonitorDeleted', z.object({ healthMonitorId: id, deletedAt: at }));

/** The dataplane runs the desired state of `generation` (and everything before it). */
export const LoadBalancerApplied = defineEvent('LoadBalancerApplied', z.object({ generation: z.number().int().min(1) }));
export const LoadBalancerApplyFailed = defineEvent(
  'LoadBalancerApplyFailed',
  z.object({ generation: z.number().int().min(1), reason: z.string() }),
);
/** Appended only when the observed health differs from the last observation. */
export const MemberHealthObserved = defineEvent('MemberHealthObserved', z.object({ memberId: id, status: MemberHealthSchema }));

export const loadBalancerEvents = [
  LoadBalancerCreated,
  VipBound,
  LoadBalancerUpdated,
  LoadBalancerDeleted,
  ListenerCreated,
  ListenerUpdated,
  ListenerDeleted,
  PoolCreated,
  PoolUpdated,
  PoolDeleted,
  MemberAdded,
  MemberUpdated,
  MemberRemoved,
  HealthMonitorCreated,
  HealthMonitorUpdated,
  HealthMonitorDeleted,
  LoadBalancerApplied,
  LoadBalancerApplyFailed,
  MemberHealthObserved,
] as const;

export type LoadBalancerEvent = EventOf<(typeof loadBalancerEvents)[number]>;
export type LoadBalancerEventOf<T extends LoadBalancerEvent['type']> = Extract<LoadBalancerEvent, { type: T }>;

/** Events that change what should run; each one is a new desired generation. */
export const DESIRED_STATE_EVENTS: ReadonlySet<LoadBalancerEvent['type']> = new Set<LoadBalancerEvent['type']>([
  'LoadBalancerCreated',
  'VipBound',
  'LoadBalancerUpdated',
  'LoadBalancerDeleted',
  'ListenerCreated',
  'ListenerUpdated',
  'ListenerDeleted',
  'PoolCreated',
  'PoolUpdated',
  'PoolDeleted',
  'MemberAdded',
  'MemberUpdated',
  'MemberRemoved',
  'HealthMonitorCreated',
  'HealthMonitorUpdated',
  'HealthMonitorDeleted',
]);
