import type { Decision } from '../decider.js';
import { domainError, isDomainError, type DomainError } from '../errors.js';
import { badRequest, checkIpv6PortPerNetwork, checkNewSubnets } from './attachments.js';
import { parseCidr, parseIp } from './cidr.js';
import type {
  AddRouterInterface,
  ClearRouterGateway,
  CreateRouter,
  DeleteRouter,
  RemoveRouterInterface,
  RouterCommand,
  SetRouterGateway,
  UpdateRouter,
} from './commands.js';
import type { RouterEvent, RouterInterface } from './events.js';
import { liveResource, repeatedCreate, sameList } from './lifecycle.js';
import { connectedPrefixes, DEFAULT_MAX_ROUTES, unreachableRoutes, validateRoutes } from './routes.js';
import type { Router, RouterState } from './state.js';

const notFound = (id: string) => () => domainError('RouterNotFound', `Router ${id} could not be found`, { details: { id } });

function policy(attribute: string): DomainError {
  return domainError('PolicyNotAuthorized', `(rule:${attribute}) is disallowed by policy`, { field: [attribute] });
}

function adminOnlyFlags(command: CreateRouter | UpdateRouter): DomainError | null {
  if (command.isAdmin) return null;
  if (command.ha !== undefined) return policy('ha');
  if (command.distributed !== undefined) return policy('distributed');
  return null;
}

function create(command: CreateRouter, state: RouterState): Decision<RouterEvent> {
  const data = {
    id: command.id,
    project: command.project,
    name: command.name ?? '',
    description: command.description ?? '',
    tags: [...(command.tags ?? [])],
    adminStateUp: command.adminStateUp ?? true,
    ha: command.ha ?? false,
    distributed: command.distributed ?? false,
  };
  if (state.status !== 'absent') {
    return repeatedCreate(state, 'Router', command.id, (r) =>
      r.project === data.project && r.name === data.name && r.description === data.description && sameList(r.tags, data.tags) &&
      r.adminStateUp === data.adminStateUp && r.ha === data.ha && r.distributed === data.distributed,
    );
  }
  return adminOnlyFlags(command) ?? [{ type: 'RouterCreated', data: { ...data, createdAt: command.now } }];
}

function update(command: UpdateRouter, router: Router): Decision<RouterEvent> {
  const refused = adminOnlyFlags(command);
  if (refused) return refused;
  const events: RouterEvent[] = [];
  const { name, description, tags, adminStateUp, ha, distributed } = command;
  const attributes = { name, description, tags: tags && [...tags], adminStateUp, ha, distributed };
  const named = Object.entries(attributes).filter(([, v]) => v !== undefined);
  if (command.routes !== undefined) {
    const routes = validateRoutes(command.routes, router, command.maxRoutes ?? DEFAULT_MAX_ROUTES);
    if (isDomainError(routes)) return routes;
    events.push({ type: 'RouterRoutesChanged', data: { id: router.id, routes: [...routes], updatedAt: command.now } });
  }
  // An update that names nothing still revises the router, as in Neutron.
  if (named.length > 0 || events.length === 0) {
    events.unshift({ type: 'RouterUpdated', data: { id: router.id, ...Object.fromEntries(named), updatedAt: command.now } });
  }
  return events;
}

function remove(command: DeleteRouter, router: Router): Decision<RouterEvent> {
  if (router.interfaces.length > 0) {
    return domainError('RouterInUse', `Router ${router.id} still has ports`, { details: { portIds: [...new Set(router.interfaces.map((i) => i.portId))] } });
  }
  return [{ type: 'RouterDeleted', data: { id: router.id, gatewayPortId: router.gateway?.portId ?? null, deletedAt: command.now } }];
}

function gatewayInUse(router: Router, networkId: string): DomainError {
  return domainError(
    'RouterExternalGatewayInUseByFloatingIp',
    `Gateway cannot be updated for router ${router.id}, since a gateway to external network ${networkId} is required by one or more floating IPs.`,
    { details: { routerId: router.id, networkId } },
  );
}

function setGateway(command: SetRouterGateway, router: Router): Decision<RouterEvent> {
  if (!command.network.external) return badRequest(`Network ${command.network.id} is not an external network`, { networkId: command.network.id });
  if (!command.isAdmin && command.enableSnat !== undefined) return policy('external_gateway_info:enable_snat');
  if (!command.isAdmin && command.externalFixedIpsRequested) return policy('external_gateway_info:external_fixed_ips');
  if (command.gatewayPort.fixedIps.length === 0) return badRequest(`No IP address on external network ${command.network.id} for the gateway`);
  const current = router.gateway;
  if (current && current.networkId !== command.network.id && command.floatingIpsUseGateway) return gatewayInUse(router, current.networkId);
  const externalFixedIps = [];
  for (const f of command.gatewayPort.fixedIps) {
    const cidr = parseCidr(f.cidr);
    const ip = parseIp(f.ipAddress);
    if (!cidr || !ip) return domainError('InvalidInput', `Invalid input for external_fixed_ips: ${f.ipAddress} on ${f.cidr}`, { field: ['externalFixedIps'] });
    externalFixedIps.push({ subnetId: f.subnetId, ipAddress: ip.address, cidr: cidr.cidr });
  }
  const overlap = checkNewSubnets({ interfaces: router.interfaces, gateway: null }, externalFixedIps);
  if (overlap) return overlap;
  const enableSnat = command.enableSnat ?? current?.enableSnat ?? true;
  return [
    {
      type: 'RouterGatewaySet',
      data: { id: router.id, networkId: command.network.id, portId: command.gatewayPort.id, enableSnat, externalFixedIps, updatedAt: command.now },
    },
  ];
}

