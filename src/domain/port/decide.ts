import { domainError, invalidField, isDomainError, type DomainError } from '../errors.js';
import type { Decision } from '../decider.js';
import { alreadyExists, baseFields, basePatch, liveResource, notFound } from '../common/index.js';
import { eui64Address, formatIp, isUnusableMac, normaliseMac, parseIp } from '../ipam/index.js';
import { adminOnly, portNetworkAccess } from '../policy/index.js';
import { isAutoAddressSubnet } from '../subnet/index.js';
import type { AddAutoAddress, CreatePort, DeletePort, PortCommand, ReleaseSubnetAddresses, SetPortStatus, UpdatePort } from './commands.js';
import { isNetworkOwned, isRouterPort, isServicePort } from './device-owner.js';
import type { PortChanges, PortEvent } from './events.js';
import { allocateFixedIps, diffFixedIps, readdressForMac } from './fixed-ips.js';
import { portSecurityProblem, resolveAddressPairs, statefulnessConflict } from './security.js';
import type { Port, PortState } from './state.js';

function usableMac(requested: string): string | DomainError {
  const mac = normaliseMac(requested);
  if (mac === null || isUnusableMac(mac)) return invalidField(['macAddress'], `'${requested}' is not a valid unicast MAC address.`);
  return mac;
}

function macInUse(networkId: string, mac: string): DomainError {
  return domainError('MacAddressInUse', `Unable to complete operation for network ${networkId}. The mac address ${mac} is in use.`, {
    field: ['macAddress'],
    details: { networkId, macAddress: mac },
  });
}

function resolveMac(c: CreatePort): string | DomainError {
  const requested = c.macAddress ?? c.generatedMac;
  if (requested === undefined)
    return domainError('InvalidInput', 'Invalid input for operation: no MAC address was given or generated.', { field: ['macAddress'] });
  const mac = usableMac(requested);
  if (isDomainError(mac)) return mac;
  return c.macTaken ? macInUse(c.networkId, mac) : mac;
}

/**
 * A MAC change as ML2 allows it: admins only (update_port:mac_address, checked whenever the field
 * is given), never on a bound port (PortBound), unique in the network.
 */
function changedMac(c: UpdatePort, port: Port, requested: string): string | DomainError {
  const mac = usableMac(requested);
  if (isDomainError(mac)) return mac;
  const refused = adminOnly({ isAdmin: c.asAdmin ?? false }, 'update_port:mac_address');
  if (refused) return refused;
  if (mac === port.macAddress) return mac;
  if (port.bindingHost !== '') {
    return domainError(
      'PortBound',
      `Unable to complete operation on port ${port.id}, port is already bound, port type: ${port.deviceOwner || 'unbound'}, old_mac ${port.macAddress}, new_mac ${mac}.`,
      { field: ['macAddress'], details: { portId: port.id, bindingHost: port.bindingHost, oldMac: port.macAddress, newMac: mac } },
    );
  }
  return c.macTaken ? macInUse(port.networkId, mac) : mac;
}

/** The policy's word on plugging into the network; a hidden network answers like a missing one. */
function accessProblem(c: CreatePort): DomainError | null {
  const network = c.network;
  if (!network) return notFound('Network', c.networkId);
  const access = portNetworkAccess({ projectId: c.project, isAdmin: c.asAdmin ?? false }, network, {
    picksAddress: c.fixedIps?.some((f) => f.ipAddress !== undefined) ?? false,
  });
  if (access === 'allowed') return null;
  return access === 'hidden' ? notFound('Network', c.networkId) : access;
}

function sameCreate(c: CreatePort, p: Port): boolean {
  const requestedMac = c.macAddress === undefined ? null : normaliseMac(c.macAddress);
  const holds = (ip: string | undefined) => {
    const normal = ip === undefined ? null : parseIp(ip);
    return normal === null || p.fixedIps.some((f) => f.ipAddress === formatIp(normal));
  };
  return (
    c.project === p.project &&
    c.networkId === p.networkId &&
    (c.name ?? '') === p.name &&
    (c.deviceOwner ?? '') === p.deviceOwner &&
    (c.deviceId ?? '') === p.deviceId &&
    (requestedMac === null || requestedMac === p.macAddress) &&
    (c.fixedIps ?? []).every((f) => holds(f.ipAddress))
  );
}

