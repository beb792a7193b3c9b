import { randomUUID } from 'node:crypto';
import type { Lifecycle } from '../../domain/common/index.js';
import { notFound } from '../../domain/common/index.js';
import { domainError, isDomainError, type DomainError } from '../../domain/errors.js';
import type { Network } from '../../domain/network/index.js';
import { DeviceOwner, type FixedIpRequest, type Port } from '../../domain/port/index.js';
import {
  routerDecider,
  routerStreamId,
  type CreateRouter,
  type GatewayFacts,
  type Router,
  type RouterGateway,
  type RouterCommand,
  type RouterEvent,
  type SetRouterGateway,
  type UpdateRouter,
} from '../../domain/router/index.js';
import { subnetStreamId, type Subnet } from '../../domain/subnet/index.js';
import type { EventMetadata } from '../../store/types.js';
import type { PlannedAppend, Tx } from '../command-runtime.js';
import { lockNetworkForUse, subnetsOf } from '../networking/facts.js';
import { loadOwnPort, planCreatePort, planDeletePort, planUpdatePort } from '../networking/ports.js';
import { availabilityZoneFacts } from '../availability-zones.js';
import { after, decideAppend } from '../plan.js';
import type { Services } from '../services.js';
import { planDeleteStaleSnatPorts } from './dvr.js';
import { loadOwn, lockRow, withCidrs } from './own.js';
import { mayAttachSubnet, platformPrincipal, type Principal } from '../../domain/policy/index.js';

const STREAM = 'router';
const routerNotFound = (id: string) => notFound('Router', id);
const badRequest = (message: string) => domainError('BadRequest', `Bad router request: ${message}`);
const revision = (expectedRevision: number | undefined) => (expectedRevision !== undefined ? { expectedRevision } : {});

export type RouterInput = Omit<CreateRouter, 'type' | 'id' | 'project' | 'isAdmin' | 'now' | 'gateway' | 'knownAvailabilityZones'> & {
  id?: string;
  /** Neutron's external_gateway_info: set in the same append as the router, or nothing is created. */
  externalGatewayInfo?: GatewayInput;
};

export function createRouter(s: Services, actor: Principal, input: RouterInput, metadata: EventMetadata) {
  return s.runtime.execute(metadata, async (tx) => {
    const { externalGatewayInfo, ...fields } = input;
    const id = input.id ?? randomUUID();
    const now = new Date().toISOString();
    const loaded = await s.aggregates.load<Lifecycle<Router>>(tx, routerStreamId(id));
    let gateway: { facts: GatewayFacts; ports: PlannedAppend[] } | undefined;
    if (externalGatewayInfo) {
      const network = await lockNetworkForUse(s, tx, externalGatewayInfo.networkId, actor);
      if (!network) return notFound('Network', externalGatewayInfo.networkId);
      // A repeated create allocates nothing: the decider compares the request with the router's gateway.
      const existing = loaded.state.status === 'live' ? loaded.state.resource.gateway : null;
      const planned =
        loaded.state.status === 'initial'
          ? await planGateway(s, tx, actor, id, null, network, externalGatewayInfo, now)
          : { gatewayPort: { id: existing?.portId ?? '', fixedIps: existing?.externalFixedIps ?? [] }, ports: [] };
      if (isDomainError(planned)) return planned;
      gateway = { facts: gatewayFacts(network, externalGatewayInfo, planned.gatewayPort), ports: planned.ports };
    }
    const append = decideAppend(routerDecider, loaded, routerStreamId(id), {
      ...fields,
      type: 'CreateRouter',
      id,
      project: actor.projectId,
      isAdmin: actor.isAdmin,
      now,
      ...(gateway ? { gateway: gateway.facts } : {}),
      ...(await availabilityZoneFacts(tx, fields.availabilityZoneHints)),
    });
    return isDomainError(append) ? append : { appends: [append, ...(gateway?.ports ?? [])], result: id };
  });
}

/**
 * The router the actor owns, its row locked for update first: floating IP associations take a
 * share lock on it, so "is a floating IP using this interface or gateway" stays true until we commit.
 */
