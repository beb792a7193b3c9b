import { randomUUID } from 'node:crypto';
import { notFound, type Lifecycle } from '../../domain/common/index.js';
import { domainError, isDomainError, type DomainError } from '../../domain/errors.js';
import {
  floatingIpDecider,
  floatingIpStreamId,
  type AssociationFacts,
  type FloatingAddressAllocation,
  type FloatingIp,
  type FloatingIpCommand,
} from '../../domain/floating-ip/index.js';
import { ipVersionOf, normaliseIp } from '../../domain/ipam/index.js';
import { DeviceOwner, type Port } from '../../domain/port/index.js';
import type { Router } from '../../domain/router/index.js';
import type { EventMetadata } from '../../store/types.js';
import type { PlannedAppend, Tx } from '../command-runtime.js';
import { lockNetworkForUse, subnetsOf } from '../networking/facts.js';
import { loadOwnPort, planCreatePort, planDeletePort, type Network } from '../networking/ports.js';
import { decideAppend } from '../plan.js';
import type { FixedIpChange, Services } from '../services.js';
import { loadOwn, lockRow } from './own.js';
import { type Principal, platformPrincipal } from '../../domain/policy/index.js';

const STREAM = 'floatingip';
// Neutron spells it FloatingIP in its exception names.
const fipNotFound = (id: string) => notFound('FloatingIP', id);
const revision = (expectedRevision: number | undefined) => (expectedRevision !== undefined ? { expectedRevision } : {});
const badRequest = (message: string, field: string) => domainError('BadRequest', `Bad floatingip request: ${message}`, { field: [field] });

/**
 * What the decider needs to associate `portId` with a floating IP on `floatingNetworkId`. The port
 * row is locked for share (a concurrent port delete either disassociates us or finds us), and so
 * are the routers it is reached through (removing that interface or gateway waits, then sees us).
 */
async function associationFacts(
  s: Services,
  tx: Tx,
  actor: Principal,
  floatingNetworkId: string,
  portId: string,
  fixedIpAddress: string | undefined,
): Promise<AssociationFacts | DomainError> {
  if (!(await lockRow(tx, portId, 'share'))) return notFound('Port', portId);
  const loaded = await loadOwnPort(s, tx, actor, portId);
  if (!loaded || loaded.state.status !== 'live') return notFound('Port', portId);
  const port: Port = loaded.state.resource;
  const subnetIds = [...new Set(port.fixedIps.map((f) => f.subnetId))];
  const routers =
    subnetIds.length === 0
      ? []
      : await tx<{ id: string; doc: Router }[]>`
    select id, doc from rm_resources r
     where kind = 'router' and doc->'gateway'->>'networkId' = ${floatingNetworkId}
       and exists (select 1 from jsonb_array_elements(r.doc->'interfaces') i where i->>'subnetId' = any(${subnetIds}))
     order by created_at, id for share`;
  const routerBySubnet: Record<string, string> = {};
  for (const r of routers) for (const i of r.doc.interfaces) if (subnetIds.includes(i.subnetId)) routerBySubnet[i.subnetId] ??= r.id;
  const held = await tx<{ ip: string; id: string }[]>`
    select host(fixed_ip_address) as ip, floating_ip_id as id from rm_floating_ips where floating_network_id = ${floatingNetworkId} and port_id = ${portId}`;
  return {
    port: {
      id: port.id,
      deviceOwner: port.deviceOwner,
      fixedIps: port.fixedIps.map((f) => ({ subnetId: f.subnetId, ipAddress: f.ipAddress })),
    },
    ...(fixedIpAddress !== undefined ? { fixedIpAddress } : {}),
    routerBySubnet,
    floatingIpByFixedIp: Object.fromEntries(held.map((h) => [h.ip, h.id])),
  };
}

/**
 * The hidden network:floatingip port holding the address: the one asked for, else the first IPv4
 * subnet with a free address. Its row in rm_ip_allocations is what keeps addresses unique.
 */
