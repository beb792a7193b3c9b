import { domainError, isDomainError, type DomainError } from '../errors.js';
import type { Decision } from '../decider.js';
import { alreadyExists, baseFields, basePatch, checkAvailabilityZoneHints, liveResource, notFound, sameHints } from '../common/index.js';
import { cidrOf, cidrsOverlap, parseCidr, formatCidr } from '../ipam/index.js';
import type {
  AddNetworkSubnet,
  CreateNetwork,
  DeleteNetwork,
  NetworkCommand,
  NoteSubnetUpdated,
  RemoveNetworkSubnet,
  UpdateNetwork,
} from './commands.js';
import type { NetworkChanges, NetworkEvent } from './events.js';
import { maxMtu, mtuProblem, resolveProvider } from './provider.js';
import type { Network, NetworkState } from './state.js';

function hasIpv6Subnet(network: Network): boolean {
  return network.subnets.some((s) => cidrOf(s.cidr).version === 6);
}

/** A retried create: everything the caller asked for already holds. */
function sameCreate(c: CreateNetwork, n: Network): boolean {
  const p = c.provider;
  return (
    c.project === n.project &&
    (c.name ?? '') === n.name &&
    (c.description ?? '') === n.description &&
    (c.adminStateUp ?? true) === n.adminStateUp &&
    (c.shared ?? false) === n.shared &&
    (c.external ?? false) === n.external &&
    (c.portSecurityEnabled ?? true) === n.portSecurityEnabled &&
    (c.mtu === undefined || c.mtu === n.mtu) &&
    (p?.networkType ?? 'vxlan') === n.provider.networkType &&
    sameHints(c.availabilityZoneHints, n.availabilityZoneHints) &&
    // The segmentation id is left out: the application allocates a fresh one for a retry.
    (p?.physicalNetwork ?? null) === n.provider.physicalNetwork
  );
}

function create(c: CreateNetwork, s: NetworkState): Decision<NetworkEvent> {
  if (s.status === 'live') return sameCreate(c, s.resource) ? [] : alreadyExists('Network', c.id);
  if (s.status === 'deleted') return notFound('Network', c.id);
  const base = baseFields(c);
  if (isDomainError(base)) return base;
  const provider = resolveProvider(c);
  if (isDomainError(provider)) return provider;
  const mtu = c.mtu ?? maxMtu(provider.networkType);
  const bad = mtuProblem(mtu, provider.networkType, false);
  if (bad) return bad;
  const hints = checkAvailabilityZoneHints(c.availabilityZoneHints, c.knownAvailabilityZones);
  if (isDomainError(hints)) return hints;
  return [
    {
      type: 'NetworkCreated',
      data: {
        id: c.id,
        project: c.project,
        ...base,
        adminStateUp: c.adminStateUp ?? true,
        shared: c.shared ?? false,
        external: c.external ?? false,
        portSecurityEnabled: c.portSecurityEnabled ?? true,
        mtu,
        provider,
        ...(hints.length > 0 ? { availabilityZoneHints: [...hints] } : {}),
        createdAt: c.now,
      },
    },
  ];
}

function update(c: UpdateNetwork, s: NetworkState): Decision<NetworkEvent> {
  const network = liveResource(s, 'Network', c.id, c.expectedRevision);
  if (isDomainError(network)) return network;
  const base = basePatch(c.changes);
  if (isDomainError(base)) return base;
  const { adminStateUp, shared, external, portSecurityEnabled, mtu } = c.changes;
  if (mtu !== undefined) {
    const bad = mtuProblem(mtu, network.provider.networkType, hasIpv6Subnet(network));
    if (bad) return bad;
  }
  const changes: NetworkChanges = { ...base };
  if (adminStateUp !== undefined) changes.adminStateUp = adminStateUp;
  if (shared !== undefined) changes.shared = shared;
  if (external !== undefined) changes.external = external;
  if (portSecurityEnabled !== undefined) changes.portSecurityEnabled = portSecurityEnabled;
  if (mtu !== undefined) changes.mtu = mtu;
  // Neutron raises the revision on every update, even one that changes nothing.
  return [{ type: 'NetworkUpdated', data: { id: c.id, changes, updatedAt: c.now } }];
}

function remove(c: DeleteNetwork, s: NetworkState): Decision<NetworkEvent> {
  const network = liveResource(s, 'Network', c.id, c.expectedRevision);
  if (isDomainError(network)) return network;
  if (c.portsInUse > 0) {
    return domainError(
      'NetworkInUse',
      `Unable to complete operation on network ${c.id}. There are one or more ports still in use on the network.`,
      {
        details: { networkId: c.id, portsInUse: c.portsInUse },
      },
    );
  }
  return [{ type: 'NetworkDeleted', data: { id: c.id, subnetIds: network.subnets.map((x) => x.id), deletedAt: c.now } }];
}

function overlapError(cidr: string, networkId: string): DomainError {
  return domainError(
    'InvalidInput',
    `Invalid input for operation: Requested subnet with cidr: ${cidr} for network: ${networkId} overlaps with another subnet.`,
    {
      field: ['cidr'],
      details: { cidr, networkId },
    },
  );
}

function addSubnet(c: AddNetworkSubnet, s: NetworkState): Decision<NetworkEvent> {
  const network = liveResource(s, 'Network', c.id);
  if (isDomainError(network)) return network;
  // Another project's network answers like a missing one, even when shared: only its owner adds subnets.
  if (network.project !== c.project && !c.asAdmin) return notFound('Network', c.id);
  const parsed = parseCidr(c.cidr);
  if (isDomainError(parsed)) return parsed;
  const cidr = formatCidr(parsed);
  const existing = network.subnets.find((x) => x.id === c.subnetId);
  if (existing) return existing.cidr === cidr ? [] : overlapError(cidr, c.id);
  if (network.subnets.some((x) => cidrsOverlap(cidrOf(x.cidr), parsed))) return overlapError(cidr, c.id);
  if (parsed.version === 6) {
    const bad = mtuProblem(network.mtu, network.provider.networkType, true);
    if (bad) return bad;
  }
  return [{ type: 'NetworkSubnetAdded', data: { id: c.id, subnetId: c.subnetId, cidr, updatedAt: c.now } }];
}

function removeSubnet(c: RemoveNetworkSubnet, s: NetworkState): Decision<NetworkEvent> {
  const network = liveResource(s, 'Network', c.id);
  if (isDomainError(network)) return network;
  if (!network.subnets.some((x) => x.id === c.subnetId)) return [];
  return [{ type: 'NetworkSubnetRemoved', data: { id: c.id, subnetId: c.subnetId, updatedAt: c.now } }];
}

function noteSubnetUpdated(c: NoteSubnetUpdated, s: NetworkState): Decision<NetworkEvent> {
  const network = liveResource(s, 'Network', c.id);
  if (isDomainError(network)) return network;
  if (!network.subnets.some((x) => x.id === c.subnetId)) return [];
  return [{ type: 'NetworkSubnetUpdated', data: { id: c.id, subnetId: c.subnetId, updatedAt: c.now } }];
}

export function decideNetwork(command: NetworkCommand, state: NetworkState): Decision<NetworkEvent> {
  switch (command.type) {
    case 'CreateNetwork':
      return create(command, state);
    case 'UpdateNetwork':
      return update(command, state);
    case 'DeleteNetwork':
      return remove(command, state);
    case 'NoteSubnetUpdated':
      return noteSubnetUpdated(command, state);
    case 'AddNetworkSubnet':
      return addSubnet(command, state);
    case 'RemoveNetworkSubnet':
      return removeSubnet(command, state);
  }
}
