import type { ObjectFieldBuilder } from '@pothos/core';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import {
  addMember, createHealthMonitor, createListener, createLoadBalancer, createPool, deleteHealthMonitor, deleteListener, deleteLoadBalancer, deletePool,
  removeMember, replacePoolMembers, updateHealthMonitor, updateListener, updateLoadBalancer, updateMember, updatePool,
} from '../../app/loadbalancing/index.js';
import type { CommandOutcome } from '../../app/command-runtime.js';
import {
  HealthMonitorTypeSchema, HttpMethodSchema, LbAlgorithmSchema, ListenerProtocolSchema, PoolProtocolSchema, SessionPersistenceTypeSchema,
} from '../../domain/loadbalancer/index.js';
import type { Port } from '../../domain/port/index.js';
import type { HealthMonitorDoc, ListenerDoc, LoadBalancerDoc, MemberDoc, PoolDoc } from '../../projections/kinds/loadbalancer-kind.js';
import type { ResourceKind } from '../../domain/kinds.js';
import { commandMetadata, type Context } from '../context.js';
import { answerDeleted, answerResource, DeletedRef } from './answer.js';
import { builder, type Types } from './builder.js';
import { HealthMonitorType, HttpMethod, LbAlgorithm, ListenerProtocol, OperatingStatus, PoolProtocol, ProvisioningStatus, SessionPersistenceType } from './enums.js';
import { clean, undefIfNull, clientId } from './input.js';
import { defineMutation } from './mutation.js';
import { PortRef } from './networking.js';
import { resourceNode, resourceRef } from './resource-node.js';
import { listResources, parseId, resourceLoader, ResourceFilter, type ResourceRecord, withTotalCount } from './resources.js';
import { MAX_TAGS } from './input-limits.js';

// ---- types ------------------------------------------------------------------------------------

export const LoadBalancerRef = resourceRef<LoadBalancerDoc>('LoadBalancer');
export const ListenerRef = resourceRef<ListenerDoc>('Listener');
export const PoolRef = resourceRef<PoolDoc>('Pool');
export const MemberRef = resourceRef<MemberDoc>('Member');
export const HealthMonitorRef = resourceRef<HealthMonitorDoc>('HealthMonitor');

type FieldsOf<D> = ObjectFieldBuilder<Types, ResourceRecord<D>>;
type Statused = { provisioningStatus: string; operatingStatus: string; statusError: string | null; adminStateUp: boolean };

/** Statuses come from the decider's roll-up, stored with each row by the projection. */
const statusFields = <D extends Statused>(t: FieldsOf<D>) => ({
  adminStateUp: t.boolean({ description: 'Administrative state: false takes it out of service (operatingStatus OFFLINE) without deleting it.', resolve: (r) => r.doc.adminStateUp }),
  provisioningStatus: t.field({
    type: ProvisioningStatus,
    description: 'PENDING_CREATE | PENDING_UPDATE | PENDING_DELETE until the dataplane has applied the latest change, then ACTIVE (or ERROR).',
    resolve: (r) => r.doc.provisioningStatus,
  }),
  operatingStatus: t.field({ type: OperatingStatus, description: "Octavia's operating_status, rolled up from the members' observed health (members, pools, listeners, then the load balancer).", resolve: (r) => r.doc.operatingStatus }),
  statusError: t.string({ nullable: true, description: 'Why the apply covering the latest change failed (provisioningStatus ERROR).', resolve: (r) => r.doc.statusError }),
});

async function loadAll<D>(ctx: Context, kind: string, ids: readonly string[]): Promise<ResourceRecord<D>[]> {
  const rows = await resourceLoader<D>(ctx, kind).loadMany(ids);
  return rows.filter((x): x is ResourceRecord<D> => x !== null && !(x instanceof Error));
}

const SessionPersistence = builder.objectRef<{ type: string; cookieName: string | null }>('SessionPersistence').implement({
  description: 'How a pool keeps a client on one member.',
  fields: (t) => ({ type: t.field({ type: SessionPersistenceType, description: 'SOURCE_IP, HTTP_COOKIE or APP_COOKIE.', resolve: (p) => p.type }), cookieName: t.exposeString('cookieName', { nullable: true, description: 'The application cookie to follow (APP_COOKIE only); null for the other types.' }) }),
});

