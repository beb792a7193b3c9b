import { randomUUID } from 'node:crypto';
import { domainError } from '../../domain/errors.js';
import type {
  CreateHealthMonitor,
  CreateListener,
  CreatePool,
  MemberSpec,
  UpdateHealthMonitor,
  UpdateListener,
  UpdateMember,
  UpdatePool,
} from '../../domain/loadbalancer/index.js';
import type { EventMetadata } from '../../store/types.js';
import type { CommandOutcome } from '../command-runtime.js';
import { refsOf } from '../references.js';
import type { Services } from '../services.js';
import { changeLoadBalancer, type Target } from './aggregate.js';
import type { Principal } from '../../domain/policy/index.js';

/** Octavia addresses children by their own id; the load balancer is found from the read model. */
type Fields<C, Id extends string> = Omit<C, 'type' | 'loadBalancerId' | 'now' | 'expectedRevision' | Id>;
const revision = (expectedRevision: number | undefined) => (expectedRevision !== undefined ? { expectedRevision } : {});
const newId = (id: string | undefined) => (id ?? randomUUID()).toLowerCase();

export type ListenerInput = Fields<CreateListener, 'listenerId'> & { readonly id?: string; readonly loadBalancerId: string };
export type ListenerChanges = Fields<UpdateListener, 'listenerId'>;

export function createListener(s: Services, actor: Principal, input: ListenerInput, metadata: EventMetadata) {
  const id = newId(input.id);
  const { id: _id, loadBalancerId, ...fields } = input;
  return changeLoadBalancer(
    s,
    actor,
    { loadBalancerId },
    metadata,
    (c) => ({ ...fields, type: 'CreateListener', loadBalancerId: c.loadBalancerId, listenerId: id, now: c.now }),
    { result: id },
  );
}

export function updateListener(
  s: Services,
  actor: Principal,
  id: string,
  changes: ListenerChanges,
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  return changeLoadBalancer(
    s,
    actor,
    { kind: 'listener', id },
    metadata,
    (c) => ({
      ...changes,
      type: 'UpdateListener',
      loadBalancerId: c.loadBalancerId,
      listenerId: id,
      now: c.now,
      ...revision(expectedRevision),
    }),
    { result: id },
  );
}

export function deleteListener(s: Services, actor: Principal, id: string, expectedRevision: number | undefined, metadata: EventMetadata) {
  return changeLoadBalancer(
    s,
    actor,
    { kind: 'listener', id },
    metadata,
    (c) => ({
      type: 'DeleteListener',
      loadBalancerId: c.loadBalancerId,
      listenerId: id,
      now: c.now,
      ...revision(expectedRevision),
    }),
    { result: id },
  );
}

export type PoolInput = Fields<CreatePool, 'poolId'> & { readonly id?: string; readonly loadBalancerId?: string };
export type PoolChanges = Fields<UpdatePool, 'poolId'>;

/** A pool belongs to the load balancer given, or to the one of the listener it becomes the default of. */
export function createPool(s: Services, actor: Principal, input: PoolInput, metadata: EventMetadata): Promise<CommandOutcome<string>> {
  const id = newId(input.id);
  const { id: _id, loadBalancerId, ...fields } = input;
  let target: Target;
  if (loadBalancerId) target = { loadBalancerId };
  else if (fields.listenerId) target = { kind: 'listener', id: fields.listenerId };
  else
    return Promise.resolve({
      ok: false,
      error: domainError('InvalidInput', 'Invalid input for loadBalancerId. Reason: a pool needs a loadBalancerId or a listenerId.', {
        field: ['loadBalancerId'],
      }),
    });
  return changeLoadBalancer(
    s,
    actor,
    target,
    metadata,
    (c) => ({ ...fields, type: 'CreatePool', loadBalancerId: c.loadBalancerId, poolId: id, now: c.now }),
    { result: id },
  );
}

export function updatePool(
  s: Services,
  actor: Principal,
  id: string,
  changes: PoolChanges,
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  return changeLoadBalancer(
    s,
    actor,
    { kind: 'pool', id },
    metadata,
    (c) => ({
      ...changes,
      type: 'UpdatePool',
      loadBalancerId: c.loadBalancerId,
      poolId: id,
      now: c.now,
      ...revision(expectedRevision),
    }),
    { result: id },
  );
}

export function deletePool(s: Services, actor: Principal, id: string, expectedRevision: number | undefined, metadata: EventMetadata) {
  return changeLoadBalancer(
    s,
    actor,
    { kind: 'pool', id },
    metadata,
    (c) => ({
      type: 'DeletePool',
      loadBalancerId: c.loadBalancerId,
      poolId: id,
      now: c.now,
      ...revision(expectedRevision),
    }),
    { result: id },
  );
}

