import type { Lifecycle } from '../../domain/common/index.js';
import { domainError, isDomainError, type DomainError } from '../../domain/errors.js';
import type { Vip, VipFacts } from '../../domain/loadbalancer/index.js';
import { subnetStreamId, type Subnet } from '../../domain/subnet/index.js';
import type { PlannedAppend, Tx } from '../command-runtime.js';
import { isUuid, lockNetworkForUse, subnetsOf } from '../networking/facts.js';
import { loadOwnPort, planCreatePort, planDeletePort } from '../networking/ports.js';
import type { Services } from '../services.js';
import { platformPrincipal, type Principal } from '../../domain/policy/index.js';
import { DeviceOwner } from '../../domain/port/index.js';

/** Octavia names the VIP port's device after the load balancer: `lb-<id>`. */
const vipDeviceId = (loadBalancerId: string): string => `lb-${loadBalancerId}`;

/** Where the VIP goes: a subnet, a network (a subnet of it is picked), or a port the user already has. */
export interface VipRequest {
  readonly vipSubnetId?: string;
  readonly vipNetworkId?: string;
  readonly vipPortId?: string;
  readonly vipAddress?: string;
}

const invalid = (field: string, message: string) =>
  domainError('InvalidInput', `Invalid input for ${field}. Reason: ${message}`, { field: [field] });

async function visibleSubnet(s: Services, tx: Tx, actor: Principal, id: string): Promise<Subnet | null> {
  if (!isUuid(id)) return null;
  const { state } = await s.aggregates.load<Lifecycle<Subnet>>(tx, subnetStreamId(id));
  if (state.status !== 'live') return null;
  // a subnet is usable when its network is: the actor's own, shared or external
  return (await lockNetworkForUse(s, tx, state.resource.networkId, actor)) ? state.resource : null;
}

/** Octavia prefers an IPv4 subnet when only the network is given. */
async function subnetOfNetwork(s: Services, tx: Tx, actor: Principal, networkId: string): Promise<Subnet | DomainError> {
  const network = await lockNetworkForUse(s, tx, networkId, actor);
  if (!network) return domainError('NetworkNotFound', `Network ${networkId} could not be found.`, { field: ['vipNetworkId'] });
  const subnets = await subnetsOf(s, tx, network);
  const subnet = subnets.find((x) => x.ipVersion === 4) ?? subnets[0];
  return subnet ?? invalid('vipNetworkId', `Network ${networkId} has no subnet to take the VIP address from.`);
}

/** The user's port as the VIP: left as it is, and left alone when the load balancer goes. */
async function existingPortVip(
  s: Services,
  tx: Tx,
  actor: Principal,
  request: VipRequest & { vipPortId: string },
): Promise<VipFacts | DomainError> {
  const loaded = await loadOwnPort(s, tx, actor, request.vipPortId);
  if (!loaded || loaded.state.status !== 'live')
    return domainError('PortNotFound', `Port ${request.vipPortId} could not be found.`, { field: ['vipPortId'] });
  const port = loaded.state.resource;
  if (port.deviceOwner !== '' || port.deviceId !== '') {
    return domainError(
      'PortInUse',
      `Unable to complete operation on port ${port.id} for network ${port.networkId}. Port already has an attached device ${port.deviceId || port.deviceOwner}.`,
      {
        field: ['vipPortId'],
      },
    );
  }
  if (request.vipNetworkId && request.vipNetworkId !== port.networkId)
    return invalid('vipNetworkId', `Port ${port.id} is not on network ${request.vipNetworkId}.`);
  const ip = port.fixedIps.find(
    (f) => (!request.vipSubnetId || f.subnetId === request.vipSubnetId) && (!request.vipAddress || f.ipAddress === request.vipAddress),
  );
  if (!ip) return invalid('vipPortId', `Port ${port.id} has no fixed IP matching the requested VIP subnet and address.`);
  return { portId: port.id, address: ip.ipAddress, subnetId: ip.subnetId, networkId: port.networkId, portOwned: false };
}

/**
 * Resolves the VIP for a new load balancer: the user's port, or a new `Octavia` port (device id
 * `lb-<id>`) allocated on the subnet with the requested address or a free one.
 */
export async function planVip(
  s: Services,
  tx: Tx,
  actor: Principal,
  loadBalancerId: string,
  request: VipRequest,
  now: string,
): Promise<{ vip: VipFacts; append: PlannedAppend | null } | DomainError> {
  if (request.vipPortId) {
    const vip = await existingPortVip(s, tx, actor, { ...request, vipPortId: request.vipPortId });
    return isDomainError(vip) ? vip : { vip, append: null };
  }
  let subnet: Subnet | DomainError;
  if (request.vipSubnetId) {
    subnet =
      (await visibleSubnet(s, tx, actor, request.vipSubnetId)) ??
      domainError('SubnetNotFound', `Subnet ${request.vipSubnetId} could not be found.`, { field: ['vipSubnetId'] });
    if (!isDomainError(subnet) && request.vipNetworkId && request.vipNetworkId !== subnet.networkId) {
      return invalid('vipSubnetId', `Subnet ${subnet.id} is not on network ${request.vipNetworkId}.`);
    }
  } else if (request.vipNetworkId) {
    subnet = await subnetOfNetwork(s, tx, actor, request.vipNetworkId);
  } else {
    return invalid('vipSubnetId', 'One of vipSubnetId, vipNetworkId or vipPortId is required.');
  }
  if (isDomainError(subnet)) return subnet;
  const planned = await planCreatePort(
    s,
    tx,
    actor,
    {
      networkId: subnet.networkId,
      name: `octavia-lb-${loadBalancerId}`,
      deviceOwner: DeviceOwner.octavia,
      deviceId: vipDeviceId(loadBalancerId),
      fixedIps: [{ subnetId: subnet.id, ...(request.vipAddress ? { ipAddress: request.vipAddress } : {}) }],
    },
    now,
  );
  if (isDomainError(planned)) return planned;
  const ip = planned.port.fixedIps.find((f) => f.subnetId === subnet.id);
  if (!ip) return domainError('IpAddressGenerationFailure', `No more IP addresses available on subnet ${subnet.id}.`);
  return {
    vip: { portId: planned.port.id, address: ip.ipAddress, subnetId: subnet.id, networkId: subnet.networkId, portOwned: true },
    append: planned.append,
  };
}

/**
 * The VIP a repeated create describes, filled in from the existing one where the request is silent,
 * so the decider can tell a retry (nothing to do) from a different request (IDAlreadyExists)
 * without allocating a second port.
 */
export function requestedVip(existing: Vip | null, request: VipRequest): VipFacts {
  return {
    portId: request.vipPortId ?? existing?.portId ?? '',
    address: request.vipAddress ?? existing?.address ?? '',
    subnetId: request.vipSubnetId ?? existing?.subnetId ?? '',
    networkId: request.vipNetworkId ?? existing?.networkId ?? '',
    portOwned: request.vipPortId === undefined,
  };
}

/** Frees the VIP port the load balancer allocated; one already gone (deleted by hand) is fine. */
export async function planReleaseVip(
  s: Services,
  tx: Tx,
  project: string,
  vip: { vipPortId: string | null; vipPortOwned: boolean },
  now: string,
): Promise<PlannedAppend | null | DomainError> {
  if (!vip.vipPortId || !vip.vipPortOwned) return null;
  const planned = await planDeletePort(s, tx, platformPrincipal(project), vip.vipPortId, undefined, now, true);
  if (isDomainError(planned)) return planned.code === 'PortNotFound' ? null : planned;
  return planned;
}
