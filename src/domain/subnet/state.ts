import { initialLifecycle, type Lifecycle, type ResourceBase } from '../common/index.js';
import type { AllocationPool, IpVersion } from '../ipam/index.js';
import type { HostRoute, Ipv6Mode } from './events.js';

export interface Subnet extends ResourceBase {
  readonly networkId: string;
  readonly ipVersion: IpVersion;
  /** Normalised (host bits cleared). */
  readonly cidr: string;
  readonly gatewayIp: string | null;
  readonly allocationPools: readonly AllocationPool[];
  readonly enableDhcp: boolean;
  readonly dnsNameservers: readonly string[];
  readonly hostRoutes: readonly HostRoute[];
  readonly ipv6RaMode: Ipv6Mode | null;
  readonly ipv6AddressMode: Ipv6Mode | null;
}

export type SubnetState = Lifecycle<Subnet>;

export const initialSubnetState: SubnetState = initialLifecycle<Subnet>();

/** What other aggregates (ports, routers) are told about a subnet when they decide. */
export type SubnetFacts = Pick<
  Subnet,
  'id' | 'networkId' | 'ipVersion' | 'cidr' | 'gatewayIp' | 'allocationPools' | 'enableDhcp' | 'ipv6RaMode' | 'ipv6AddressMode'
>;

export function subnetFacts(subnet: Subnet): SubnetFacts {
  const { id, networkId, ipVersion, cidr, gatewayIp, allocationPools, enableDhcp, ipv6RaMode, ipv6AddressMode } = subnet;
  return { id, networkId, ipVersion, cidr, gatewayIp, allocationPools, enableDhcp, ipv6RaMode, ipv6AddressMode };
}

/**
 * SLAAC and DHCPv6-stateless subnets address hosts by EUI-64; nobody picks those addresses. As in
 * Neutron, the RA mode decides when the address mode is unset: hosts autoconfigure from the RA.
 */
export function isAutoAddressSubnet(subnet: Pick<Subnet, 'ipv6AddressMode' | 'ipv6RaMode'>): boolean {
  const mode = subnet.ipv6AddressMode ?? subnet.ipv6RaMode;
  return mode === 'slaac' || mode === 'dhcpv6-stateless';
}