async function allocateAddress(
  s: Services,
  tx: Tx,
  network: Network,
  fipId: string,
  input: { floatingIpAddress?: string; subnetId?: string },
  now: string,
): Promise<{ allocation: FloatingAddressAllocation; append?: PlannedAppend } | DomainError> {
  const platform = platformPrincipal(network.project);
  const port = (fixedIps: { subnetId?: string; ipAddress?: string }[]) =>
    planCreatePort(s, tx, platform, { networkId: network.id, deviceOwner: DeviceOwner.floatingIp, deviceId: fipId, fixedIps }, now);
  const allocated = (planned: { append: PlannedAppend; port: Port }) => {
    const fixed = planned.port.fixedIps[0]!;
    return {
      allocation: { kind: 'allocated' as const, address: fixed.ipAddress, subnetId: fixed.subnetId, portId: planned.port.id },
      append: planned.append,
    };
  };
  const subnets = (await subnetsOf(s, tx, network)).filter((x) => x.ipVersion === 4);
  if (input.subnetId !== undefined && !subnets.some((x) => x.id === input.subnetId)) {
    return badRequest(`Subnet ${input.subnetId} is not an IPv4 subnet of network ${network.id}.`, 'subnetId');
  }
  if (input.floatingIpAddress !== undefined) {
    const planned = await port([{ ipAddress: input.floatingIpAddress, ...(input.subnetId ? { subnetId: input.subnetId } : {}) }]);
    return isDomainError(planned) ? planned : allocated(planned);
  }
  for (const subnet of subnets.filter((x) => input.subnetId === undefined || x.id === input.subnetId)) {
    const planned = await port([{ subnetId: subnet.id }]);
    if (!isDomainError(planned)) return allocated(planned);
    if (planned.code !== 'IpAddressGenerationFailure') return planned;
  }
  return { allocation: { kind: 'exhausted' } };
}

export interface FloatingIpInput {
  readonly id?: string;
  readonly floatingNetworkId: string;
  readonly floatingIpAddress?: string;
  readonly subnetId?: string;
  readonly portId?: string;
  readonly fixedIpAddress?: string;
  readonly name?: string;
  readonly description?: string;
  readonly tags?: readonly string[];
}

/**
 * Allocates an address on an external network (status DOWN until the agent wires it), associated
 * at once when a port is named. Requests the decider refuses anyway (network not external, a
 * malformed address, a retried create) allocate nothing.
 */
export function createFloatingIp(s: Services, actor: Principal, input: FloatingIpInput, metadata: EventMetadata) {
  return s.runtime.execute(metadata, async (tx) => {
    const now = new Date().toISOString();
    if (input.fixedIpAddress !== undefined && input.portId === undefined)
      return badRequest('fixed_ip_address cannot be specified without a port_id', 'fixedIpAddress');
    const id = input.id ?? randomUUID();
    const network = await lockNetworkForUse(s, tx, input.floatingNetworkId, actor);
    if (!network) return notFound('Network', input.floatingNetworkId);
    const loaded = await s.aggregates.load<Lifecycle<FloatingIp>>(tx, floatingIpStreamId(id));
    const wellFormed = input.floatingIpAddress === undefined || ipVersionOf(input.floatingIpAddress) === 4;
    // A member naming an address is refused by the decider; allocating first would tell it whether the address is free.
    const mayChoose = input.floatingIpAddress === undefined || actor.isAdmin;
    const gatewayIps = network.external ? (await subnetsOf(s, tx, network)).flatMap((x) => (x.gatewayIp ? [x.gatewayIp] : [])) : [];
    const onGateway =
      input.floatingIpAddress !== undefined && gatewayIps.some((g) => normaliseIp(g) === normaliseIp(input.floatingIpAddress!));
    let allocation: FloatingAddressAllocation = { kind: 'exhausted' };
    const appends: PlannedAppend[] = [];
    if (loaded.state.status === 'initial' && network.external && wellFormed && mayChoose && !onGateway) {
      const allocated = await allocateAddress(s, tx, network, id, input, now);
      if (isDomainError(allocated)) return allocated;
      allocation = allocated.allocation;
      if (allocated.append) appends.push(allocated.append);
    }
    const association =
      input.portId !== undefined && allocation.kind === 'allocated'
        ? await associationFacts(s, tx, actor, network.id, input.portId, input.fixedIpAddress)
        : undefined;
    if (isDomainError(association)) return association;
    const append = decideAppend(floatingIpDecider, loaded, floatingIpStreamId(id), {
      type: 'CreateFloatingIp',
      id,
      project: actor.projectId,
      isAdmin: actor.isAdmin,
      gatewayIps,
      now,
      network: { id: network.id, external: network.external },
      allocation,
      ...pick(input, ['name', 'description', 'tags', 'floatingIpAddress']),
      ...(association ? { association } : {}),
    });
    if (isDomainError(append)) return append;
    return { appends: [...appends, append], result: id };
  });
}

