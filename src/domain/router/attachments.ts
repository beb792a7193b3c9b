import { domainError, isDomainError, type DomainError } from '../errors.js';
import { cidrContains, cidrOf, cidrsOverlap, formatCidr, formatIp, parseCidr, parseIp } from '../ipam/index.js';
import type { RouterInterface } from './events.js';
import type { Router } from './state.js';

export function badRequest(message: string, details?: Record<string, unknown>): DomainError {
  return domainError('BadRequest', `Bad router request: ${message}`, details ? { details } : {});
}

/** An address on a subnet, from another aggregate's facts, in canonical form. */
export function addressOnSubnet(ip: string, cidr: string): { ip: string; cidr: string } | DomainError {
  const subnet = parseCidr(cidr);
  if (isDomainError(subnet)) return subnet;
  const address = parseIp(ip);
  if (!address || !cidrContains(subnet, address)) {
    return domainError('InvalidIpForSubnet', `IP address ${ip} is not a valid IP for the specified subnet.`, { details: { ip, cidr } });
  }
  return { ip: formatIp(address), cidr: formatCidr(subnet) };
}

/** Subnets the router already has a port on, the gateway's external subnets included. */
function attachedSubnets(router: Pick<Router, 'interfaces' | 'gateway'>): readonly { subnetId: string; cidr: string }[] {
  return [...router.interfaces, ...(router.gateway?.externalFixedIps ?? [])];
}

/**
 * A router may hold one port per subnet and no two overlapping subnets, counting its gateway.
 * `existing` is the router as it will be apart from `added`; CIDRs are normalised.
 */
export function checkNewSubnets(
  existing: Pick<Router, 'interfaces' | 'gateway'>,
  added: readonly { subnetId: string; cidr: string }[],
): DomainError | null {
  for (const subnet of added) {
    for (const other of attachedSubnets(existing)) {
      if (other.subnetId === subnet.subnetId)
        return badRequest(`Router already has a port on subnet ${subnet.subnetId}`, { subnetId: subnet.subnetId });
      if (cidrsOverlap(cidrOf(other.cidr), cidrOf(subnet.cidr))) {
        return badRequest(`Cidr ${subnet.cidr} of subnet ${subnet.subnetId} overlaps with cidr ${other.cidr} of subnet ${other.subnetId}`, {
          subnetId: subnet.subnetId,
          overlapsWith: other.subnetId,
        });
      }
    }
  }
  return null;
}

/**
 * Neutron's `_find_ipv6_router_port_by_network`: the router's interface port on `networkId` that
 * already holds an IPv6 address. A new IPv6 subnet of that network joins it instead of getting a
 * port of its own; IPv4 subnets always get their own port.
 */
export function ipv6PortOnNetwork(router: Pick<Router, 'interfaces'>, networkId: string): string | null {
  return router.interfaces.find((i) => i.networkId === networkId && cidrOf(i.cidr).version === 6)?.portId ?? null;
}

/** In one router, all IPv6 subnets of a network share one port. */
export function checkIpv6PortPerNetwork(router: Router, added: readonly RouterInterface[]): DomainError | null {
  const isV6 = (i: RouterInterface) => cidrOf(i.cidr).version === 6;
  for (const interfaceAdded of added.filter(isV6)) {
    const other = router.interfaces.find((i) => isV6(i) && i.networkId === interfaceAdded.networkId && i.portId !== interfaceAdded.portId);
    if (other) {
      return badRequest(
        `Cannot have multiple router ports with the same network id if both contain IPv6 subnets. Existing port ${other.portId} has IPv6 subnet(s) and network id ${other.networkId}`,
      );
    }
  }
  return null;
}