resourceNode(LoadBalancerRef, 'loadbalancer', 'An Octavia-style load balancer: a VIP with listeners, pools, members and health monitors.', (t) => ({
  ...statusFields(t),
  provider: t.string({ description: 'The Octavia provider driver that implements it (always netledger).', resolve: (r) => r.doc.provider }),
  vipAddress: t.string({ nullable: true, description: 'The virtual IP address clients connect to; null until the VIP port has one.', resolve: (r) => r.doc.vip?.address ?? null }),
  vipPortId: t.string({ nullable: true, description: 'The uuid of the VIP port (device owner Octavia); null without a VIP.', resolve: (r) => r.doc.vip?.portId ?? null }),
  vipSubnetId: t.string({ nullable: true, description: 'The uuid of the subnet the VIP address is on; null without a VIP.', resolve: (r) => r.doc.vip?.subnetId ?? null }),
  vipNetworkId: t.string({ nullable: true, description: 'The uuid of the network of the VIP port; null without a VIP.', resolve: (r) => r.doc.vip?.networkId ?? null }),
  vipPort: t.field({ type: PortRef, nullable: true, description: 'The VIP port; null without a VIP or when the caller cannot see it.', resolve: (r, _a, ctx) => (r.doc.vip ? resourceLoader<Port>(ctx, 'port').load(r.doc.vip.portId) : null) }),
  generation: t.int({ description: 'Desired-state generation: raised by every change the dataplane must apply.', resolve: (r) => r.doc.generation }),
  appliedGeneration: t.int({ description: 'The generation the dataplane last reported running.', resolve: (r) => r.doc.appliedGeneration }),
  listeners: t.field({ type: [ListenerRef], description: 'Its listeners (frontends).', resolve: (r, _a, ctx) => loadAll<ListenerDoc>(ctx, 'listener', r.doc.listenerIds) }),
  pools: t.field({ type: [PoolRef], description: 'Its pools (backends), default pools of listeners or not.', resolve: (r, _a, ctx) => loadAll<PoolDoc>(ctx, 'pool', r.doc.poolIds) }),
}));

const parent = <D extends { loadBalancerId: string }>(t: FieldsOf<D>) => ({
  loadBalancerId: t.string({ description: 'The uuid of the load balancer it belongs to.', resolve: (r) => r.doc.loadBalancerId }),
  loadBalancer: t.field({ type: LoadBalancerRef, nullable: true, description: 'The load balancer it belongs to; null when the caller cannot see it.', resolve: (r, _a, ctx) => resourceLoader<LoadBalancerDoc>(ctx, 'loadbalancer').load(r.doc.loadBalancerId) }),
});

resourceNode(ListenerRef, 'listener', 'A frontend: protocol and port on the load balancer VIP.', (t) => ({
  ...statusFields(t),
  ...parent(t),
  protocol: t.field({ type: ListenerProtocol, description: 'What the listener accepts: TCP, HTTP or HTTPS (TLS passed through to the members).', resolve: (r) => r.doc.protocol }),
  protocolPort: t.int({ description: 'The TCP port it accepts on at the VIP (1-65535); unique per load balancer.', resolve: (r) => r.doc.protocolPort }),
  connectionLimit: t.int({ description: '-1 means unlimited.', resolve: (r) => r.doc.connectionLimit }),
  timeoutClientData: t.int({ description: 'Client inactivity timeout in milliseconds (default 50000).', resolve: (r) => r.doc.timeoutClientData }),
  timeoutMemberConnect: t.int({ description: 'Member connection timeout in milliseconds (default 5000).', resolve: (r) => r.doc.timeoutMemberConnect }),
  timeoutMemberData: t.int({ description: 'Member inactivity timeout in milliseconds (default 50000).', resolve: (r) => r.doc.timeoutMemberData }),
  timeoutTcpInspect: t.int({ description: 'Milliseconds to wait for more TCP content before choosing a backend (default 0: do not wait).', resolve: (r) => r.doc.timeoutTcpInspect }),
  defaultPoolId: t.string({ nullable: true, description: 'The uuid of the pool it sends traffic to; null: none, so it has no backend to send traffic to.', resolve: (r) => r.doc.defaultPoolId }),
  defaultPool: t.field({ type: PoolRef, nullable: true, description: 'The pool it sends traffic to; null when it has none.', resolve: (r, _a, ctx) => (r.doc.defaultPoolId ? resourceLoader<PoolDoc>(ctx, 'pool').load(r.doc.defaultPoolId) : null) }),
}));