function create(c: CreatePort, s: PortState): Decision<PortEvent> {
  if (s.status === 'live') return sameCreate(c, s.resource) ? [] : alreadyExists('Port', c.id);
  if (s.status === 'deleted') return notFound('Port', c.id);
  const denied = accessProblem(c);
  if (denied || !c.network) return denied ?? notFound('Network', c.networkId);
  const base = baseFields(c);
  if (isDomainError(base)) return base;
  const macAddress = resolveMac(c);
  if (isDomainError(macAddress)) return macAddress;
  const deviceOwner = c.deviceOwner ?? '';
  // Neutron's port-security extension never filters a trusted (network:*) port, whatever is asked.
  const portSecurityEnabled = isNetworkOwned(deviceOwner) ? false : (c.portSecurityEnabled ?? c.network.portSecurityEnabled);
  const allowedAddressPairs = resolveAddressPairs(c.allowedAddressPairs ?? [], macAddress);
  if (isDomainError(allowedAddressPairs)) return allowedAddressPairs;
  const defaultGroups =
    portSecurityEnabled && !isNetworkOwned(deviceOwner) && c.defaultSecurityGroupId !== undefined ? [c.defaultSecurityGroupId] : [];
  const securityGroups = c.securityGroups === undefined ? defaultGroups : [...new Set(c.securityGroups)];
  const insecure = portSecurityProblem(portSecurityEnabled, securityGroups, allowedAddressPairs);
  if (insecure) return insecure;
  const mixed = statefulnessConflict(securityGroups, c.securityGroupStateful ?? {});
  if (mixed) return mixed;
  const allocation = allocateFixedIps(
    { networkId: c.networkId, subnets: c.subnets, requests: c.fixedIps, deviceOwner, macAddress, current: [] },
    { candidates: c.addressCandidates ?? {}, taken: c.takenAddresses ?? [] },
  );
  if (isDomainError(allocation)) return allocation;
  return [
    {
      type: 'PortCreated',
      data: {
        id: c.id,
        project: c.project,
        ...base,
        networkId: c.networkId,
        macAddress,
        fixedIps: allocation.fixedIps,
        deviceOwner,
        deviceId: c.deviceId ?? '',
        adminStateUp: c.adminStateUp ?? true,
        bindingHost: c.bindingHost ?? '',
        securityGroups,
        portSecurityEnabled,
        allowedAddressPairs,
        status: 'DOWN',
        createdAt: c.now,
      },
    },
  ];
}

function update(c: UpdatePort, s: PortState): Decision<PortEvent> {
  const port = liveResource(s, 'Port', c.id, c.expectedRevision);
  if (isDomainError(port)) return port;
  const base = basePatch(c.changes);
  if (isDomainError(base)) return base;
  const { adminStateUp, deviceOwner, deviceId, bindingHost, securityGroups, portSecurityEnabled, fixedIps } = c.changes;
  const changes: PortChanges = { ...base };
  if (adminStateUp !== undefined) changes.adminStateUp = adminStateUp;
  if (deviceOwner !== undefined) changes.deviceOwner = deviceOwner;
  if (deviceId !== undefined) changes.deviceId = deviceId;
  if (bindingHost !== undefined) changes.bindingHost = bindingHost;
  if (securityGroups !== undefined) changes.securityGroups = [...new Set(securityGroups)];
  if (portSecurityEnabled !== undefined) changes.portSecurityEnabled = portSecurityEnabled;
  if (c.changes.macAddress !== undefined) {
    const mac = changedMac(c, port, c.changes.macAddress);
    if (isDomainError(mac)) return mac;
    if (mac !== port.macAddress) changes.macAddress = mac;
  }
  const macAddress = changes.macAddress ?? port.macAddress;
  if (c.changes.allowedAddressPairs !== undefined) {
    const pairs = resolveAddressPairs(c.changes.allowedAddressPairs, macAddress);
    if (isDomainError(pairs)) return pairs;
    changes.allowedAddressPairs = pairs;
  }
  const insecure = portSecurityProblem(
    changes.portSecurityEnabled ?? port.portSecurityEnabled,
    changes.securityGroups ?? port.securityGroups,
    changes.allowedAddressPairs ?? port.allowedAddressPairs,
  );
  if (insecure) return insecure;
  const mixed = statefulnessConflict(changes.securityGroups ?? [], c.securityGroupStateful ?? {});
  if (mixed) return mixed;

  const events: PortEvent[] = [];
  const owner = changes.deviceOwner ?? port.deviceOwner;
  // With a new MAC, the EUI-64 addresses follow it before any requested change is planned.
  const current = readdressForMac(port.fixedIps, c.subnets ?? [], owner, port.macAddress, macAddress);
  if (fixedIps !== undefined) {
    const allocation = allocateFixedIps(
      { networkId: port.networkId, subnets: c.subnets ?? [], requests: fixedIps, deviceOwner: owner, macAddress, current },
      { candidates: c.addressCandidates ?? {}, taken: c.takenAddresses ?? [] },
    );
    if (isDomainError(allocation)) return allocation;
    const change = diffFixedIps(port.fixedIps, allocation.fixedIps);
    events.push({ type: 'FixedIpsChanged', data: { id: c.id, networkId: port.networkId, ...change, updatedAt: c.now } });
  } else if (macAddress !== port.macAddress) {
    const change = diffFixedIps(port.fixedIps, current);
    if (change.allocated.length > 0 || change.released.length > 0)
      events.push({ type: 'FixedIpsChanged', data: { id: c.id, networkId: port.networkId, ...change, updatedAt: c.now } });
  }
  // One event per update where possible; an update that only moves addresses needs no PortUpdated,
  // but one that changes nothing at all still raises the revision, as Neutron does.
  if (Object.keys(changes).length > 0 || events.length === 0)
    events.unshift({ type: 'PortUpdated', data: { id: c.id, changes, updatedAt: c.now } });
  return events;
}

