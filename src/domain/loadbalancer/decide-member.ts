import type { Decision } from '../decider.js';
import type * as C from './commands.js';
import type { LoadBalancerEvent, LoadBalancerEventOf } from './events.js';
import { domainError, type DomainError } from '../errors.js';
import { cidrContains, cidrOf, parseIp } from '../ipam/index.js';
import { MEMBER_DEFAULTS } from './model.js';
import { idInUse, isLive, livePoolMembers, type LoadBalancerState, type MemberRecord } from './state.js';
import { canonicalAddress, descriptiveValid, firstError, intInRange, portValid, revisionMatches } from './validation.js';
import { changesOf, idAlreadyExists, isEmpty, isError, member, notFound, pool, sameAs } from './decide-lookups.js';

type E = LoadBalancerEvent;

type MemberData = LoadBalancerEventOf<'MemberAdded'>['data'];

/**
 * A new member's subnet must be one the caller may use (the application answers SubnetNotFound,
 * Octavia's 404, for one that is missing or hidden), and hold the member's address in its IP
 * version: Octavia's ValidationException, 400 "Validation failure: ...".
 */
function memberSubnetProblem(spec: C.MemberSpec, address: string, facts: C.MemberSubnetFacts): DomainError | null {
  if (!spec.subnetId) return null;
  const cidr = facts.subnetCidrs[spec.subnetId];
  if (cidr === undefined) return { ...notFound('SubnetNotFound', 'Subnet', spec.subnetId), field: ['subnetId'] };
  const ip = parseIp(address);
  const subnet = cidrOf(cidr);
  if (ip && cidrContains(subnet, ip)) return null;
  const reason =
    ip && ip.version !== subnet.version
      ? `member address ${address} is IPv${ip.version} but subnet ${spec.subnetId} (${cidr}) is IPv${subnet.version}.`
      : `member address ${address} is not in subnet ${spec.subnetId} (${cidr}).`;
  return domainError('ValidationException', `Validation failure: ${reason}`, {
    field: ['address'],
    details: { address, subnetId: spec.subnetId, cidr },
  });
}

/**
 * Validates one member and answers its complete data with defaults filled in. `subnets` is given
 * for a new member; an update keeps the subnet it was checked against.
 */
function memberData(
  poolId: string,
  memberId: string,
  spec: C.MemberSpec,
  now: string,
  subnets?: C.MemberSubnetFacts,
): MemberData | DomainError {
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
  return domainError(
    'DuplicateMemberEntry',
    `Another member on this pool is already using ip ${address} on protocol_port ${protocolPort}`,
    {
      details: { address, protocolPort, memberId: existingId },
    },
  );
}

export function addMember(c: C.AddMember, state: LoadBalancerState): Decision<E> {
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

export function updateMember(c: C.UpdateMember, state: LoadBalancerState): Decision<E> {
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

export function removeMember(c: C.RemoveMember, state: LoadBalancerState): Decision<E> {
  const m = member(state, c.poolId, c.memberId);
  if (isError(m)) return m;
  return (
    revisionMatches(c.expectedRevision, m.revision) ?? [
      { type: 'MemberRemoved', data: { poolId: m.poolId, memberId: m.id, removedAt: c.now } },
    ]
  );
}

/** The smallest set of member events that turns the pool's members into exactly the given list. */
export function replacePoolMembers(c: C.ReplacePoolMembers, state: LoadBalancerState): Decision<E> {
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