resourceNode(PoolRef, 'pool', 'A backend: members balanced with one algorithm, optionally health-monitored.', (t) => ({
  ...statusFields(t),
  ...parent(t),
  protocol: t.field({ type: PoolProtocol, description: 'How the load balancer talks to the members: TCP, HTTP or HTTPS; must suit the listeners using the pool.', resolve: (r) => r.doc.protocol }),
  lbAlgorithm: t.field({ type: LbAlgorithm, description: 'How members are chosen: ROUND_ROBIN, LEAST_CONNECTIONS or SOURCE_IP.', resolve: (r) => r.doc.lbAlgorithm }),
  sessionPersistence: t.field({ type: SessionPersistence, nullable: true, description: 'How a client sticks to one member; null: no persistence.', resolve: (r) => r.doc.sessionPersistence }),
  listeners: t.field({ type: [ListenerRef], description: 'Listeners using this pool as their default pool.', resolve: (r, _a, ctx) => loadAll<ListenerDoc>(ctx, 'listener', r.doc.listenerIds) }),
  members: t.field({ type: [MemberRef], description: 'Its members (backend servers).', resolve: (r, _a, ctx) => loadAll<MemberDoc>(ctx, 'member', r.doc.memberIds) }),
  healthMonitorId: t.string({ nullable: true, description: 'The uuid of its health monitor; null when unmonitored (members are NO_MONITOR).', resolve: (r) => r.doc.healthMonitorId }),
  healthMonitor: t.field({ type: HealthMonitorRef, nullable: true, description: 'Its health monitor; null when it has none.', resolve: (r, _a, ctx) => (r.doc.healthMonitorId ? resourceLoader<HealthMonitorDoc>(ctx, 'healthmonitor').load(r.doc.healthMonitorId) : null) }),
}));

const inPool = <D extends { poolId: string }>(t: FieldsOf<D>) => ({
  poolId: t.string({ description: 'The uuid of the pool it belongs to.', resolve: (r) => r.doc.poolId }),
  pool: t.field({ type: PoolRef, nullable: true, description: 'The pool it belongs to; null when the caller cannot see it.', resolve: (r, _a, ctx) => resourceLoader<PoolDoc>(ctx, 'pool').load(r.doc.poolId) }),
});

resourceNode(MemberRef, 'member', 'A backend server of a pool (address and port).', (t) => ({
  ...statusFields(t),
  ...parent(t),
  ...inPool(t),
  address: t.string({ description: 'The backend IP address, in canonical form.', resolve: (r) => r.doc.address }),
  protocolPort: t.int({ description: 'The backend port (1-65535).', resolve: (r) => r.doc.protocolPort }),
  weight: t.int({ description: 'Relative share of new connections (0-256, default 1); 0 takes none.', resolve: (r) => r.doc.weight }),
  subnetId: t.string({ nullable: true, description: 'The uuid of the subnet the member is reached on; null: not given (reached through the VIP network, as in Octavia).', resolve: (r) => r.doc.subnetId }),
  backup: t.boolean({ description: 'A backup member takes traffic only when every regular member is down (default false).', resolve: (r) => r.doc.backup }),
  monitorAddress: t.string({ nullable: true, description: 'Address the health monitor probes instead of address; null: address.', resolve: (r) => r.doc.monitorAddress }),
  monitorPort: t.int({ nullable: true, description: 'Port the health monitor probes instead of protocolPort; null: protocolPort.', resolve: (r) => r.doc.monitorPort }),
}));

resourceNode(HealthMonitorRef, 'healthmonitor', 'Checks the members of one pool.', (t) => ({
  ...statusFields(t),
  ...parent(t),
  ...inPool(t),
  type: t.field({ type: HealthMonitorType, description: 'How members are probed: PING, TCP, HTTP or HTTPS.', resolve: (r) => r.doc.monitorType }),
  delay: t.int({ description: 'Seconds between probes of a member (at least timeout).', resolve: (r) => r.doc.delay }),
  timeout: t.int({ description: 'Seconds a probe waits for an answer.', resolve: (r) => r.doc.timeout }),
  maxRetries: t.int({ description: 'Successful probes in a row before a member goes ONLINE (1-10).', resolve: (r) => r.doc.maxRetries }),
  maxRetriesDown: t.int({ description: 'Failed probes in a row before a member goes ERROR (1-10, default 3).', resolve: (r) => r.doc.maxRetriesDown }),
  httpMethod: t.field({ type: HttpMethod, nullable: true, description: 'HTTP method of the probe (default GET); null for PING and TCP monitors.', resolve: (r) => r.doc.httpMethod }),
  urlPath: t.string({ nullable: true, description: 'Path the probe requests (default /); null for PING and TCP monitors.', resolve: (r) => r.doc.urlPath }),
  expectedCodes: t.string({ nullable: true, description: 'HTTP statuses that count as healthy: 200, 200,202 or 200-204 (default 200); null for PING and TCP monitors.', resolve: (r) => r.doc.expectedCodes }),
}));

// ---- queries ----------------------------------------------------------------------------------