function setStatus(c: SetPortStatus, s: PortState): Decision<PortEvent> {
  const port = liveResource(s, 'Port', c.id);
  if (isDomainError(port)) return port;
  const reason = c.reason ?? null;
  if (port.status === c.status && port.statusReason === reason) return [];
  return [{ type: 'PortStatusChanged', data: { id: c.id, status: c.status, reason, updatedAt: c.now } }];
}

function remove(c: DeletePort, s: PortState): Decision<PortEvent> {
  const port = liveResource(s, 'Port', c.id, c.expectedRevision);
  if (isDomainError(port)) return port;
  if (isServicePort(port.deviceOwner) && !c.byOwner) {
    return domainError(
      'ServicePortInUse',
      `Port ${c.id} cannot be deleted directly via the port API: has device owner ${port.deviceOwner}.`,
      {
        details: { portId: c.id, deviceOwner: port.deviceOwner, deviceId: port.deviceId },
      },
    );
  }
  const { networkId, macAddress, deviceOwner, deviceId } = port;
  return [
    {
      type: 'PortDeleted',
      data: { id: c.id, networkId, macAddress, fixedIps: [...port.fixedIps], deviceOwner, deviceId, deletedAt: c.now },
    },
  ];
}

function releaseSubnet(c: ReleaseSubnetAddresses, s: PortState): Decision<PortEvent> {
  const port = liveResource(s, 'Port', c.id);
  if (isDomainError(port)) return port;
  const released = port.fixedIps.filter((f) => f.subnetId === c.subnetId);
  if (released.length === 0) return [];
  const fixedIps = port.fixedIps.filter((f) => f.subnetId !== c.subnetId);
  return [{ type: 'FixedIpsChanged', data: { id: c.id, networkId: port.networkId, fixedIps, allocated: [], released, updatedAt: c.now } }];
}

function addAutoAddress(c: AddAutoAddress, s: PortState): Decision<PortEvent> {
  const port = liveResource(s, 'Port', c.id);
  if (isDomainError(port)) return port;
  const subnet = c.subnet;
  if (subnet.networkId !== port.networkId || !isAutoAddressSubnet(subnet) || isRouterPort(port.deviceOwner)) return [];
  if (port.fixedIps.some((f) => f.subnetId === subnet.id)) return [];
  const added = { subnetId: subnet.id, ipAddress: eui64Address(subnet.cidr, port.macAddress) };
  return [
    {
      type: 'FixedIpsChanged',
      data: {
        id: c.id,
        networkId: port.networkId,
        fixedIps: [...port.fixedIps, added],
        allocated: [added],
        released: [],
        updatedAt: c.now,
      },
    },
  ];
}

export function decidePort(command: PortCommand, state: PortState): Decision<PortEvent> {
  switch (command.type) {
    case 'CreatePort':
      return create(command, state);
    case 'UpdatePort':
      return update(command, state);
    case 'SetPortStatus':
      return setStatus(command, state);
    case 'DeletePort':
      return remove(command, state);
    case 'ReleaseSubnetAddresses':
      return releaseSubnet(command, state);
    case 'AddAutoAddress':
      return addAutoAddress(command, state);
  }
}
