import { domainError, invalidField, isDomainError, type DomainError } from '../errors.js';
import {
  defaultAllocationPools,
  defaultGateway,
  formatCidr,
  formatIp,
  gatewayProblem,
  isMulticastOrLoopback,
  parseCidr,
  parseIp,
  validateAllocationPools,
  type AllocationPool,
  type Cidr,
  type IpAddress,
  type IpVersion,
} from '../ipam/index.js';
import type { HostRoute, Ipv6Mode } from './events.js';
import { isAutoAddressSubnet } from './state.js';

export const MAX_DNS_NAMESERVERS = 5;
export const MAX_HOST_ROUTES = 20;

function invalid(message: string, field: string): DomainError {
  return domainError('InvalidInput', `Invalid input for operation: ${message}`, { field: [field] });
}

export function resolveCidr(ipVersion: IpVersion, text: string): Cidr | DomainError {
  const cidr = parseCidr(text);
  if (isDomainError(cidr)) return { ...cidr, field: ['cidr'] };
  if (cidr.version !== ipVersion) return invalid(`Cidr ${text} does not match IP version ${ipVersion}.`, 'ipVersion');
  return cidr;
}

/**
 * DHCP needs room for a server and a client: no IPv4 /31, /32, no IPv6 longer than /126, and
 * nothing leased from multicast or loopback space.
 */
export function dhcpProblem(cidr: Cidr, enableDhcp: boolean): DomainError | null {
  if (!enableDhcp) return null;
  const limit = cidr.version === 4 ? 30 : 126;
  if (cidr.prefix > limit)
    return invalid(`Prefix length /${cidr.prefix} of ${formatCidr(cidr)} is incompatible with DHCP service enabled.`, 'enableDhcp');
  if (isMulticastOrLoopback({ version: cidr.version, value: cidr.network })) {
    return invalid(`Multicast or loopback range ${formatCidr(cidr)} is incompatible with DHCP service enabled.`, 'enableDhcp');
  }
  return null;
}

export function ipv6ModeProblem(
  cidr: Cidr,
  enableDhcp: boolean,
  raMode: Ipv6Mode | null,
  addressMode: Ipv6Mode | null,
): DomainError | null {
  if (raMode === null && addressMode === null) return null;
  if (cidr.version === 4) {
    return raMode !== null
      ? invalid('ipv6_ra_mode is not valid when ip_version is 4.', 'ipv6RaMode')
      : invalid('ipv6_address_mode is not valid when ip_version is 4.', 'ipv6AddressMode');
  }
  if (!enableDhcp) return invalid('ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False.', 'enableDhcp');
  if (raMode !== null && addressMode !== null && raMode !== addressMode) {
    return invalid(
      `ipv6_ra_mode set to '${raMode}' with ipv6_address_mode set to '${addressMode}' is not valid. If both attributes are set, they must be the same value.`,
      'ipv6RaMode',
    );
  }
  if (isAutoAddressSubnet({ ipv6RaMode: raMode, ipv6AddressMode: addressMode }) && cidr.prefix !== 64) {
    return invalid(
      `Invalid CIDR ${formatCidr(cidr)} for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64.`,
      'cidr',
    );
  }
  return null;
}

/** Neutron refuses turning DHCP off under a subnet that has either IPv6 mode (on update). */
export function disableDhcpProblem(enableDhcp: boolean, raMode: Ipv6Mode | null, addressMode: Ipv6Mode | null): DomainError | null {
  if (enableDhcp || (raMode === null && addressMode === null)) return null;
  return invalid('Cannot disable enable_dhcp with ipv6 attributes set.', 'enableDhcp');
}

/** undefined → default gateway, null → none, text → validated. */
export function resolveGateway(cidr: Cidr, given: string | null | undefined): IpAddress | null | DomainError {
  if (given === null) return null;
  if (given === undefined) {
    // An IPv4 /31 or /32 has no spare address: the caller must say null explicitly.
    return gatewayProblem(cidr, defaultGateway(cidr)) ?? defaultGateway(cidr);
  }
  const gateway = parseIp(given);
  if (!gateway) return invalidField(['gatewayIp'], `'${given}' is not a valid IP address.`);
  return gatewayProblem(cidr, gateway) ?? gateway;
}

export function resolvePools(
  cidr: Cidr,
  given: readonly AllocationPool[] | undefined,
  gateway: IpAddress | null,
): AllocationPool[] | DomainError {
  return given === undefined ? defaultAllocationPools(cidr, gateway) : validateAllocationPools(cidr, given, gateway);
}

export function resolveNameservers(version: IpVersion, given: readonly string[]): string[] | DomainError {
  if (given.length > MAX_DNS_NAMESERVERS) {
    return domainError(
      'DNSNameServersExhausted',
      `Unable to complete operation for the subnet. The number of DNS nameservers exceeds the limit ${MAX_DNS_NAMESERVERS}.`,
      {
        field: ['dnsNameservers'],
      },
    );
  }
  const out: string[] = [];
  for (const text of given) {
    const ip = parseIp(text);
    if (!ip) return invalidField(['dnsNameservers'], `'${text}' is not a valid nameserver address.`);
    if (ip.version !== version) return invalid(`Nameserver ${text} does not match subnet IP version ${version}.`, 'dnsNameservers');
    const normal = formatIp(ip);
    if (out.includes(normal)) return invalid(`Duplicate nameserver '${normal}'.`, 'dnsNameservers');
    out.push(normal);
  }
  return out;
}

export function resolveHostRoutes(version: IpVersion, given: readonly HostRoute[]): HostRoute[] | DomainError {
  if (given.length > MAX_HOST_ROUTES) {
    return domainError(
      'HostRoutesExhausted',
      `Unable to complete operation for the subnet. The number of host routes exceeds the limit ${MAX_HOST_ROUTES}.`,
      {
        field: ['hostRoutes'],
      },
    );
  }
  const out: HostRoute[] = [];
  for (const route of given) {
    const destination = parseCidr(route.destination, { allowZeroPrefix: true });
    const nexthop = parseIp(route.nexthop);
    if (isDomainError(destination) || !nexthop)
      return invalid(`Invalid host route ${route.destination} via ${route.nexthop}.`, 'hostRoutes');
    if (destination.version !== version || nexthop.version !== version) {
      return invalid(`Host route ${route.destination} via ${route.nexthop} does not match subnet IP version ${version}.`, 'hostRoutes');
    }
    const normal = { destination: formatCidr(destination), nexthop: formatIp(nexthop) };
    if (out.some((r) => r.destination === normal.destination && r.nexthop === normal.nexthop)) {
      return invalid(`Duplicate hostroute '${normal.destination} ${normal.nexthop}'.`, 'hostRoutes');
    }
    out.push(normal);
  }
  return out;
}