/** Octavia's list filters shared by every child: its statuses and admin state. */
const statusFilterFields = (t: PothosSchemaTypes.InputFieldBuilder<Types, 'InputObject'>) => ({
  provisioningStatus: t.string({ required: false, description: 'ACTIVE, PENDING_CREATE, PENDING_UPDATE, PENDING_DELETE or ERROR.' }),
  operatingStatus: t.string({ required: false, description: 'ONLINE, OFFLINE, DEGRADED, ERROR, DRAINING or NO_MONITOR.' }),
  adminStateUp: t.boolean({ required: false, description: 'Only those administratively up (true) or down (false).' }),
});

const ListenerFilter = builder.inputType('ListenerFilter', {
  description: 'Octavia\'s GET /v2/lbaas/listeners filters.',
  fields: (t) => ({
    ...statusFilterFields(t),
    loadBalancerId: t.string({ required: false, description: 'uuid or global id' }),
    protocol: t.string({ required: false, description: 'HTTP, HTTPS, TCP, UDP or TERMINATED_HTTPS.' }),
    protocolPort: t.int({ required: false, description: 'The port the listener accepts on.' }),
    defaultPoolId: t.string({ required: false, description: 'uuid or global id' }),
  }),
});

const PoolFilter = builder.inputType('PoolFilter', {
  description: 'Octavia\'s GET /v2/lbaas/pools filters.',
  fields: (t) => ({
    ...statusFilterFields(t),
    loadBalancerId: t.string({ required: false, description: 'uuid or global id' }),
    listenerId: t.string({ required: false, description: 'Pools that are this listener\'s default pool (uuid or global id).' }),
    protocol: t.string({ required: false, description: 'HTTP, HTTPS, PROXY, TCP or UDP.' }),
    lbAlgorithm: t.string({ required: false, description: 'ROUND_ROBIN, LEAST_CONNECTIONS or SOURCE_IP.' }),
  }),
});

const MemberFilter = builder.inputType('MemberFilter', {
  description: 'Octavia\'s GET /v2/lbaas/pools/{pool_id}/members filters; poolId is the path\'s pool.',
  fields: (t) => ({
    ...statusFilterFields(t),
    poolId: t.string({ required: false, description: 'uuid or global id' }),
    address: t.string({ required: false, description: 'Compared in canonical form (2001:DB8::1 finds 2001:db8::1).' }),
    protocolPort: t.int({ required: false, description: 'The member\'s backend port.' }),
    subnetId: t.string({ required: false, description: 'uuid or global id' }),
    weight: t.int({ required: false, description: 'The member\'s weight (0-256).' }),
    backup: t.boolean({ required: false, description: 'Only backup members (true) or only regular ones (false).' }),
  }),
});

const HealthMonitorFilter = builder.inputType('HealthMonitorFilter', {
  description: 'Octavia\'s GET /v2/lbaas/healthmonitors filters.',
  fields: (t) => ({
    ...statusFilterFields(t),
    poolId: t.string({ required: false, description: 'uuid or global id' }),
    type: t.string({ required: false, description: 'HTTP, HTTPS, PING, TCP, TLS-HELLO or UDP-CONNECT.' }),
  }),
});

type StatusFilter = { provisioningStatus?: string | null; operatingStatus?: string | null; adminStateUp?: boolean | null };
const statusDocFilter = (f: StatusFilter | null | undefined) => ({
  provisioningStatus: f?.provisioningStatus ?? undefined,
  operatingStatus: f?.operatingStatus ?? undefined,
  adminStateUp: f?.adminStateUp ?? undefined,
});
const idFilter = (value: string | null | undefined, typename: string) => (value ? parseId(value, typename) : undefined);
const canonicalIp = (value: string | null | undefined) => (value ? (ipaddr.isValid(value) ? ipaddr.parse(value).toString() : value) : undefined);
const withNetwork = (filter: { networkId?: string | null } | null | undefined) =>
  filter ? { ...filter, networkId: filter.networkId ? parseId(filter.networkId, 'Network') : null } : null;

