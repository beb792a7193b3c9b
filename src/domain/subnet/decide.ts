import { domainError, isDomainError } from '../errors.js';
import type { Decision } from '../decider.js';
import { alreadyExists, baseFields, basePatch, liveResource, notFound } from '../common/index.js';
import { cidrOf, formatCidr, formatIp, parseIp, validateAllocationPools } from '../ipam/index.js';
import type { CreateSubnet, DeleteSubnet, SubnetCommand, UpdateSubnet } from './commands.js';
import type { SubnetChanges, SubnetEvent } from './events.js';
import {
  dhcpProblem,
  disableDhcpProblem,
  ipv6ModeProblem,
  resolveCidr,
  resolveGateway,
  resolveHostRoutes,
  resolveNameservers,
  resolvePools,
} from './rules.js';
import type { Subnet, SubnetState } from './state.js';

function sameCreate(c: CreateSubnet, s: Subnet): boolean {
  const cidr = resolveCidr(c.ipVersion, c.cidr);
  const gatewayMatches =
    c.gatewayIp === undefined || (c.gatewayIp === null ? s.gatewayIp === null : normalisedIp(c.gatewayIp) === s.gatewayIp);
  return (
    !isDomainError(cidr) &&
    formatCidr(cidr) === s.cidr &&
    c.project === s.project &&
    c.networkId === s.networkId &&
    (c.name ?? '') === s.name &&
    (c.enableDhcp ?? true) === s.enableDhcp &&
    gatewayMatches
  );
}

function normalisedIp(text: string): string | null {
  const ip = parseIp(text);
  return ip ? formatIp(ip) : null;
}

function create(c: CreateSubnet, s: SubnetState): Decision<SubnetEvent> {
  if (s.status === 'live') return sameCreate(c, s.resource) ? [] : alreadyExists('Subnet', c.id);
  if (s.status === 'deleted') return notFound('Subnet', c.id);
  const base = baseFields(c);
  if (isDomainError(base)) return base;
  const cidr = resolveCidr(c.ipVersion, c.cidr);
  if (isDomainError(cidr)) return cidr;
  const enableDhcp = c.enableDhcp ?? true;
  const ipv6RaMode = c.ipv6RaMode ?? null;
  const ipv6AddressMode = c.ipv6AddressMode ?? null;
  const problem = dhcpProblem(cidr, enableDhcp) ?? ipv6ModeProblem(cidr, enableDhcp, ipv6RaMode, ipv6AddressMode);
  if (problem) return problem;
  const gateway = resolveGateway(cidr, c.gatewayIp);
  if (isDomainError(gateway)) return gateway;
  const allocationPools = resolvePools(cidr, c.allocationPools, gateway);
  if (isDomainError(allocationPools)) return allocationPools;
  const dnsNameservers = resolveNameservers(cidr.version, c.dnsNameservers ?? []);
  if (isDomainError(dnsNameservers)) return dnsNameservers;
  const hostRoutes = resolveHostRoutes(cidr.version, c.hostRoutes ?? []);
  if (isDomainError(hostRoutes)) return hostRoutes;
  return [
    {
      type: 'SubnetCreated',
      data: {
        id: c.id,
        project: c.project,
        ...base,
        networkId: c.networkId,
        ipVersion: cidr.version,
        cidr: formatCidr(cidr),
        gatewayIp: gateway === null ? null : formatIp(gateway),
        allocationPools,
        enableDhcp,
        dnsNameservers,
        hostRoutes,
        ipv6RaMode,
        ipv6AddressMode,
        createdAt: c.now,
      },
    },
  ];
}

function update(c: UpdateSubnet, s: SubnetState): Decision<SubnetEvent> {
  const subnet = liveResource(s, 'Subnet', c.id, c.expectedRevision);
  if (isDomainError(subnet)) return subnet;
  const base = basePatch(c.changes);
  if (isDomainError(base)) return base;
  const cidr = cidrOf(subnet.cidr);
  const changes: SubnetChanges = { ...base };
  const { gatewayIp, allocationPools, enableDhcp, dnsNameservers, hostRoutes } = c.changes;

  let gateway = subnet.gatewayIp === null ? null : parseIp(subnet.gatewayIp);
  if (gatewayIp !== undefined) {
    const next = resolveGateway(cidr, gatewayIp);
    if (isDomainError(next)) return next;
    const nextText = next === null ? null : formatIp(next);
    if (nextText !== subnet.gatewayIp && c.gatewayInUseBy) {
      return domainError(
        'GatewayIpInUse',
        `Current gateway ip ${subnet.gatewayIp} already in use by port ${c.gatewayInUseBy}. Unable to update.`,
        {
          field: ['gatewayIp'],
          details: { portId: c.gatewayInUseBy },
        },
      );
    }
    gateway = next;
    changes.gatewayIp = nextText;
  }
  // A new gateway must stay clear of the pools, whether the pools change too or not.
  if (allocationPools !== undefined || gatewayIp !== undefined) {
    const pools = validateAllocationPools(cidr, allocationPools ?? subnet.allocationPools, gateway);
    if (isDomainError(pools)) return pools;
    if (allocationPools !== undefined) changes.allocationPools = pools;
  }
  if (enableDhcp !== undefined) {
    const problem = dhcpProblem(cidr, enableDhcp) ?? disableDhcpProblem(enableDhcp, subnet.ipv6RaMode, subnet.ipv6AddressMode);
    if (problem) return problem;
    changes.enableDhcp = enableDhcp;
  }
  if (dnsNameservers !== undefined) {
    const list = resolveNameservers(cidr.version, dnsNameservers);
    if (isDomainError(list)) return list;
    changes.dnsNameservers = list;
  }
  if (hostRoutes !== undefined) {
    const list = resolveHostRoutes(cidr.version, hostRoutes);
    if (isDomainError(list)) return list;
    changes.hostRoutes = list;
  }
  return [{ type: 'SubnetUpdated', data: { id: c.id, changes, updatedAt: c.now } }];
}

function remove(c: DeleteSubnet, s: SubnetState): Decision<SubnetEvent> {
  const subnet = liveResource(s, 'Subnet', c.id, c.expectedRevision);
  if (isDomainError(subnet)) return subnet;
  if (c.portsWithAddresses.length > 0) {
    return domainError(
      'SubnetInUse',
      `Unable to complete operation on subnet ${c.id}: One or more ports have an IP allocation from this subnet.`,
      {
        details: { subnetId: c.id, portIds: [...c.portsWithAddresses] },
      },
    );
  }
  return [{ type: 'SubnetDeleted', data: { id: c.id, networkId: subnet.networkId, deletedAt: c.now } }];
}

export function decideSubnet(command: SubnetCommand, state: SubnetState): Decision<SubnetEvent> {
  switch (command.type) {
    case 'CreateSubnet':
      return create(command, state);
    case 'UpdateSubnet':
      return update(command, state);
    case 'DeleteSubnet':
      return remove(command, state);
  }
}
