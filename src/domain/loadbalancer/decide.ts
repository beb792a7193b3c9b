import type { Decision } from '../decider.js';
import { domainError, type DomainError } from '../errors.js';
import { cidrContains, cidrOf, parseIp } from '../ipam/index.js';
import type * as C from './commands.js';
import type { LoadBalancerEvent, LoadBalancerEventOf } from './events.js';
import {
  HEALTH_MONITOR_DEFAULT_MAX_RETRIES_DOWN,
  HEALTH_MONITOR_HTTP_DEFAULTS,
  LISTENER_DEFAULTS,
  LOADBALANCER_PROVIDER,
  MEMBER_DEFAULTS,
  type SessionPersistence,
} from './model.js';
import {
  idInUse,
  isLive,
  isLoadBalancerLive,
  livePoolMembers,
  livePoolMonitor,
  liveValues,
  type HealthMonitorRecord,
  type ListenerRecord,
  type LoadBalancerState,
  type MemberRecord,
  type PoolRecord,
} from './state.js';
import {
  canonicalAddress,
  connectionLimitValid,
  descriptiveValid,
  firstError,
  healthMonitorValid,
  httpFieldsAllowed,
  intInRange,
  isHttpMonitor,
  portValid,
  protocolsCompatible,
  revisionMatches,
  sessionPersistenceValid,
  timeoutsValid,
  type Check,
} from './validation.js';

type E = LoadBalancerEvent;

export function decide(command: C.LoadBalancerCommand, state: LoadBalancerState): Decision<E> {
  switch (command.type) {
    case 'CreateLoadBalancer':
      return createLoadBalancer(command, state);
    case 'RecordLoadBalancerApplied':
      return recordApplied(command, state);
    case 'RecordLoadBalancerApplyFailed':
      return recordApplyFailed(command, state);
    case 'ObserveMemberHealth':
      return observeMemberHealth(command, state);
  }
  if (!isLoadBalancerLive(state)) return loadBalancerNotFound(command.loadBalancerId);
  switch (command.type) {
    case 'UpdateLoadBalancer':
      return updateLoadBalancer(command, state);
    case 'DeleteLoadBalancer':
      return deleteLoadBalancer(command, state);
    case 'CreateListener':
      return createListener(command, state);
    case 'UpdateListener':
      return updateListener(command, state);
    case 'DeleteListener':
      return deleteListener(command, state);
    case 'CreatePool':
      return createPool(command, state);
    case 'UpdatePool':
      return updatePool(command, state);
    case 'DeletePool':
      return deletePool(command, state);
    case 'AddMember':
      return addMember(command, state);
    case 'UpdateMember':
      return updateMember(command, state);
    case 'RemoveMember':
      return removeMember(command, state);
    case 'ReplacePoolMembers':
      return replacePoolMembers(command, state);
    case 'CreateHealthMonitor':
      return createHealthMonitor(command, state);
    case 'UpdateHealthMonitor':
      return updateHealthMonitor(command, state);
    case 'DeleteHealthMonitor':
      return deleteHealthMonitor(command, state);
  }
}

// ---------- lookups and shared rules ----------

function loadBalancerNotFound(id: string): DomainError {
  return domainError('LoadBalancerNotFound', `Load Balancer ${id} could not be found.`, { details: { id } });
}
function notFound(code: string, what: string, id: string): DomainError {
  return domainError(code, `${what} ${id} could not be found.`, { details: { id } });
}
function listener(state: LoadBalancerState, id: string): ListenerRecord | DomainError {
  const l = state.listeners[id];
  return isLive(l) ? l : notFound('ListenerNotFound', 'Listener', id);
}
function pool(state: LoadBalancerState, id: string): PoolRecord | DomainError {
  const p = state.pools[id];
  return isLive(p) ? p : notFound('PoolNotFound', 'Pool', id);
}
/** A member is addressed through its pool, as in Octavia's /pools/{pool}/members/{member}. */
function member(state: LoadBalancerState, poolId: string, id: string): MemberRecord | DomainError {
  const m = state.members[id];
  return isLive(m) && m.poolId === poolId ? m : notFound('MemberNotFound', 'Member', id);
}
function healthMonitor(state: LoadBalancerState, id: string): HealthMonitorRecord | DomainError {
  const h = state.healthMonitors[id];
  return isLive(h) ? h : notFound('HealthMonitorNotFound', 'Health Monitor', id);
}
function isError(value: unknown): value is DomainError {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'DomainError';
}
function idAlreadyExists(id: string): DomainError {
  return domainError('IDAlreadyExists', `Already an entity with that specified id: ${id}.`, { details: { id } });
}