function pick<T extends object, K extends keyof T>(o: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/** Decides one command on a floating IP the actor owns; `more` plans what goes with the decided events. */
async function decideOnFloatingIp(
  s: Services,
  tx: Tx,
  actor: Principal,
  id: string,
  command: (fip: FloatingIp) => Promise<FloatingIpCommand | DomainError>,
  more: (fip: FloatingIp, decided: boolean) => Promise<PlannedAppend[] | DomainError> = async () => [],
) {
  const loaded = await loadOwn<FloatingIp>(s, tx, actor, STREAM, id);
  if (!loaded || loaded.state.status !== 'live') return fipNotFound(id);
  const fip = loaded.state.resource;
  const c = await command(fip);
  if (isDomainError(c)) return c;
  const append = decideAppend(floatingIpDecider, loaded, floatingIpStreamId(id), c);
  if (isDomainError(append)) return append;
  const extra = await more(fip, append.events.length > 0);
  return isDomainError(extra) ? extra : { appends: [append, ...extra], result: id };
}

export function updateFloatingIp(
  s: Services,
  actor: Principal,
  id: string,
  changes: { name?: string; description?: string; tags?: readonly string[] },
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  return s.runtime.execute(metadata, (tx) =>
    decideOnFloatingIp(s, tx, actor, id, async () => ({
      type: 'UpdateFloatingIp',
      id,
      now: new Date().toISOString(),
      changes,
      ...revision(expectedRevision),
    })),
  );
}

/** Associates, or moves an associated floating IP to another port in one step. */
export function associateFloatingIp(
  s: Services,
  actor: Principal,
  id: string,
  portId: string,
  fixedIpAddress: string | undefined,
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  return s.runtime.execute(metadata, (tx) =>
    decideOnFloatingIp(s, tx, actor, id, async (fip) => {
      const facts = await associationFacts(s, tx, actor, fip.floatingNetworkId, portId, fixedIpAddress);
      return isDomainError(facts)
        ? facts
        : { ...facts, type: 'AssociateFloatingIp', id, now: new Date().toISOString(), ...revision(expectedRevision) };
    }),
  );
}

export function disassociateFloatingIp(
  s: Services,
  actor: Principal,
  id: string,
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  return s.runtime.execute(metadata, (tx) =>
    decideOnFloatingIp(s, tx, actor, id, async () => ({
      type: 'DisassociateFloatingIp',
      id,
      now: new Date().toISOString(),
      cause: 'request',
      ...revision(expectedRevision),
    })),
  );
}

/** Deletes the floating IP with its hidden port, which frees the address. */
export function deleteFloatingIp(s: Services, actor: Principal, id: string, expectedRevision: number | undefined, metadata: EventMetadata) {
  const now = new Date().toISOString();
  return s.runtime.execute(metadata, (tx) =>
    decideOnFloatingIp(
      s,
      tx,
      actor,
      id,
      async () => ({ type: 'DeleteFloatingIp', id, now, ...revision(expectedRevision) }),
      async (fip, decided) => {
        if (!decided) return [];
        const del = await planDeletePort(s, tx, platformPrincipal(actor.projectId), fip.floatingPortId, undefined, now, true);
        return isDomainError(del) ? del : [del];
      },
    ),
  );
}

/**
 * Runs inside a port delete: floating IPs let go of the port. Its row is locked for update first,
 * so an association racing with the delete waits and then finds no port.
 */
export async function releaseFloatingIpsOfPort(s: Services, tx: Tx, port: Port, now: string): Promise<PlannedAppend[] | DomainError> {
  await lockRow(tx, port.id, 'update');
  const rows = await tx<
    { id: string }[]
  >`select floating_ip_id as id from rm_floating_ips where port_id = ${port.id} order by floating_ip_id`;
  const appends: PlannedAppend[] = [];
  for (const { id } of rows) {
    const loaded = await s.aggregates.load<Lifecycle<FloatingIp>>(tx, floatingIpStreamId(id));
    const append = decideAppend(floatingIpDecider, loaded, floatingIpStreamId(id), {
      type: 'DisassociateFloatingIp',
      id,
      now,
      cause: 'portDeleted',
      portId: port.id,
    });
    if (isDomainError(append)) return append;
    appends.push(append);
  }
  return appends;
}

/**
 * Runs inside a port update that released addresses: a floating IP pointing at one follows it or
 * lets go (the decider says which). The port row is locked for update first, as for a delete, so
 * an association racing with the update waits and then sees the new addresses.
 */
export async function followFixedIpChangeOfPort(
  s: Services,
  tx: Tx,
  port: Port,
  change: FixedIpChange,
  now: string,
): Promise<PlannedAppend[] | DomainError> {
  await lockRow(tx, port.id, 'update');
  const released = change.released.map((f) => f.ipAddress);
  const rows = await tx<{ id: string }[]>`
    select floating_ip_id as id from rm_floating_ips where port_id = ${port.id} and host(fixed_ip_address) = any(${released}) order by floating_ip_id`;
  const appends: PlannedAppend[] = [];
  for (const { id } of rows) {
    const loaded = await s.aggregates.load<Lifecycle<FloatingIp>>(tx, floatingIpStreamId(id));
    const append = decideAppend(floatingIpDecider, loaded, floatingIpStreamId(id), {
      type: 'FollowFixedIpChange',
      id,
      now,
      portId: port.id,
      ...change,
    });
    if (isDomainError(append)) return append;
    if (append.events.length > 0) appends.push(append);
  }
  return appends;
}
