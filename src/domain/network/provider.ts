import { domainError, invalidField, type DomainError } from '../errors.js';
import type { CreateNetwork } from './commands.js';
import type { NetworkType, Provider } from './events.js';

const GLOBAL_PHYSNET_MTU = 1500;
// VXLAN: 30 bytes of VXLAN/UDP/outer Ethernet plus a 20-byte outer IPv4 header.
const VXLAN_OVERHEAD = 50;
export const MIN_MTU_IPV4 = 68;
export const MIN_MTU_IPV6 = 1280;

const SEGMENT_RANGES: Partial<Record<NetworkType, readonly [number, number]>> = {
  vlan: [1, 4094],
  vxlan: [1, 16_777_215],
};

export function maxMtu(networkType: NetworkType): number {
  return networkType === 'vxlan' ? GLOBAL_PHYSNET_MTU - VXLAN_OVERHEAD : GLOBAL_PHYSNET_MTU;
}

function invalid(message: string, field: string): DomainError {
  return domainError('InvalidInput', `Invalid input for operation: ${message}`, { field: ['provider', field] });
}

/** The segment a new network gets, with Neutron's per-type rules on physical network and id. */
export function resolveProvider(command: CreateNetwork): Provider | DomainError {
  const networkType = command.provider?.networkType ?? 'vxlan';
  const physicalNetwork = command.provider?.physicalNetwork ?? null;
  const segmentationId = command.provider?.segmentationId ?? null;
  if (command.segmentationExhausted) {
    return domainError('NoNetworkAvailable', 'Unable to create the network. No tenant network is available for allocation.');
  }
  const needsPhysnet = networkType === 'vlan' || networkType === 'flat';
  if (needsPhysnet && physicalNetwork === null)
    return invalid(`physical_network required for ${networkType} provider network.`, 'physicalNetwork');
  if (!needsPhysnet && physicalNetwork !== null)
    return invalid(`physical_network not allowed for ${networkType} provider network.`, 'physicalNetwork');
  const range = SEGMENT_RANGES[networkType];
  if (range) {
    if (segmentationId === null) return invalid(`segmentation_id required for ${networkType} provider network.`, 'segmentationId');
    if (!Number.isInteger(segmentationId) || segmentationId < range[0] || segmentationId > range[1]) {
      return invalid(`segmentation_id out of range (${range[0]} through ${range[1]}).`, 'segmentationId');
    }
  } else if (segmentationId !== null) {
    return invalid(`segmentation_id not allowed for ${networkType} provider network.`, 'segmentationId');
  }
  if (command.segmentInUse) {
    if (networkType === 'vlan')
      return domainError(
        'VlanIdInUse',
        `Unable to create the network. The VLAN ${segmentationId} on physical network ${physicalNetwork} is in use.`,
      );
    if (networkType === 'vxlan')
      return domainError('TunnelIdInUse', `Unable to create the network. The tunnel ID ${segmentationId} is in use.`);
    if (networkType === 'flat')
      return domainError('FlatNetworkInUse', `Unable to create the flat network. Physical network ${physicalNetwork} is in use.`);
  }
  return { networkType, physicalNetwork, segmentationId };
}

/** An MTU the segment can carry, and that every subnet family on the network can live with. */
export function mtuProblem(mtu: number, networkType: NetworkType, hasIpv6Subnet: boolean): DomainError | null {
  const max = maxMtu(networkType);
  if (!Number.isInteger(mtu) || mtu < MIN_MTU_IPV4) {
    return invalidField(['mtu'], `MTU ${mtu} is smaller than the minimum of ${MIN_MTU_IPV4}.`);
  }
  if (mtu > max) return invalidField(['mtu'], `Requested MTU is too big, maximum is ${max}.`);
  if (hasIpv6Subnet && mtu < MIN_MTU_IPV6) {
    return domainError('NetworkMTUSubnetConflict', `MTU ${mtu} is too small for an IPv6 subnet; IPv6 needs at least ${MIN_MTU_IPV6}.`, {
      field: ['mtu'],
    });
  }
  return null;
}
