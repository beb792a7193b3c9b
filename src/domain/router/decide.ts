import { alreadyExists, baseFields, basePatch, checkAvailabilityZoneHints, liveResource, notFound, sameHints } from '../common/index.js';
import type { Decision } from '../decider.js';
import { domainError, isDomainError, type DomainError } from '../errors.js';
import { ipVersionOf } from '../ipam/index.js';
import { adminOnly } from '../policy/index.js';
import { addressOnSubnet, badRequest, checkIpv6PortPerNetwork, checkNewSubnets, ipv6PortOnNetwork } from './attachments.js';
import type {
  AddRouterInterface,
  ClearRouterGateway,
  CreateRouter,
  DeleteRouter,
  GatewayFacts,
  RemoveRouterInterface,
  RouterCommand,
  SetRouterGateway,
  UpdateRouter,
} from './commands.js';
import type { GatewayFixedIp, RouterEvent, RouterInterface } from './events.js';
import { evolveRouter } from './evolve.js';
import { checkDistributedMigration } from './migration.js';
import { allocateVrid, checkHaConversion, reportHaState } from './ha.js';
import { connectedPrefixes, DEFAULT_MAX_ROUTES, unreachableRoutes, validateRoutes } from './routes.js';
import type { Router, RouterState } from './state.js';

function adminOnlyFlags(isAdmin: boolean, action: 'create' | 'update', flags: { ha?: boolean; distributed?: boolean }): DomainError | null {
  if (flags.ha !== undefined) return adminOnly({ isAdmin }, `${action}_router:ha`);
  if (flags.distributed !== undefined) return adminOnly({ isAdmin }, `${action}_router:distributed`);
  return null;
}