export type MemberInput = MemberSpec & { readonly id?: string; readonly poolId: string };
export type MemberChanges = Fields<UpdateMember, 'poolId' | 'memberId'>;

export function addMember(s: Services, actor: Principal, input: MemberInput, metadata: EventMetadata) {
  const id = newId(input.id);
  const { id: _id, poolId, ...spec } = input;
  return changeLoadBalancer(
    s,
    actor,
    { kind: 'pool', id: poolId },
    metadata,
    (c) => ({
      ...spec,
      type: 'AddMember',
      loadBalancerId: c.loadBalancerId,
      poolId,
      memberId: id,
      now: c.now,
      subnetCidrs: c.subnetCidrs,
    }),
    { result: id, references: refsOf('subnet', 'subnetId', [spec.subnetId]) },
  );
}

/** The member's pool comes from the aggregate: an unknown member then gets the decider's MemberNotFound. */
const poolOfMember = (members: Readonly<Record<string, { poolId: string }>>, id: string) => members[id]?.poolId ?? '';

export function updateMember(
  s: Services,
  actor: Principal,
  id: string,
  changes: MemberChanges,
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  return changeLoadBalancer(
    s,
    actor,
    { kind: 'member', id },
    metadata,
    (c) => ({
      ...changes,
      type: 'UpdateMember',
      loadBalancerId: c.loadBalancerId,
      poolId: poolOfMember(c.state.members, id),
      memberId: id,
      now: c.now,
      ...revision(expectedRevision),
    }),
    { result: id },
  );
}

export function removeMember(s: Services, actor: Principal, id: string, expectedRevision: number | undefined, metadata: EventMetadata) {
  return changeLoadBalancer(
    s,
    actor,
    { kind: 'member', id },
    metadata,
    (c) => ({
      type: 'RemoveMember',
      loadBalancerId: c.loadBalancerId,
      poolId: poolOfMember(c.state.members, id),
      memberId: id,
      now: c.now,
      ...revision(expectedRevision),
    }),
    { result: id },
  );
}

/** Octavia's batch update: `members` is the pool's whole desired set, matched by address and port. Answers the pool id. */
export function replacePoolMembers(
  s: Services,
  actor: Principal,
  poolId: string,
  members: readonly (MemberSpec & { readonly id?: string })[],
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  const withIds = members.map((m) => ({ ...m, id: newId(m.id) }));
  return changeLoadBalancer(
    s,
    actor,
    { kind: 'pool', id: poolId },
    metadata,
    (c) => ({
      type: 'ReplacePoolMembers',
      loadBalancerId: c.loadBalancerId,
      poolId,
      members: withIds,
      now: c.now,
      subnetCidrs: c.subnetCidrs,
      ...revision(expectedRevision),
    }),
    {
      result: poolId,
      references: members.flatMap((m, i) => refsOf('subnet', `members.${i}.subnetId`, [m.subnetId])),
    },
  );
}

export type HealthMonitorInput = Fields<CreateHealthMonitor, 'healthMonitorId'> & { readonly id?: string };
export type HealthMonitorChanges = Fields<UpdateHealthMonitor, 'healthMonitorId'>;

export function createHealthMonitor(s: Services, actor: Principal, input: HealthMonitorInput, metadata: EventMetadata) {
  const id = newId(input.id);
  const { id: _id, ...fields } = input;
  return changeLoadBalancer(
    s,
    actor,
    { kind: 'pool', id: input.poolId },
    metadata,
    (c) => ({
      ...fields,
      type: 'CreateHealthMonitor',
      loadBalancerId: c.loadBalancerId,
      healthMonitorId: id,
      now: c.now,
    }),
    { result: id },
  );
}

export function updateHealthMonitor(
  s: Services,
  actor: Principal,
  id: string,
  changes: HealthMonitorChanges,
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  return changeLoadBalancer(
    s,
    actor,
    { kind: 'healthmonitor', id },
    metadata,
    (c) => ({
      ...changes,
      type: 'UpdateHealthMonitor',
      loadBalancerId: c.loadBalancerId,
      healthMonitorId: id,
      now: c.now,
      ...revision(expectedRevision),
    }),
    { result: id },
  );
}

export function deleteHealthMonitor(
  s: Services,
  actor: Principal,
  id: string,
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  return changeLoadBalancer(
    s,
    actor,
    { kind: 'healthmonitor', id },
    metadata,
    (c) => ({
      type: 'DeleteHealthMonitor',
      loadBalancerId: c.loadBalancerId,
      healthMonitorId: id,
      now: c.now,
      ...revision(expectedRevision),
    }),
    { result: id },
  );
}