/** True when every field of `data` (except the listed ones) equals the record's. */
function sameAs(record: object, data: object, except: readonly string[]): boolean {
  const r = record as Record<string, unknown>;
  return Object.entries(data).every(([k, v]) => except.includes(k) || JSON.stringify(r[k]) === JSON.stringify(v));
}

/** The fields of `wanted` that differ from `current`; undefined means "leave as is". */
function changesOf<T extends object>(current: T, wanted: Partial<T>): Partial<T> {
  const changes: Partial<T> = {};
  for (const key of Object.keys(wanted) as (keyof T)[]) {
    const v = wanted[key];
    if (v !== undefined && JSON.stringify(v) !== JSON.stringify(current[key])) changes[key] = v;
  }
  return changes;
}
const isEmpty = (o: object): boolean => Object.keys(o).length === 0;

function normalizedPersistence(sp: SessionPersistence | null | undefined): { type: SessionPersistence['type']; cookieName: string | null } | null | undefined {
  return sp ? { type: sp.type, cookieName: sp.cookieName ?? null } : sp;
}

function duplicateListener(state: LoadBalancerState, protocolPort: number): Check {
  const taken = liveValues(state.listeners).find((l) => l.protocolPort === protocolPort);
  return taken
    ? domainError('DuplicateListenerEntry', `Another Listener on this Load Balancer is already using protocol_port ${protocolPort}`, {
        field: ['protocolPort'],
        details: { listenerId: taken.id, protocolPort },
      })
    : null;
}

/** A default pool must live in this load balancer and speak a protocol the listener can front. */
function defaultPoolUsable(state: LoadBalancerState, l: Pick<ListenerRecord, 'protocol'>, poolId: string | null | undefined): Check {
  if (!poolId) return null;
  const p = pool(state, poolId);
  return isError(p) ? p : protocolsCompatible(l.protocol, p.protocol);
}

// ---------- load balancer ----------

function createLoadBalancer(c: C.CreateLoadBalancer, state: LoadBalancerState): Decision<E> {
  const error = firstError(
    () => descriptiveValid(c),
    () => (c.provider !== undefined && c.provider !== LOADBALANCER_PROVIDER
      ? domainError('ProviderNotEnabled', `Provider '${c.provider}' is not enabled.`, { field: ['provider'] })
      : null),
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
    const identical = lb.deletedGeneration === null && sameAs(lb, createdEvent.data, ['createdAt']) && sameAs(lb.vip ?? {}, vipEvent.data, []);
    return identical ? [] : idAlreadyExists(c.loadBalancerId);
  }
  return [createdEvent, vipEvent];
}

function updateLoadBalancer(c: C.UpdateLoadBalancer, state: LoadBalancerState): Decision<E> {
  const lb = state.loadBalancer!;
  const error = firstError(() => revisionMatches(c.expectedRevision, state.revision), () => descriptiveValid(c));
  if (error) return error;
  const changes = changesOf(
    { name: lb.name, description: lb.description, tags: [...lb.tags], adminStateUp: lb.adminStateUp },
    { name: c.name, description: c.description, tags: c.tags ? [...c.tags] : undefined, adminStateUp: c.adminStateUp },
  );
  return isEmpty(changes) ? [] : [{ type: 'LoadBalancerUpdated', data: { changes, updatedAt: c.now } }];
}