function sameTags(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

function create(c: CreateRouter, s: RouterState): Decision<RouterEvent> {
  const base = baseFields(c);
  if (isDomainError(base)) return base;
  const flags = { adminStateUp: c.adminStateUp ?? true, ha: c.ha ?? false, distributed: c.distributed ?? false };
  if (s.status === 'live') {
    const r = s.resource;
    const same =
      r.project === c.project &&
      r.name === base.name &&
      r.description === base.description &&
      sameTags(r.tags, base.tags) &&
      r.adminStateUp === flags.adminStateUp &&
      r.ha === flags.ha &&
      r.distributed === flags.distributed &&
      sameHints(c.availabilityZoneHints, r.availabilityZoneHints) &&
      sameGateway(r, c.gateway);
    return same ? [] : alreadyExists('Router', c.id);
  }
  if (s.status === 'deleted') return notFound('Router', c.id);
  const refused = adminOnlyFlags(c.isAdmin, 'create', c);
  if (refused) return refused;
  const hints = checkAvailabilityZoneHints(c.availabilityZoneHints, c.knownAvailabilityZones);
  if (isDomainError(hints)) return hints;
  const created: RouterEvent = {
    type: 'RouterCreated',
    data: {
      id: c.id,
      project: c.project,
      ...base,
      ...flags,
      ...(hints.length > 0 ? { availabilityZoneHints: [...hints] } : {}),
      createdAt: c.now,
    },
  };
  if (!c.gateway) return [created];
  const router = evolveRouter(s, created);
  if (router.status !== 'live') return notFound('Router', c.id);
  const gateway = setGateway(
    { type: 'SetRouterGateway', id: c.id, now: c.now, ...c.gateway, floatingIpsUseGateway: false, isAdmin: c.isAdmin },
    router.resource,
  );
  return isDomainError(gateway) ? gateway : [created, ...gateway];
}

/** A repeated create that names a gateway names the one the router has (its network, and SNAT when given). */
function sameGateway(r: Router, gateway: GatewayFacts | undefined): boolean {
  if (!gateway) return true;
  return r.gateway?.networkId === gateway.network.id && (gateway.enableSnat === undefined || gateway.enableSnat === r.gateway.enableSnat);
}

function update(c: UpdateRouter, router: Router): Decision<RouterEvent> {
  const { routes, adminStateUp, ha, distributed } = c.changes;
  const refused =
    adminOnlyFlags(c.isAdmin, 'update', c.changes) ?? checkDistributedMigration(router, distributed) ?? checkHaConversion(c, router);
  if (refused) return refused;
  const base = basePatch(c.changes);
  if (isDomainError(base)) return base;
  const changes = Object.fromEntries(Object.entries({ ...base, adminStateUp, ha, distributed }).filter(([, v]) => v !== undefined));
  const events: RouterEvent[] = [];
  // An update that names nothing still revises the router, as in Neutron.
  if (Object.keys(changes).length > 0 || routes === undefined)
    events.push({ type: 'RouterUpdated', data: { id: router.id, changes, updatedAt: c.now } });
  if (routes !== undefined) {
    const valid = validateRoutes(routes, router, c.maxRoutes ?? DEFAULT_MAX_ROUTES);
    if (isDomainError(valid)) return valid;
    events.push({ type: 'RouterRoutesChanged', data: { id: router.id, routes: [...valid], updatedAt: c.now } });
  }
  return events;
}

function remove(c: DeleteRouter, router: Router): Decision<RouterEvent> {
  if (router.interfaces.length > 0) {
    return domainError('RouterInUse', `Router ${router.id} still has ports`, {
      details: { portIds: [...new Set(router.interfaces.map((i) => i.portId))] },
    });
  }
  return [{ type: 'RouterDeleted', data: { id: router.id, gatewayPortId: router.gateway?.portId ?? null, deletedAt: c.now } }];
}

function gatewayInUse(router: Router, networkId: string): DomainError {
  return domainError(
    'RouterExternalGatewayInUseByFloatingIp',
    `Gateway cannot be updated for router ${router.id}, since a gateway to external network ${networkId} is required by one or more floating IPs.`,
    { details: { routerId: router.id, networkId } },
  );
}

function setGateway(c: SetRouterGateway, router: Router): Decision<RouterEvent> {
  if (!c.network.external) return badRequest(`Network ${c.network.id} is not an external network`, { networkId: c.network.id });
  const refused =
    (c.enableSnat !== undefined ? adminOnly(c, 'create_router:external_gateway_info:enable_snat') : null) ??
    (c.externalFixedIpsRequested ? adminOnly(c, 'create_router:external_gateway_info:external_fixed_ips') : null);
  if (refused) return refused;
  if (c.gatewayPort.fixedIps.length === 0) return badRequest(`No IP address on external network ${c.network.id} for the gateway`);
  const current = router.gateway;
  if (current && current.networkId !== c.network.id && c.floatingIpsUseGateway) return gatewayInUse(router, current.networkId);
  const externalFixedIps: GatewayFixedIp[] = [];
  for (const f of c.gatewayPort.fixedIps) {
    const address = addressOnSubnet(f.ipAddress, f.cidr);
    if (isDomainError(address)) return address;
    externalFixedIps.push({ subnetId: f.subnetId, ipAddress: address.ip, cidr: address.cidr });
  }
  const overlap = checkNewSubnets({ interfaces: router.interfaces, gateway: null }, externalFixedIps);
  if (overlap) return overlap;
  const enableSnat = c.enableSnat ?? current?.enableSnat ?? true;
  return [
    {
      type: 'RouterGatewaySet',
      data: { id: router.id, networkId: c.network.id, portId: c.gatewayPort.id, enableSnat, externalFixedIps, updatedAt: c.now },
    },
  ];
}

function clearGateway(c: ClearRouterGateway, router: Router): Decision<RouterEvent> {
  const current = router.gateway;
  if (!current) return [];
  if (c.floatingIpsUseGateway) return gatewayInUse(router, current.networkId);
  return [
    { type: 'RouterGatewayCleared', data: { id: router.id, networkId: current.networkId, portId: current.portId, updatedAt: c.now } },
  ];
}

function interfacesToAdd(c: AddRouterInterface, router: Router): readonly RouterInterface[] | DomainError {
  if (c.by === 'subnet') {
    const { subnet } = c;
    if (subnet.gatewayIp === null) return badRequest('Subnet for router interface must have a gateway IP', { subnetId: subnet.id });
    const joined = ipVersionOf(subnet.gatewayIp) === 6 ? ipv6PortOnNetwork(router, subnet.networkId) : null;
    return [{ portId: joined ?? c.newPortId, subnetId: subnet.id, networkId: subnet.networkId, ip: subnet.gatewayIp, cidr: subnet.cidr }];
  }
  const { port } = c;
  if (port.deviceId !== '') {
    return domainError(
      'PortInUse',
      `Unable to complete operation on port ${port.id} for network ${port.networkId}. Port already has an attached device ${port.deviceId}.`,
      {
        details: { portId: port.id, deviceId: port.deviceId },
      },
    );
  }
  if (port.fixedIps.length === 0) return badRequest('Router port must have at least one fixed IP', { portId: port.id });
  const v4Subnets = new Set(port.fixedIps.filter((f) => ipVersionOf(f.ipAddress) === 4).map((f) => f.subnetId));
  if (v4Subnets.size > 1) return badRequest('Cannot have multiple IPv4 subnets on router port', { portId: port.id });
  return port.fixedIps.map((f) => ({ portId: port.id, subnetId: f.subnetId, networkId: port.networkId, ip: f.ipAddress, cidr: f.cidr }));
}

function addInterface(c: AddRouterInterface, router: Router): Decision<RouterEvent> {
  const requested = interfacesToAdd(c, router);
  if (isDomainError(requested)) return requested;
  const added: RouterInterface[] = [];
  for (const i of requested) {
    const address = addressOnSubnet(i.ip, i.cidr);
    if (isDomainError(address)) return address;
    added.push({ ...i, ...address });
  }
  const refused = checkNewSubnets(router, added) ?? checkIpv6PortPerNetwork(router, added);
  if (refused) return refused;
  return added.map((i) => ({ type: 'RouterInterfaceAdded', data: { id: router.id, ...i, updatedAt: c.now } }));
}

function interfacesToRemove(c: RemoveRouterInterface, router: Router): readonly RouterInterface[] | DomainError {
  const { portId, subnetId } = c;
  if (portId === undefined && subnetId === undefined) return badRequest('Either subnet_id or port_id must be specified');
  if (portId !== undefined) {
    const onPort = router.interfaces.filter((i) => i.portId === portId);
    if (onPort.length === 0) {
      return domainError('RouterInterfaceNotFound', `Router ${router.id} does not have an interface with id ${portId}`, {
        details: { routerId: router.id, portId },
      });
    }
    if (subnetId === undefined) return onPort;
    const matching = onPort.filter((i) => i.subnetId === subnetId);
    if (matching.length === 0) {
      return domainError('SubnetMismatchForPort', `Subnet on port ${portId} does not match the requested subnet ${subnetId}`, {
        details: { portId, subnetId },
      });
    }
    return matching;
  }
  const onSubnet = router.interfaces.filter((i) => i.subnetId === subnetId);
  if (onSubnet.length === 0) {
    return domainError('RouterInterfaceNotFoundForSubnet', `Router ${router.id} has no interface on subnet ${subnetId}`, {
      details: { routerId: router.id, subnetId },
    });
  }
  return onSubnet;
}

function removeInterface(c: RemoveRouterInterface, router: Router): Decision<RouterEvent> {
  const removed = interfacesToRemove(c, router);
  if (isDomainError(removed)) return removed;
  const usedByFip = removed.find((i) => c.subnetIdsUsedByFloatingIps.includes(i.subnetId));
  if (usedByFip) {
    return domainError(
      'RouterInterfaceInUseByFloatingIP',
      `Cannot remove router interface for router ${router.id} on subnet ${usedByFip.subnetId}, as it is required by one or more floating IPs.`,
      { details: { routerId: router.id, subnetId: usedByFip.subnetId } },
    );
  }
  const remaining = { ...router, interfaces: router.interfaces.filter((i) => !removed.includes(i)) };
  const [stranded] = unreachableRoutes(router.routes, connectedPrefixes(remaining));
  if (stranded) {
    const subnetId = removed[0]!.subnetId;
    return domainError(
      'RouterInterfaceInUseByRoute',
      `Router interface for subnet ${subnetId} on router ${router.id} cannot be deleted, as it is required by one or more routes.`,
      { details: { routerId: router.id, subnetId, route: stranded } },
    );
  }
  return removed.map((i) => ({
    type: 'RouterInterfaceRemoved',
    data: { id: router.id, portId: i.portId, subnetId: i.subnetId, networkId: i.networkId, updatedAt: c.now },
  }));
}

export function decideRouter(c: RouterCommand, s: RouterState): Decision<RouterEvent> {
  if (c.type === 'CreateRouter') return create(c, s);
  const router = liveResource(s, 'Router', c.id, c.expectedRevision);
  if (isDomainError(router)) return router;
  switch (c.type) {
    case 'UpdateRouter':
      return update(c, router);
    case 'DeleteRouter':
      return remove(c, router);
    case 'SetRouterGateway':
      return setGateway(c, router);
    case 'ClearRouterGateway':
      return clearGateway(c, router);
    case 'AddRouterInterface':
      return addInterface(c, router);
    case 'RemoveRouterInterface':
      return removeInterface(c, router);
    case 'AllocateHaVrid':
      return allocateVrid(c, router);
    case 'ReportHaState':
      return reportHaState(c, router);
  }
}