/** Children are listed like every resource: the caller's project (all of them for an admin), keyset pages. */
builder.queryFields((t) => ({
  loadBalancers: t.connection({
    type: LoadBalancerRef,
    description: 'Load balancers; deleted ones show (PENDING_DELETE) until the dataplane has removed them.',
    args: { filter: t.arg({ type: ResourceFilter, required: false, description: 'Only the resources that match all of its fields.' }) },
    resolve: (_r, args, ctx) => listResources<LoadBalancerDoc>(ctx, 'loadbalancer', { ...args, filter: withNetwork(args.filter) }),
  }, withTotalCount),
  listeners: t.connection({
    type: ListenerRef,
    description: 'Listeners of the load balancers the caller may see (Octavia\'s listener list).',
    args: { filter: t.arg({ type: ResourceFilter, required: false, description: 'Only the resources that match all of its fields.' }), listenerFilter: t.arg({ type: ListenerFilter, required: false , description: 'Octavia\'s list filters; all given must match.' }) },
    resolve: (_r, { listenerFilter: f, ...args }, ctx) =>
      listResources<ListenerDoc>(ctx, 'listener', {
        ...args,
        filter: withNetwork(args.filter),
        docFilter: {
          ...statusDocFilter(f),
          loadBalancerId: idFilter(f?.loadBalancerId, 'LoadBalancer'),
          protocol: f?.protocol ?? undefined,
          protocolPort: f?.protocolPort ?? undefined,
          defaultPoolId: idFilter(f?.defaultPoolId, 'Pool'),
        },
      }),
  }, withTotalCount),
  pools: t.connection({
    type: PoolRef,
    description: 'Pools of the load balancers the caller may see (Octavia\'s pool list).',
    args: { filter: t.arg({ type: ResourceFilter, required: false, description: 'Only the resources that match all of its fields.' }), poolFilter: t.arg({ type: PoolFilter, required: false , description: 'Octavia\'s list filters; all given must match.' }) },
    resolve: (_r, { poolFilter: f, ...args }, ctx) =>
      listResources<PoolDoc>(ctx, 'pool', {
        ...args,
        filter: withNetwork(args.filter),
        docFilter: {
          ...statusDocFilter(f),
          loadBalancerId: idFilter(f?.loadBalancerId, 'LoadBalancer'),
          protocol: f?.protocol ?? undefined,
          lbAlgorithm: f?.lbAlgorithm ?? undefined,
        },
        docContains: { listenerIds: idFilter(f?.listenerId, 'Listener') },
      }),
  }, withTotalCount),
  members: t.connection({
    type: MemberRef,
    description: 'Members of the pools the caller may see (Octavia\'s member list, with the pool as a filter).',
    args: { filter: t.arg({ type: ResourceFilter, required: false, description: 'Only the resources that match all of its fields.' }), memberFilter: t.arg({ type: MemberFilter, required: false , description: 'Octavia\'s list filters; all given must match.' }) },
    resolve: (_r, { memberFilter: f, ...args }, ctx) =>
      listResources<MemberDoc>(ctx, 'member', {
        ...args,
        filter: withNetwork(args.filter),
        docFilter: {
          ...statusDocFilter(f),
          poolId: idFilter(f?.poolId, 'Pool'),
          address: canonicalIp(f?.address),
          protocolPort: f?.protocolPort ?? undefined,
          subnetId: idFilter(f?.subnetId, 'Subnet'),
          weight: f?.weight ?? undefined,
          backup: f?.backup ?? undefined,
        },
      }),
  }, withTotalCount),
  healthMonitors: t.connection({
    type: HealthMonitorRef,
    description: 'Health monitors of the pools the caller may see (Octavia\'s health monitor list).',
    args: { filter: t.arg({ type: ResourceFilter, required: false, description: 'Only the resources that match all of its fields.' }), healthMonitorFilter: t.arg({ type: HealthMonitorFilter, required: false , description: 'Octavia\'s list filters; all given must match.' }) },
    resolve: (_r, { healthMonitorFilter: f, ...args }, ctx) =>
      listResources<HealthMonitorDoc>(ctx, 'healthmonitor', {
        ...args,
        filter: withNetwork(args.filter),
        docFilter: { ...statusDocFilter(f), poolId: idFilter(f?.poolId, 'Pool'), monitorType: f?.type ?? undefined },
      }),
  }, withTotalCount),
}));

// ---- mutations --------------------------------------------------------------------------------

/** Fields where an explicit null means "clear it" and absence means "leave it". */
const nullable = <K extends string>(raw: object, keys: readonly K[]) =>
  Object.fromEntries(keys.filter((k) => k in raw).map((k) => [k, (raw as Record<K, unknown>)[k] ?? null])) as Partial<Record<K, never>>;

const id = z.string().min(1);
const optionalId = clientId.nullish();
const revision = z.number().int().nullish();
const descriptive = { name: z.string().max(255).nullish(), description: z.string().max(255).nullish(), tags: z.array(z.string()).max(MAX_TAGS).nullish(), adminStateUp: z.boolean().nullish() };
const int = z.number().int().nullish();
const deleteSchema = z.object({ id, expectedRevision: revision });

const answer = (kind: ResourceKind, typename: string) => async (ctx: Context, out: Promise<CommandOutcome<string>>) => answerResource(ctx, kind, typename, await out);
const answerLb = answer('loadbalancer', 'LoadBalancer');
const answerListener = answer('listener', 'Listener');
const answerPool = answer('pool', 'Pool');
const answerMember = answer('member', 'Member');
const answerMonitor = answer('healthmonitor', 'HealthMonitor');