async function lockedRouter(s: Services, tx: Tx, actor: Principal, id: string) {
  await lockRow(tx, id, 'update');
  const loaded = await loadOwn<Router>(s, tx, actor, STREAM, id);
  if (!loaded || loaded.state.status !== 'live') return null;
  return { loaded, router: loaded.state.resource };
}

type LoadedRouter = NonNullable<Awaited<ReturnType<typeof lockedRouter>>>;

/** Decides one router command; `more` plans the port changes that go with the events decided. */
async function decideRouterCommand(
  s: Services,
  tx: Tx,
  actor: Principal,
  id: string,
  command: (r: LoadedRouter) => Promise<RouterCommand | DomainError>,
  more: (r: LoadedRouter, events: readonly RouterEvent[]) => Promise<PlannedAppend[] | DomainError> = async () => [],
) {
  const r = await lockedRouter(s, tx, actor, id);
  if (!r) return routerNotFound(id);
  const c = await command(r);
  if (isDomainError(c)) return c;
  const append = decideAppend(routerDecider, r.loaded, routerStreamId(id), c);
  if (isDomainError(append)) return append;
  const ports = await more(r, append.events as RouterEvent[]);
  if (isDomainError(ports)) return ports;
  // A distributed router's sg- ports live while it has a gateway and the subnet (dvr.ts).
  const state = after(routerDecider, r.loaded, append).state;
  const snat = await planDeleteStaleSnatPorts(s, tx, id, state.status === 'live' ? state.resource : null, new Date().toISOString());
  return isDomainError(snat) ? snat : { appends: [append, ...ports, ...snat], result: id };
}

export function updateRouter(
  s: Services,
  actor: Principal,
  id: string,
  changes: UpdateRouter['changes'],
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  return s.runtime.execute(metadata, (tx) =>
    decideRouterCommand(
      s,
      tx,
      actor,
      id,
      async () => ({
        type: 'UpdateRouter',
        id,
        now: new Date().toISOString(),
        changes,
        isAdmin: actor.isAdmin,
        ...revision(expectedRevision),
      }),
      // A router made legacy again keeps no VRRP ports on the HA network.
      async () => (changes.ha === false ? planDeleteHaPorts(s, tx, id, new Date().toISOString()) : []),
    ),
  );
}

/** The router's `ha-` ports on its project's HA network, deleted with it (the agents' scheduler made them). */
async function planDeleteHaPorts(s: Services, tx: Tx, routerId: string, now: string): Promise<PlannedAppend[] | DomainError> {
  const ports = await tx<{ id: string }[]>`
    select id from rm_resources where kind = 'port' and doc->>'deviceOwner' = ${DeviceOwner.routerHaInterface} and doc->>'deviceId' = ${routerId} order by id`;
  const appends: PlannedAppend[] = [];
  for (const { id } of ports) {
    const del = await planDeletePort(s, tx, platformPrincipal(''), id, undefined, now, true);
    if (isDomainError(del)) return del;
    appends.push(del);
  }
  return appends;
}

/** Deletes the router and its gateway port; RouterInUse while it has interfaces. */
export function deleteRouter(s: Services, actor: Principal, id: string, expectedRevision: number | undefined, metadata: EventMetadata) {
  const now = new Date().toISOString();
  return s.runtime.execute(metadata, (tx) =>
    decideRouterCommand(
      s,
      tx,
      actor,
      id,
      async () => ({ type: 'DeleteRouter', id, now, ...revision(expectedRevision) }),
      async (_r, events) => {
        const appends: PlannedAppend[] = [];
        for (const e of events) {
          if (e.type !== 'RouterDeleted' || e.data.gatewayPortId === null) continue;
          const del = await planDeletePort(s, tx, platformPrincipal(actor.projectId), e.data.gatewayPortId, undefined, now, true);
          if (isDomainError(del)) return del;
          appends.push(del);
        }
        if (!events.some((e) => e.type === 'RouterDeleted')) return appends;
        const ha = await planDeleteHaPorts(s, tx, id, now);
        return isDomainError(ha) ? ha : [...appends, ...ha];
      },
    ),
  );
}

