import { domainError, isDomainError, type DomainError, type ErrorCode } from '../../domain/errors.js';
import { loadBalancerDecider, type LoadBalancerCommand, type LoadBalancerState } from '../../domain/loadbalancer/index.js';
import { LB_KINDS, loadBalancerStreamId } from '../../projections/kinds/loadbalancer-kind.js';
import type { EventMetadata } from '../../store/types.js';
import type { CommandOutcome, PlannedAppend, Tx } from '../command-runtime.js';
import { isUuid } from '../networking/facts.js';
import { decideAppend } from '../plan.js';
import { resolveReferences, type Reference } from '../references.js';
import type { Services } from '../services.js';
import { isOwnerOrAdmin, type Principal } from '../../domain/policy/index.js';

export type ChildKind = Exclude<(typeof LB_KINDS)[keyof typeof LB_KINDS], 'loadbalancer'>;

/** What a command is about: the load balancer itself, or one of its children found by id. */
export type Target = { readonly loadBalancerId: string } | { readonly kind: ChildKind; readonly id: string };

const NOT_FOUND: Readonly<Record<ChildKind | 'loadbalancer', readonly [code: ErrorCode, what: string]>> = {
  loadbalancer: ['LoadBalancerNotFound', 'Load Balancer'],
  listener: ['ListenerNotFound', 'Listener'],
  pool: ['PoolNotFound', 'Pool'],
  member: ['MemberNotFound', 'Member'],
  healthmonitor: ['HealthMonitorNotFound', 'Health Monitor'],
};

export function targetNotFound(target: Target): DomainError {
  const [kind, id] = 'loadBalancerId' in target ? (['loadbalancer', target.loadBalancerId] as const) : [target.kind, target.id];
  const [code, what] = NOT_FOUND[kind];
  return domainError(code, `${what} ${id} could not be found.`, { details: { id } });
}

/** The load balancer a target belongs to; a child's stream never changes, so reading it unlocked is safe. */
async function loadBalancerIdOf(tx: Tx, target: Target): Promise<string | null> {
  if ('loadBalancerId' in target) return isUuid(target.loadBalancerId) ? target.loadBalancerId.toLowerCase() : null;
  if (!isUuid(target.id)) return null;
  const [row] = await tx<{ stream_id: string }[]>`select stream_id from rm_resources where id = ${target.id} and kind = ${target.kind}`;
  return row ? row.stream_id.slice('loadbalancer-'.length) : null;
}

export interface LoadedLoadBalancer {
  readonly id: string;
  readonly streamId: string;
  readonly loaded: { state: LoadBalancerState; version: number };
}

/**
 * Every child of a load balancer lives on its stream, so concurrent child changes would keep
 * colliding on the stream version and exhaust the runtime's retries. Locking the aggregate row
 * first (the projection writes it in this transaction anyway) makes them queue instead; under
 * READ COMMITTED the load after the lock sees the latest committed state.
 */
export async function lockLoadBalancer(s: Services, tx: Tx, id: string): Promise<LoadedLoadBalancer> {
  const streamId = loadBalancerStreamId(id);
  await tx`select 1 from rm_aggregates where stream_id = ${streamId} for update`;
  return { id, streamId, loaded: await s.aggregates.load<LoadBalancerState>(tx, streamId) };
}

/** Locks and loads the target's load balancer; another project's answers like a missing one (null). */
export async function loadOwnLoadBalancer(s: Services, tx: Tx, actor: Principal, target: Target): Promise<LoadedLoadBalancer | null> {
  const id = await loadBalancerIdOf(tx, target);
  if (!id) return null;
  const lb = await lockLoadBalancer(s, tx, id);
  const owner = lb.loaded.state.loadBalancer?.project;
  return owner !== undefined && !isOwnerOrAdmin(actor, { project: owner }) ? null : lb;
}

export interface BuildContext {
  readonly state: LoadBalancerState;
  readonly loadBalancerId: string;
  readonly now: string;
  /** The CIDRs of the subnets named in `references`, all checked visible to the caller. */
  readonly subnetCidrs: Readonly<Record<string, string>>;
}

/**
 * Runs one command against the load balancer a target belongs to and answers `result` (the id of
 * the object the caller wants back). A client-chosen id another resource holds is refused where
 * every create's is: the read model's id registry (ResourceIdInUse).
 */
export function changeLoadBalancer(
  s: Services,
  actor: Principal,
  target: Target,
  metadata: EventMetadata,
  build: (c: BuildContext) => LoadBalancerCommand,
  options: { readonly result: string; readonly references?: readonly Reference[] },
): Promise<CommandOutcome<string>> {
  return s.runtime.execute(metadata, async (tx) => {
    const lb = await loadOwnLoadBalancer(s, tx, actor, target);
    if (!lb) return targetNotFound(target);
    const referenced = await resolveReferences(tx, actor, options.references ?? []);
    if (isDomainError(referenced)) return referenced;
    const subnetCidrs = Object.fromEntries([...referenced.values()].flatMap((r) => (r.cidr ? [[r.id, r.cidr]] : [])));
    const append: PlannedAppend | DomainError = decideAppend(
      loadBalancerDecider,
      lb.loaded,
      lb.streamId,
      build({ state: lb.loaded.state, loadBalancerId: lb.id, now: new Date().toISOString(), subnetCidrs }),
    );
    if (isDomainError(append)) return append;
    return { appends: [append], result: options.result };
  });
}