function deleteLoadBalancer(c: C.DeleteLoadBalancer, state: LoadBalancerState): Decision<E> {
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

// ---------- listeners ----------

function createListener(c: C.CreateListener, state: LoadBalancerState): Decision<E> {
  const data: LoadBalancerEventOf<'ListenerCreated'>['data'] = {
    listenerId: c.listenerId,
    protocol: c.protocol,
    protocolPort: c.protocolPort,
    name: c.name ?? '',
    description: c.description ?? '',
    tags: [...(c.tags ?? [])],
    adminStateUp: c.adminStateUp ?? true,
    connectionLimit: c.connectionLimit ?? LISTENER_DEFAULTS.connectionLimit,
    timeoutClientData: c.timeoutClientData ?? LISTENER_DEFAULTS.timeoutClientData,
    timeoutMemberConnect: c.timeoutMemberConnect ?? LISTENER_DEFAULTS.timeoutMemberConnect,
    timeoutMemberData: c.timeoutMemberData ?? LISTENER_DEFAULTS.timeoutMemberData,
    timeoutTcpInspect: c.timeoutTcpInspect ?? LISTENER_DEFAULTS.timeoutTcpInspect,
    defaultPoolId: c.defaultPoolId ?? null,
    createdAt: c.now,
  };
  const existing = state.listeners[c.listenerId];
  if (existing) return isLive(existing) && sameAs(existing, data, ['createdAt', 'listenerId']) ? [] : idAlreadyExists(c.listenerId);
  if (idInUse(state, c.listenerId)) return idAlreadyExists(c.listenerId);
  const error = firstError(
    () => descriptiveValid(c),
    () => portValid('protocolPort', c.protocolPort),
    () => connectionLimitValid(c.connectionLimit),
    () => timeoutsValid(c),
    () => duplicateListener(state, c.protocolPort),
    () => defaultPoolUsable(state, c, c.defaultPoolId),
  );
  return error ?? [{ type: 'ListenerCreated', data }];
}

function updateListener(c: C.UpdateListener, state: LoadBalancerState): Decision<E> {
  const l = listener(state, c.listenerId);
  if (isError(l)) return l;
  const error = firstError(
    () => revisionMatches(c.expectedRevision, l.revision),
    () => descriptiveValid(c),
    () => connectionLimitValid(c.connectionLimit),
    () => timeoutsValid(c),
    () => (c.defaultPoolId !== l.defaultPoolId ? defaultPoolUsable(state, l, c.defaultPoolId) : null),
  );
  if (error) return error;
  const { type: _t, loadBalancerId: _lb, listenerId: _l, now: _n, expectedRevision: _r, tags, ...fields } = c;
  const changes = changesOf<Omit<ListenerRecord, 'tags'> & { tags: string[] }>({ ...l, tags: [...l.tags] }, { ...fields, tags: tags ? [...tags] : undefined });
  return isEmpty(changes) ? [] : [{ type: 'ListenerUpdated', data: { listenerId: l.id, changes, updatedAt: c.now } }];
}

function deleteListener(c: C.DeleteListener, state: LoadBalancerState): Decision<E> {
  const l = listener(state, c.listenerId);
  if (isError(l)) return l;
  return revisionMatches(c.expectedRevision, l.revision) ?? [{ type: 'ListenerDeleted', data: { listenerId: l.id, deletedAt: c.now } }];
}

// ---------- pools ----------

function createPool(c: C.CreatePool, state: LoadBalancerState): Decision<E> {
  const data: LoadBalancerEventOf<'PoolCreated'>['data'] = {
    poolId: c.poolId,
    listenerId: c.listenerId ?? null,
    protocol: c.protocol,
    name: c.name ?? '',
    description: c.description ?? '',
    tags: [...(c.tags ?? [])],
    adminStateUp: c.adminStateUp ?? true,
    lbAlgorithm: c.lbAlgorithm,
    sessionPersistence: normalizedPersistence(c.sessionPersistence) ?? null,
    createdAt: c.now,
  };
  const existing = state.pools[c.poolId];
  if (existing) {
    const attached = c.listenerId ? state.listeners[c.listenerId]?.defaultPoolId === c.poolId : true;
    return isLive(existing) && attached && sameAs(existing, data, ['createdAt', 'poolId', 'listenerId']) ? [] : idAlreadyExists(c.poolId);
  }
  if (idInUse(state, c.poolId)) return idAlreadyExists(c.poolId);
  const error = firstError(
    () => descriptiveValid(c),
    () => sessionPersistenceValid(c.sessionPersistence, c.protocol),
    () => {
      if (!c.listenerId) return null;
      const l = listener(state, c.listenerId);
      if (isError(l)) return l;
      if (l.defaultPoolId !== null) {
        return domainError('DuplicatePoolEntry', 'This listener already has a default pool', { field: ['listenerId'], details: { listenerId: l.id, poolId: l.defaultPoolId } });
      }
      return protocolsCompatible(l.protocol, c.protocol);
    },
  );
  return error ?? [{ type: 'PoolCreated', data }];
}

function updatePool(c: C.UpdatePool, state: LoadBalancerState): Decision<E> {
  const p = pool(state, c.poolId);
  if (isError(p)) return p;
  const error = firstError(
    () => revisionMatches(c.expectedRevision, p.revision),
    () => descriptiveValid(c),
    () => sessionPersistenceValid(c.sessionPersistence, p.protocol),
  );
  if (error) return error;
  const changes = changesOf(
    { name: p.name, description: p.description, tags: [...p.tags], adminStateUp: p.adminStateUp, lbAlgorithm: p.lbAlgorithm, sessionPersistence: p.sessionPersistence },
    {
      name: c.name,
      description: c.description,
      tags: c.tags ? [...c.tags] : undefined,
      adminStateUp: c.adminStateUp,
      lbAlgorithm: c.lbAlgorithm,
      sessionPersistence: normalizedPersistence(c.sessionPersistence),
    },
  );
  return isEmpty(changes) ? [] : [{ type: 'PoolUpdated', data: { poolId: p.id, changes, updatedAt: c.now } }];
}

/**
 * Octavia lets a default pool be deleted: the listener's default_pool_id becomes null (the
 * frontend then answers 503) rather than the delete being refused. Members and monitor go along.
 */
function deletePool(c: C.DeletePool, state: LoadBalancerState): Decision<E> {
  const p = pool(state, c.poolId);
  if (isError(p)) return p;
  const revision = revisionMatches(c.expectedRevision, p.revision);
  if (revision) return revision;
  return [
    {
      type: 'PoolDeleted',
      data: {
        poolId: p.id,
        memberIds: livePoolMembers(state, p.id).map((m) => m.id),
        healthMonitorId: livePoolMonitor(state, p.id)?.id ?? null,
        clearedDefaultPoolOfListenerIds: liveValues(state.listeners).filter((l) => l.defaultPoolId === p.id).map((l) => l.id),
        deletedAt: c.now,
      },
    },
  ];
}

// ---------- members ----------

type MemberData = LoadBalancerEventOf<'MemberAdded'>['data'];

/** A new member's subnet must be one the caller may use, and hold the member's address. */
function memberSubnetProblem(spec: C.MemberSpec, address: string, facts: C.MemberSubnetFacts): DomainError | null {
  if (!spec.subnetId) return null;
  const cidr = facts.subnetCidrs[spec.subnetId];
  if (cidr === undefined) return { ...notFound('SubnetNotFound', 'Subnet', spec.subnetId), field: ['subnetId'] };
  const ip = parseIp(address);
  if (ip && cidrContains(cidrOf(cidr), ip)) return null;
  return domainError('InvalidInput', `Invalid input for address. Reason: ${address} is not an address of subnet ${spec.subnetId} (${cidr}).`, { field: ['address'] });
}

/**
 * Validates one member and answers its complete data with defaults filled in. `subnets` is given
 * for a new member; an update keeps the subnet it was checked against.
 */
function memberData(poolId: string, memberId: string, spec: C.MemberSpec, now: string, subnets?: C.MemberSubnetFacts): MemberData | DomainError {
  const error = firstError(
    () => descriptiveValid(spec),
    () => portValid('protocolPort', spec.protocolPort),
    () => intInRange('weight', spec.weight, 0, 256),
    () => portValid('monitorPort', spec.monitorPort),
  );
  if (error) return error;
  const address = canonicalAddress('address', spec.address);
  if (isError(address)) return address;
  const outside = subnets ? memberSubnetProblem(spec, address, subnets) : null;
  if (outside) return outside;
  const monitorAddress = spec.monitorAddress ? canonicalAddress('monitorAddress', spec.monitorAddress) : null;
  if (isError(monitorAddress)) return monitorAddress;
  return {
    poolId,
    memberId,
    address,
    protocolPort: spec.protocolPort,
    subnetId: spec.subnetId ?? null,
    name: spec.name ?? '',
    tags: [...(spec.tags ?? [])],
    adminStateUp: spec.adminStateUp ?? MEMBER_DEFAULTS.adminStateUp,
    weight: spec.weight ?? MEMBER_DEFAULTS.weight,
    backup: spec.backup ?? MEMBER_DEFAULTS.backup,
    monitorAddress,
    monitorPort: spec.monitorPort ?? null,
    createdAt: now,
  };
}

const endpoint = (m: { address: string; protocolPort: number }): string => `${m.address}|${m.protocolPort}`;

function duplicateMember(address: string, protocolPort: number, existingId: string): DomainError {
  return domainError('DuplicateMemberEntry', `Another member on this pool is already using ip ${address} on protocol_port ${protocolPort}`, {
    details: { address, protocolPort, memberId: existingId },
  });
}

function addMember(c: C.AddMember, state: LoadBalancerState): Decision<E> {
  const p = pool(state, c.poolId);
  if (isError(p)) return p;
  const data = memberData(p.id, c.memberId, c, c.now, c);
  if (isError(data)) return data;
  const existing = state.members[c.memberId];
  if (existing) return isLive(existing) && sameAs(existing, data, ['createdAt', 'memberId']) ? [] : idAlreadyExists(c.memberId);
  if (idInUse(state, c.memberId)) return idAlreadyExists(c.memberId);
  const clash = livePoolMembers(state, p.id).find((m) => endpoint(m) === endpoint(data));
  if (clash) return duplicateMember(data.address, data.protocolPort, clash.id);
  return [{ type: 'MemberAdded', data }];
}

type MemberSettings = LoadBalancerEventOf<'MemberUpdated'>['data']['changes'];
function memberSettings(m: MemberRecord | MemberData): Required<MemberSettings> {
  return {
    name: m.name,
    tags: [...m.tags],
    adminStateUp: m.adminStateUp,
    weight: m.weight,
    backup: m.backup,
    monitorAddress: m.monitorAddress,
    monitorPort: m.monitorPort,
  };
}

function updateMember(c: C.UpdateMember, state: LoadBalancerState): Decision<E> {
  const m = member(state, c.poolId, c.memberId);
  if (isError(m)) return m;
  const revision = revisionMatches(c.expectedRevision, m.revision);
  if (revision) return revision;
  // validate the merged member so one rule set serves add, update and replace
  const current = memberSettings(m);
  const spec: C.MemberSpec = {
    address: m.address,
    protocolPort: m.protocolPort,
    subnetId: m.subnetId,
    name: c.name ?? current.name,
    tags: c.tags ?? current.tags,
    adminStateUp: c.adminStateUp ?? current.adminStateUp,
    weight: c.weight ?? current.weight,
    backup: c.backup ?? current.backup,
    // null clears a monitor override, undefined keeps it
    monitorAddress: c.monitorAddress === undefined ? current.monitorAddress : c.monitorAddress,
    monitorPort: c.monitorPort === undefined ? current.monitorPort : c.monitorPort,
  };
  const merged = memberData(m.poolId, m.id, spec, c.now);
  if (isError(merged)) return merged;
  const changes = changesOf(current, memberSettings(merged));
  return isEmpty(changes) ? [] : [{ type: 'MemberUpdated', data: { poolId: m.poolId, memberId: m.id, changes, updatedAt: c.now } }];
}

function removeMember(c: C.RemoveMember, state: LoadBalancerState): Decision<E> {
  const m = member(state, c.poolId, c.memberId);
  if (isError(m)) return m;
  return revisionMatches(c.expectedRevision, m.revision) ?? [{ type: 'MemberRemoved', data: { poolId: m.poolId, memberId: m.id, removedAt: c.now } }];
}

/** The smallest set of member events that turns the pool's members into exactly the given list. */
function replacePoolMembers(c: C.ReplacePoolMembers, state: LoadBalancerState): Decision<E> {
  const p = pool(state, c.poolId);
  if (isError(p)) return p;
  const revision = revisionMatches(c.expectedRevision, p.revision);
  if (revision) return revision;
  const current = new Map(livePoolMembers(state, p.id).map((m) => [endpoint(m), m]));
  const wanted = new Map<string, MemberData>();
  for (const [index, entry] of c.members.entries()) {
    const data = memberData(p.id, entry.id, entry, c.now, c);
    if (isError(data)) return { ...data, field: ['members', String(index), ...(data.field ?? [])] };
    const key = endpoint(data);
    const twin = wanted.get(key);
    if (twin) return duplicateMember(data.address, data.protocolPort, twin.memberId);
    wanted.set(key, data);
  }
  const removed: E[] = [];
  const updated: E[] = [];
  const added: E[] = [];
  for (const [key, m] of current) {
    if (!wanted.has(key)) removed.push({ type: 'MemberRemoved', data: { poolId: p.id, memberId: m.id, removedAt: c.now } });
  }
  const newIds = new Set<string>();
  for (const [key, data] of wanted) {
    const m = current.get(key);
    if (m) {
      const changes = changesOf(memberSettings(m), memberSettings(data));
      if (!isEmpty(changes)) updated.push({ type: 'MemberUpdated', data: { poolId: p.id, memberId: m.id, changes, updatedAt: c.now } });
    } else {
      if (idInUse(state, data.memberId) || newIds.has(data.memberId)) return idAlreadyExists(data.memberId);
      newIds.add(data.memberId);
      added.push({ type: 'MemberAdded', data });
    }
  }
  return [...removed, ...updated, ...added];
}

// ---------- health monitors ----------

function createHealthMonitor(c: C.CreateHealthMonitor, state: LoadBalancerState): Decision<E> {
  const p = pool(state, c.poolId);
  if (isError(p)) return p;
  const fieldsError = httpFieldsAllowed(c.monitorType, c);
  if (fieldsError) return fieldsError;
  const http = isHttpMonitor(c.monitorType);
  const data: LoadBalancerEventOf<'HealthMonitorCreated'>['data'] = {
    healthMonitorId: c.healthMonitorId,
    poolId: p.id,
    monitorType: c.monitorType,
    name: c.name ?? '',
    tags: [...(c.tags ?? [])],
    adminStateUp: c.adminStateUp ?? true,
    delay: c.delay,
    timeout: c.timeout,
    maxRetries: c.maxRetries,
    maxRetriesDown: c.maxRetriesDown ?? HEALTH_MONITOR_DEFAULT_MAX_RETRIES_DOWN,
    httpMethod: http ? (c.httpMethod ?? HEALTH_MONITOR_HTTP_DEFAULTS.httpMethod) : null,
    urlPath: http ? (c.urlPath ?? HEALTH_MONITOR_HTTP_DEFAULTS.urlPath) : null,
    expectedCodes: http ? (c.expectedCodes ?? HEALTH_MONITOR_HTTP_DEFAULTS.expectedCodes) : null,
    createdAt: c.now,
  };
  const existing = state.healthMonitors[c.healthMonitorId];
  if (existing) return isLive(existing) && sameAs(existing, data, ['createdAt', 'healthMonitorId']) ? [] : idAlreadyExists(c.healthMonitorId);
  if (idInUse(state, c.healthMonitorId)) return idAlreadyExists(c.healthMonitorId);
  const other = livePoolMonitor(state, p.id);
  if (other) {
    return domainError('DuplicateHealthMonitor', 'This pool already has a health monitor', { details: { poolId: p.id, healthMonitorId: other.id } });
  }
  const error = firstError(() => descriptiveValid(c), () => healthMonitorValid(data));
  return error ?? [{ type: 'HealthMonitorCreated', data }];
}

function updateHealthMonitor(c: C.UpdateHealthMonitor, state: LoadBalancerState): Decision<E> {
  const h = healthMonitor(state, c.healthMonitorId);
  if (isError(h)) return h;
  const { type: _t, loadBalancerId: _lb, healthMonitorId: _h, now: _n, expectedRevision: _r, tags, ...fields } = c;
  const wanted = { ...fields, tags: tags ? [...tags] : undefined };
  const current = {
    name: h.name,
    tags: [...h.tags],
    adminStateUp: h.adminStateUp,
    delay: h.delay,
    timeout: h.timeout,
    maxRetries: h.maxRetries,
    maxRetriesDown: h.maxRetriesDown,
    httpMethod: h.httpMethod,
    urlPath: h.urlPath,
    expectedCodes: h.expectedCodes,
  };
  const changes = changesOf(current, wanted);
  const error = firstError(
    () => revisionMatches(c.expectedRevision, h.revision),
    () => httpFieldsAllowed(h.monitorType, c),
    () => descriptiveValid(c),
    () => healthMonitorValid({ ...h, ...changes }),
  );
  if (error) return error;
  return isEmpty(changes) ? [] : [{ type: 'HealthMonitorUpdated', data: { healthMonitorId: h.id, changes, updatedAt: c.now } }];
}

function deleteHealthMonitor(c: C.DeleteHealthMonitor, state: LoadBalancerState): Decision<E> {
  const h = healthMonitor(state, c.healthMonitorId);
  if (isError(h)) return h;
  return revisionMatches(c.expectedRevision, h.revision) ?? [{ type: 'HealthMonitorDeleted', data: { healthMonitorId: h.id, deletedAt: c.now } }];
}

// ---------- dataplane reports ----------

function reportedGeneration(state: LoadBalancerState, generation: number): Check {
  return Number.isInteger(generation) && generation >= 1 && generation <= state.generation
    ? null
    : domainError('InvalidInput', `Generation ${generation} is not between 1 and the desired generation ${state.generation}.`, { field: ['generation'] });
}

/** Reports may arrive late or twice: one older than what is known changes nothing. */
function recordApplied(c: C.RecordLoadBalancerApplied, state: LoadBalancerState): Decision<E> {
  if (!state.loadBalancer) return loadBalancerNotFound(c.loadBalancerId);
  const error = reportedGeneration(state, c.generation);
  if (error) return error;
  return c.generation <= state.appliedGeneration ? [] : [{ type: 'LoadBalancerApplied', data: { generation: c.generation } }];
}

function recordApplyFailed(c: C.RecordLoadBalancerApplyFailed, state: LoadBalancerState): Decision<E> {
  if (!state.loadBalancer) return loadBalancerNotFound(c.loadBalancerId);
  const error = reportedGeneration(state, c.generation);
  if (error) return error;
  const known = state.failure && state.failure.generation === c.generation && state.failure.reason === c.reason;
  return c.generation <= state.appliedGeneration || known ? [] : [{ type: 'LoadBalancerApplyFailed', data: { generation: c.generation, reason: c.reason } }];
}

function observeMemberHealth(c: C.ObserveMemberHealth, state: LoadBalancerState): Decision<E> {
  if (!state.loadBalancer) return loadBalancerNotFound(c.loadBalancerId);
  const m = state.members[c.memberId];
  if (!m) return notFound('MemberNotFound', 'Member', c.memberId);
  // a report about a member on its way out is stale, not wrong
  if (m.deletedGeneration !== null || m.observedHealth === c.status) return [];
  return [{ type: 'MemberHealthObserved', data: { memberId: m.id, status: c.status } }];
}