/** Subnets of the router through which associated floating IPs reach their fixed IPs. */
async function subnetsUsedByFloatingIps(tx: Tx, routerId: string): Promise<string[]> {
  const rows = await tx<{ subnet_id: string }[]>`
    select distinct a.subnet_id from rm_floating_ips f join rm_ip_allocations a on a.port_id = f.port_id and a.ip_address = f.fixed_ip_address
     where f.router_id = ${routerId}`;
  return rows.map((r) => r.subnet_id);
}

async function floatingIpsUseRouter(tx: Tx, routerId: string): Promise<boolean> {
  const [row] = await tx`select 1 from rm_floating_ips where router_id = ${routerId} limit 1`;
  return Boolean(row);
}

export interface GatewayInput {
  readonly networkId: string;
  readonly enableSnat?: boolean;
  readonly externalFixedIps?: readonly FixedIpRequest[];
}

type GatewayPortFacts = SetRouterGateway['gatewayPort'];

/**
 * Plans the gateway port (network:router_gateway) for a gateway request: kept when the network
 * stays the same, re-addressed when external fixed IPs are asked for, replaced when the network
 * changes. Requests the decider will refuse anyway (not external, a member asking for admin-only
 * attributes) plan no port and let the decider answer.
 */
async function planGateway(
  s: Services,
  tx: Tx,
  actor: Principal,
  routerId: string,
  current: RouterGateway | null,
  network: Network,
  input: GatewayInput,
  now: string,
): Promise<{ gatewayPort: GatewayPortFacts; ports: PlannedAppend[] } | DomainError> {
  const allowed = network.external && (actor.isAdmin || (input.enableSnat === undefined && input.externalFixedIps === undefined));
  if (!allowed) return { gatewayPort: { id: randomUUID(), fixedIps: [] }, ports: [] };
  if (current?.networkId === network.id && input.externalFixedIps === undefined)
    return { gatewayPort: { id: current.portId, fixedIps: current.externalFixedIps }, ports: [] };
  const subnets = await subnetsOf(s, tx, network);
  const platform = platformPrincipal(network.project);
  const planned =
    current?.networkId === network.id
      ? await planUpdatePort(s, tx, platform, current.portId, { fixedIps: input.externalFixedIps }, undefined, now)
      : await planCreatePort(
          s,
          tx,
          platform,
          { networkId: network.id, deviceOwner: DeviceOwner.routerGateway, deviceId: routerId, fixedIps: input.externalFixedIps },
          now,
        );
  if (isDomainError(planned)) return planned;
  const ports = [planned.append];
  if (current && current.networkId !== network.id) {
    const del = await planDeletePort(s, tx, platform, current.portId, undefined, now, true);
    if (isDomainError(del)) return del;
    ports.push(del);
  }
  return { gatewayPort: { id: planned.port.id, fixedIps: withCidrs(planned.port.fixedIps, subnets) }, ports };
}

/** The facts a gateway request gives the decider, on create as on SetRouterGateway. */
function gatewayFacts(network: Network, input: GatewayInput, gatewayPort: GatewayPortFacts): GatewayFacts {
  return {
    network: { id: network.id, external: network.external },
    gatewayPort,
    ...(input.enableSnat !== undefined ? { enableSnat: input.enableSnat } : {}),
    externalFixedIpsRequested: input.externalFixedIps !== undefined,
  };
}

/** Sets or replaces the external gateway and its port. */
export function setRouterGateway(
  s: Services,
  actor: Principal,
  id: string,
  input: GatewayInput,
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  return s.runtime.execute(metadata, async (tx) => {
    const now = new Date().toISOString();
    const network = await lockNetworkForUse(s, tx, input.networkId, actor);
    if (!network) return notFound('Network', input.networkId);
    const ports: PlannedAppend[] = [];
    return decideRouterCommand(
      s,
      tx,
      actor,
      id,
      async ({ router }) => {
        const planned = await planGateway(s, tx, actor, id, router.gateway, network, input, now);
        if (isDomainError(planned)) return planned;
        ports.push(...planned.ports);
        return {
          type: 'SetRouterGateway',
          id,
          now,
          ...gatewayFacts(network, input, planned.gatewayPort),
          floatingIpsUseGateway: router.gateway !== null && (await floatingIpsUseRouter(tx, id)),
          isAdmin: actor.isAdmin,
          ...revision(expectedRevision),
        };
      },
      async () => ports,
    );
  });
}