defineMutation('createLoadBalancer', {
  description: 'Creates a load balancer and its VIP: a port (device owner Octavia) on vipSubnetId, or on a subnet of vipNetworkId, or the given vipPortId.',
  schema: z.object({ ...descriptive, id: optionalId, provider: z.string().nullish().describe('Provider driver; only netledger (the default) is enabled, others are ProviderNotEnabled.'), vipSubnetId: z.string().nullish().describe('Subnet of the VIP (uuid or global id); one of vipSubnetId, vipNetworkId or vipPortId is required.'), vipNetworkId: z.string().nullish().describe('Network of the VIP (uuid or global id): a subnet of it is chosen when vipSubnetId is not given.'), vipPortId: z.string().nullish().describe('An existing port to use as the VIP port (uuid or global id).'), vipAddress: z.string().nullish().describe('A specific VIP address; otherwise a free one is taken.') })
    .refine((i) => Boolean(i.vipSubnetId || i.vipNetworkId || i.vipPortId), { message: 'one of vipSubnetId, vipNetworkId or vipPortId is required', path: ['vipSubnetId'] }),
  field: 'loadBalancer',
  type: LoadBalancerRef,
  run: (input, ctx) => {
    const lb = clean({
      ...input,
      vipSubnetId: input.vipSubnetId ? parseId(input.vipSubnetId, 'Subnet') : undefined,
      vipNetworkId: input.vipNetworkId ? parseId(input.vipNetworkId, 'Network') : undefined,
      vipPortId: input.vipPortId ? parseId(input.vipPortId, 'Port') : undefined,
    });
    return answerLb(ctx, createLoadBalancer(ctx.services, ctx.caller, lb, commandMetadata(ctx)));
  },
});

defineMutation('updateLoadBalancer', {
  description: 'Changes a load balancer\'s name, description, tags or admin state.',
  schema: z.object({ id, expectedRevision: revision, ...descriptive }),
  field: 'loadBalancer',
  type: LoadBalancerRef,
  run: ({ id: lbId, expectedRevision, ...changes }, ctx) =>
    answerLb(ctx, updateLoadBalancer(ctx.services, ctx.caller, parseId(lbId, 'LoadBalancer'), clean(changes), undefIfNull(expectedRevision), commandMetadata(ctx))),
});

defineMutation('deleteLoadBalancer', {
  description: 'Deletes a load balancer and frees its VIP port. With children (listeners, pools) only when cascade is true.',
  schema: deleteSchema.extend({ cascade: z.boolean().nullish().describe("Also delete its listeners, pools, members and health monitors (Octavia's cascade delete); without it a load balancer with children is refused.") }),
  field: 'deleted',
  type: DeletedRef,
  run: async (input, ctx) =>
    answerDeleted(await deleteLoadBalancer(ctx.services, ctx.caller, parseId(input.id, 'LoadBalancer'), { cascade: undefIfNull(input.cascade), expectedRevision: undefIfNull(input.expectedRevision) }, commandMetadata(ctx))),
});

const listenerSettings = {
  connectionLimit: int.describe('-1 (the default) for unlimited.'), timeoutClientData: int.describe('Client inactivity timeout in milliseconds (0-86400000, default 50000).'),
  timeoutMemberConnect: int.describe('Member connection timeout in milliseconds (0-86400000, default 5000).'),
  timeoutMemberData: int.describe('Member inactivity timeout in milliseconds (0-86400000, default 50000).'),
  timeoutTcpInspect: int.describe('Milliseconds to wait for more TCP content before choosing a backend (0-86400000, default 0).'),
  defaultPoolId: z.string().nullish().describe('On update, null clears it.'),
};
const poolIdOf = (v: string | null | undefined) => (v ? parseId(v, 'Pool') : v);

defineMutation('createListener', {
  description: 'Adds a listener (protocol and port on the VIP); DuplicateListenerEntry when the port is taken.',
  schema: z.object({ ...descriptive, ...listenerSettings, id: optionalId, loadBalancerId: id, protocol: ListenerProtocolSchema.describe('TCP | HTTP | HTTPS'), protocolPort: z.number().int().describe('The TCP port to accept on at the VIP (1-65535); DuplicateListenerEntry when taken.') }),
  field: 'listener',
  type: ListenerRef,
  run: (input, ctx) =>
    answerListener(ctx, createListener(ctx.services, ctx.caller, clean({ ...input, loadBalancerId: parseId(input.loadBalancerId, 'LoadBalancer'), defaultPoolId: poolIdOf(input.defaultPoolId) }), commandMetadata(ctx))),
});