function clearGateway(command: ClearRouterGateway, router: Router): Decision<RouterEvent> {
  const current = router.gateway;
  if (!current) return [];
  if (command.floatingIpsUseGateway) return gatewayInUse(router, current.networkId);
  return [{ type: 'RouterGatewayCleared', data: { id: router.id, networkId: current.networkId, portId: current.portId, updatedAt: command.now } }];
}

function interfacesToAdd(command: AddRouterInterface): readonly RouterInterface[] | DomainError {
  if (command.by === 'subnet') {
    const { subnet } = command;
    if (subnet.gatewayIp === null) return badRequest('Subnet for router interface must have a gateway IP', { subnetId: subnet.id });
    return [{ portId: command.portId, subnetId: subnet.id, networkId: subnet.networkId, ip: subnet.gatewayIp, cidr: subnet.cidr }];
  }
  const { port } = command;
  if (port.deviceId !== '') {
    return domainError('PortInUse', `Unable to complete operation on port ${port.id} for network ${port.networkId}. Port already has an attached device ${port.deviceId}.`, {
      details: { portId: port.id, deviceId: port.deviceId },
    });
  }
  if (port.fixedIps.length === 0) return badRequest(`Router port must have at least one fixed IP`, { portId: port.id });
  const v4Subnets = new Set(port.fixedIps.filter((f) => parseIp(f.ipAddress)?.version === 4).map((f) => f.subnetId));
  if (v4Subnets.size > 1) return badRequest('Cannot have multiple IPv4 subnets on router port', { portId: port.id });
  return port.fixedIps.map((f) => ({ portId: port.id, subnetId: f.subnetId, networkId: port.networkId, ip: f.ipAddress, cidr: f.cidr }));
}

function addInterface(command: AddRouterInterface, router: Router): Decision<RouterEvent> {
  const requested = interfacesToAdd(command);
  if (isDomainError(requested)) return requested;
  const added: RouterInterface[] = [];
  for (const i of requested) {
    const cidr = parseCidr(i.cidr);
    const ip = parseIp(i.ip);
    if (!cidr || !ip || cidr.version !== ip.version) return domainError('InvalidInput', `Invalid input: ${i.ip} on ${i.cidr}`, { details: { subnetId: i.subnetId } });
    added.push({ ...i, ip: ip.address, cidr: cidr.cidr });
  }
  const refused = checkNewSubnets(router, added) ?? checkIpv6PortPerNetwork(router, added);
  if (refused) return refused;
  return added.map((i) => ({ type: 'RouterInterfaceAdded', data: { id: router.id, ...i, updatedAt: command.now } }));
}

function interfacesToRemove(command: RemoveRouterInterface, router: Router): readonly RouterInterface[] | DomainError {
  const { portId, subnetId } = command;
  if (portId === undefined && subnetId === undefined) return badRequest('Either subnet_id or port_id must be specified');
  if (portId !== undefined) {
    const onPort = router.interfaces.filter((i) => i.portId === portId);
    if (onPort.length === 0) {
      return domainError('RouterInterfaceNotFound', `Router ${router.id} does not have an interface with id ${portId}`, { details: { routerId: router.id, portId } });
    }
    if (subnetId === undefined) return onPort;
    const matching = onPort.filter((i) => i.subnetId === subnetId);
    if (matching.length === 0) {
      return domainError('SubnetMismatchForPort', `Subnet on port ${portId} does not match the requested subnet ${subnetId}`, { details: { portId, subnetId } });
    }
    return matching;
  }
  const onSubnet = router.interfaces.filter((i) => i.subnetId === subnetId);
  if (onSubnet.length === 0) {
    return domainError('RouterInterfaceNotFoundForSubnet', `Router ${router.id} has no interface on subnet ${subnetId}`, { details: { routerId: router.id, subnetId } });
  }
  return onSubnet;
}

function removeInterface(command: RemoveRouterInterface, router: Router): Decision<RouterEvent> {
  const removed = interfacesToRemove(command, router);
  if (isDomainError(removed)) return removed;
  const usedByFip = removed.find((i) => command.subnetIdsUsedByFloatingIps.includes(i.subnetId));
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
    data: { id: router.id, portId: i.portId, subnetId: i.subnetId, networkId: i.networkId, updatedAt: command.now },
  }));
}

export function decide(command: RouterCommand, state: RouterState): Decision<RouterEvent> {
  if (command.type === 'createRouter') return create(command, state);
  const live = liveResource(state, command.expectedRevision, notFound(command.id));
  if (isDomainError(live)) return live;
  const router = live.resource;
  switch (command.type) {
    case 'updateRouter':
      return update(command, router);
    case 'deleteRouter':
      return remove(command, router);
    case 'setRouterGateway':
      return setGateway(command, router);
    case 'clearRouterGateway':
      return clearGateway(command, router);
    case 'addRouterInterface':
      return addInterface(command, router);
    case 'removeRouterInterface':
      return removeInterface(command, router);
  }
}