/** Removes the gateway and its port; refused while floating IPs reach their ports through it. */
export function clearRouterGateway(
  s: Services,
  actor: Principal,
  id: string,
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  const now = new Date().toISOString();
  return s.runtime.execute(metadata, (tx) =>
    decideRouterCommand(
      s,
      tx,
      actor,
      id,
      async ({ router }) => ({
        type: 'ClearRouterGateway',
        id,
        now,
        floatingIpsUseGateway: router.gateway !== null && (await floatingIpsUseRouter(tx, id)),
        ...revision(expectedRevision),
      }),
      async (_r, events) => {
        const appends: PlannedAppend[] = [];
        for (const e of events) {
          if (e.type !== 'RouterGatewayCleared') continue;
          const del = await planDeletePort(s, tx, platformPrincipal(actor.projectId), e.data.portId, undefined, now, true);
          if (isDomainError(del)) return del;
          appends.push(del);
        }
        return appends;
      },
    ),
  );
}

export interface InterfaceInput {
  readonly subnetId?: string;
  readonly portId?: string;
}

/** A subnet the actor may attach: its own, a shared network's, or any for an admin. Locked so it cannot be deleted meanwhile. */
async function attachableSubnet(s: Services, tx: Tx, actor: Principal, subnetId: string): Promise<Subnet | null> {
  if (!(await lockRow(tx, subnetId, 'share'))) return null;
  const { state } = await s.aggregates.load<Lifecycle<Subnet>>(tx, subnetStreamId(subnetId));
  if (state.status !== 'live') return null;
  const subnet = state.resource;
  const network = await lockNetworkForUse(s, tx, subnet.networkId, platformPrincipal(subnet.project));
  return mayAttachSubnet(actor, { project: subnet.project, shared: network?.shared ?? false }) ? subnet : null;
}

async function interfaceCommand(
  s: Services,
  tx: Tx,
  actor: Principal,
  id: string,
  input: InterfaceInput,
  now: string,
): Promise<
  { command: RouterCommand; port: (router: Router, events: readonly RouterEvent[]) => Promise<PlannedAppend | DomainError> } | DomainError
> {
  if (input.subnetId !== undefined && input.portId !== undefined) return badRequest('Cannot specify both subnet-id and port-id');
  if (input.subnetId !== undefined) {
    const subnet = await attachableSubnet(s, tx, actor, input.subnetId);
    if (!subnet) return notFound('Subnet', input.subnetId);
    const newPortId = randomUUID();
    const fixedIp = { subnetId: subnet.id, ...(subnet.gatewayIp ? { ipAddress: subnet.gatewayIp } : {}) };
    return {
      command: {
        type: 'AddRouterInterface',
        id,
        now,
        by: 'subnet',
        subnet: { id: subnet.id, networkId: subnet.networkId, cidr: subnet.cidr, gatewayIp: subnet.gatewayIp },
        newPortId,
      },
      port: async (router, events) => {
        const platform = platformPrincipal(router.project);
        const portId = events.find((e) => e.type === 'RouterInterfaceAdded')?.data.portId ?? newPortId;
        if (portId !== newPortId) {
          // The decider joined the subnet to the router's IPv6 port on the network: it gains the address.
          const joined = await loadOwnPort(s, tx, platform, portId);
          if (!joined || joined.state.status !== 'live') return notFound('Port', portId);
          const planned = await planUpdatePort(
            s,
            tx,
            platform,
            portId,
            { fixedIps: [...joined.state.resource.fixedIps, fixedIp] },
            undefined,
            now,
          );
          return isDomainError(planned) ? planned : planned.append;
        }
        const planned = await planCreatePort(
          s,
          tx,
          platform,
          { id: newPortId, networkId: subnet.networkId, deviceOwner: DeviceOwner.routerInterface, deviceId: id, fixedIps: [fixedIp] },
          now,
        );
        return isDomainError(planned) ? planned : planned.append;
      },
    };
  }
  if (input.portId !== undefined) {
    const portId = input.portId;
    const loaded = await loadOwnPort(s, tx, actor, portId);
    if (!loaded || loaded.state.status !== 'live') return notFound('Port', portId);
    const port: Port = loaded.state.resource;
    const network = await lockNetworkForUse(s, tx, port.networkId, platformPrincipal(port.project));
    const subnets = network ? await subnetsOf(s, tx, network) : [];
    return {
      command: {
        type: 'AddRouterInterface',
        id,
        now,
        by: 'port',
        port: { id: port.id, networkId: port.networkId, deviceId: port.deviceId, fixedIps: withCidrs(port.fixedIps, subnets) },
      },
      port: async () => {
        const planned = await planUpdatePort(
          s,
          tx,
          platformPrincipal(port.project),
          portId,
          { deviceOwner: DeviceOwner.routerInterface, deviceId: id },
          undefined,
          now,
        );
        return isDomainError(planned) ? planned : planned.append;
      },
    };
  }
  return badRequest('Either subnet_id or port_id must be specified');
}