defineMutation('updateListener', {
  description: 'Changes a listener; defaultPoolId null detaches its default pool.',
  schema: z.object({ id, expectedRevision: revision, ...descriptive, ...listenerSettings }),
  field: 'listener',
  type: ListenerRef,
  run: ({ id: listenerId, expectedRevision, ...rest }, ctx) => {
    const changes = { ...clean(rest), ...nullable({ ...rest, defaultPoolId: poolIdOf(rest.defaultPoolId) }, ['defaultPoolId']) };
    return answerListener(ctx, updateListener(ctx.services, ctx.caller, parseId(listenerId, 'Listener'), changes, undefIfNull(expectedRevision), commandMetadata(ctx)));
  },
});

defineMutation('deleteListener', {
  description: 'Deletes a listener; its pools stay.',
  schema: deleteSchema,
  field: 'deleted',
  type: DeletedRef,
  run: async (input, ctx) => answerDeleted(await deleteListener(ctx.services, ctx.caller, parseId(input.id, 'Listener'), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});

const sessionPersistence = z.object({ type: SessionPersistenceTypeSchema.describe('SOURCE_IP | HTTP_COOKIE | APP_COOKIE'), cookieName: z.string().nullish().describe('The application cookie to follow: required for APP_COOKIE, refused for the other types.') }).meta({ id: 'SessionPersistenceInput', description: "How a pool keeps a client on one member." }).nullish();

defineMutation('createPool', {
  description: 'Adds a pool to a load balancer, or as the default pool of listenerId (which also names the load balancer).',
  schema: z.object({
    ...descriptive, id: optionalId, loadBalancerId: z.string().nullish(), listenerId: z.string().nullish().describe('Make it this listener\'s default pool (uuid or global id); one of loadBalancerId and listenerId is required.'),
    protocol: PoolProtocolSchema.describe('TCP | HTTP | HTTPS'), lbAlgorithm: LbAlgorithmSchema.describe('ROUND_ROBIN | LEAST_CONNECTIONS | SOURCE_IP'), sessionPersistence,
  }),
  field: 'pool',
  type: PoolRef,
  run: (input, ctx) => {
    const pool = clean({
      ...input,
      loadBalancerId: input.loadBalancerId ? parseId(input.loadBalancerId, 'LoadBalancer') : undefined,
      listenerId: input.listenerId ? parseId(input.listenerId, 'Listener') : undefined,
      sessionPersistence: input.sessionPersistence ? clean(input.sessionPersistence) : undefined,
    });
    return answerPool(ctx, createPool(ctx.services, ctx.caller, pool, commandMetadata(ctx)));
  },
});

defineMutation('updatePool', {
  description: 'Changes a pool; sessionPersistence null removes it.',
  schema: z.object({ id, expectedRevision: revision, ...descriptive, lbAlgorithm: LbAlgorithmSchema.nullish(), sessionPersistence }),
  field: 'pool',
  type: PoolRef,
  run: ({ id: poolId, expectedRevision, ...rest }, ctx) => {
    const persistence = 'sessionPersistence' in rest ? { sessionPersistence: rest.sessionPersistence ? clean(rest.sessionPersistence) : null } : {};
    const changes = { ...clean({ ...rest, sessionPersistence: undefined }), ...persistence };
    return answerPool(ctx, updatePool(ctx.services, ctx.caller, parseId(poolId, 'Pool'), changes, undefIfNull(expectedRevision), commandMetadata(ctx)));
  },
});

defineMutation('deletePool', {
  description: 'Deletes a pool with its members and health monitor; listeners using it lose their default pool.',
  schema: deleteSchema,
  field: 'deleted',
  type: DeletedRef,
  run: async (input, ctx) => answerDeleted(await deletePool(ctx.services, ctx.caller, parseId(input.id, 'Pool'), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});

const memberSettings = {
  name: z.string().max(255).nullish(), tags: z.array(z.string()).max(MAX_TAGS).nullish(), adminStateUp: z.boolean().nullish(),
  weight: int.describe('0-256; 0 takes no new connections.'), backup: z.boolean().nullish().describe('Takes traffic only when every regular member is down (default false).'),
  monitorAddress: z.string().nullish().describe('Address the health monitor probes instead of address; on update, null clears it.'),
  monitorPort: int.describe('Port the health monitor probes instead of protocolPort (1-65535); on update, null clears it.'),
};
const memberSpec = z.object({ ...memberSettings, id: optionalId, address: z.string().min(1).describe('The backend IPv4 or IPv6 address.'), protocolPort: z.number().int().describe('The backend port (1-65535).'), subnetId: z.string().nullish() }).meta({ id: 'MemberSpecInput', description: "A member of a pool: a backend address and port." });
const toMemberSpec = (m: z.infer<typeof memberSpec>) => clean({ ...m, subnetId: m.subnetId ? parseId(m.subnetId, 'Subnet') : undefined });

defineMutation('addMember', {
  description: 'Adds a member to a pool; DuplicateMemberEntry when the address and port are already there.',
  schema: memberSpec.extend({ poolId: id }),
  field: 'member',
  type: MemberRef,
  run: ({ poolId, ...spec }, ctx) => answerMember(ctx, addMember(ctx.services, ctx.caller, { ...toMemberSpec(spec), poolId: parseId(poolId, 'Pool') }, commandMetadata(ctx))),
});

defineMutation('updateMember', {
  description: 'Changes a member (address and port are fixed); monitorAddress or monitorPort null clears the override.',
  schema: z.object({ id, expectedRevision: revision, ...memberSettings }),
  field: 'member',
  type: MemberRef,
  run: ({ id: memberId, expectedRevision, ...rest }, ctx) => {
    const changes = { ...clean(rest), ...nullable(rest, ['monitorAddress', 'monitorPort']) };
    return answerMember(ctx, updateMember(ctx.services, ctx.caller, parseId(memberId, 'Member'), changes, undefIfNull(expectedRevision), commandMetadata(ctx)));
  },
});

defineMutation('removeMember', {
  description: 'Removes a member from its pool.',
  schema: deleteSchema,
  field: 'deleted',
  type: DeletedRef,
  run: async (input, ctx) => answerDeleted(await removeMember(ctx.services, ctx.caller, parseId(input.id, 'Member'), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});

defineMutation('replacePoolMembers', {
  description: 'Octavia\'s batch member update: members becomes the pool\'s whole member set (matched by address and port; missing fields take defaults).',
  schema: z.object({ poolId: id, expectedRevision: revision, members: z.array(memberSpec).max(1000) }),
  field: 'pool',
  type: PoolRef,
  run: (input, ctx) =>
    answerPool(ctx, replacePoolMembers(ctx.services, ctx.caller, parseId(input.poolId, 'Pool'), input.members.map(toMemberSpec), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});

const monitorSettings = {
  name: z.string().max(255).nullish(), tags: z.array(z.string()).max(MAX_TAGS).nullish(), adminStateUp: z.boolean().nullish(),
  delay: int.describe('Seconds between probes of a member; at least timeout.'), timeout: int, maxRetries: int.describe('Successful probes in a row before a member goes ONLINE (1-10).'),
  maxRetriesDown: int.describe('Failed probes in a row before a member goes ERROR (1-10, default 3).'), httpMethod: HttpMethodSchema.nullish(),
  urlPath: z.string().nullish().describe('Path an HTTP(S) probe requests: starts with /, visible ASCII (default /); refused for PING and TCP.'), expectedCodes: z.string().nullish().describe('200, 200,202 or 200-204'),
};

defineMutation('createHealthMonitor', {
  description: 'Adds the health monitor of a pool (one per pool). delay >= timeout; maxRetries 1-10.',
  schema: z.object({ ...monitorSettings, id: optionalId, poolId: id, type: HealthMonitorTypeSchema.describe('PING | TCP | HTTP | HTTPS'), delay: z.number().int().describe('Seconds between probes of a member; at least timeout.'), timeout: z.number().int(), maxRetries: z.number().int().describe('Successful probes in a row before a member goes ONLINE (1-10).') }),
  field: 'healthMonitor',
  type: HealthMonitorRef,
  run: ({ type, poolId, ...rest }, ctx) =>
    answerMonitor(ctx, createHealthMonitor(ctx.services, ctx.caller, { ...clean(rest), monitorType: type, poolId: parseId(poolId, 'Pool') }, commandMetadata(ctx))),
});

defineMutation('updateHealthMonitor', {
  description: 'Changes a health monitor; the result must still be valid as a whole.',
  schema: z.object({ id, expectedRevision: revision, ...monitorSettings }),
  field: 'healthMonitor',
  type: HealthMonitorRef,
  run: ({ id: monitorId, expectedRevision, ...rest }, ctx) =>
    answerMonitor(ctx, updateHealthMonitor(ctx.services, ctx.caller, parseId(monitorId, 'HealthMonitor'), clean(rest), undefIfNull(expectedRevision), commandMetadata(ctx))),
});

defineMutation('deleteHealthMonitor', {
  description: 'Deletes a health monitor; its pool\'s members go back to NO_MONITOR.',
  schema: deleteSchema,
  field: 'deleted',
  type: DeletedRef,
  run: async (input, ctx) => answerDeleted(await deleteHealthMonitor(ctx.services, ctx.caller, parseId(input.id, 'HealthMonitor'), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});