/**
 * Attaches a subnet (its gateway address on a new port, or on the router's IPv6 port of that
 * network for another IPv6 subnet, as Neutron does) or an unbound port of the actor's.
 */
export function addRouterInterface(s: Services, actor: Principal, id: string, input: InterfaceInput, metadata: EventMetadata) {
  return s.runtime.execute(metadata, async (tx) => {
    const now = new Date().toISOString();
    const planned = await interfaceCommand(s, tx, actor, id, input, now);
    if (isDomainError(planned)) return planned;
    return decideRouterCommand(
      s,
      tx,
      actor,
      id,
      async () => planned.command,
      async ({ router }, events) => {
        const port = await planned.port(router, events);
        return isDomainError(port) ? port : [port];
      },
    );
  });
}

/**
 * Detaches a subnet or a port. A port left with no interface of this router is deleted, as
 * Neutron does (even one that was attached by port); one still serving other subnets of the
 * router just gives up the removed addresses.
 */
export function removeRouterInterface(s: Services, actor: Principal, id: string, input: InterfaceInput, metadata: EventMetadata) {
  const now = new Date().toISOString();
  return s.runtime.execute(metadata, (tx) =>
    decideRouterCommand(
      s,
      tx,
      actor,
      id,
      async () => ({
        type: 'RemoveRouterInterface',
        id,
        now,
        ...input,
        subnetIdsUsedByFloatingIps: await subnetsUsedByFloatingIps(tx, id),
      }),
      async ({ loaded }, events) => {
        const state = after(routerDecider, loaded, { streamId: routerStreamId(id), expected: loaded.version, events }).state;
        const remaining = state.status === 'live' ? state.resource.interfaces : [];
        const appends: PlannedAppend[] = [];
        for (const portId of new Set(events.flatMap((e) => (e.type === 'RouterInterfaceRemoved' ? [e.data.portId] : [])))) {
          const port = await loadOwnPort(s, tx, platformPrincipal(actor.projectId), portId);
          if (!port || port.state.status !== 'live') continue;
          const platform = platformPrincipal(port.state.resource.project);
          const keep = remaining.filter((i) => i.portId === portId).map((i) => i.subnetId);
          const planned =
            keep.length === 0
              ? await planDeletePort(s, tx, platform, portId, undefined, now, true)
              : await planUpdatePort(
                  s,
                  tx,
                  platform,
                  portId,
                  { fixedIps: port.state.resource.fixedIps.filter((f) => keep.includes(f.subnetId)) },
                  undefined,
                  now,
                );
          if (isDomainError(planned)) return planned;
          appends.push('append' in planned ? planned.append : planned);
        }
        return appends;
      },
    ),
  );
}
