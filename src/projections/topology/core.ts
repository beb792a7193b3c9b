import type { FloatingIp } from '../../domain/floating-ip/index.js';
import type { Network } from '../../domain/network/index.js';
import type { Port } from '../../domain/port/index.js';
import type { Router } from '../../domain/router/index.js';
import type { Subnet } from '../../domain/subnet/index.js';
import type {
  Topology,
  TopologyFloatingIp,
  TopologyNetwork,
  TopologyPort,
  TopologyRouter,
  TopologySubnet,
} from '../desired-state/index.js';
import { docsOf, type TopologyFragment, type TopologySource } from './source.js';

/** Read-model documents → the compiler's view: networks, subnets, ports, routers, floating IPs. */

export function subnetToTopology(s: Subnet): TopologySubnet {
  return {
    id: s.id,
    ipVersion: s.ipVersion,
    cidr: s.cidr,
    gatewayIp: s.gatewayIp,
    enableDhcp: s.enableDhcp,
    dnsNameservers: [...s.dnsNameservers],
    hostRoutes: s.hostRoutes.map((r) => ({ destination: r.destination, nexthop: r.nexthop })),
    allocationPools: s.allocationPools.map((p) => ({ start: p.start, end: p.end })),
    ipv6RaMode: s.ipv6RaMode,
    ipv6AddressMode: s.ipv6AddressMode,
  };
}

/** `subnets`: the network's subnets; kept in the network's own (creation) order. */
export function networkToTopology(n: Network, subnets: readonly Subnet[]): TopologyNetwork {
  const byId = new Map(subnets.map((s) => [s.id, s]));
  const ordered = n.subnets.map((r) => byId.get(r.id)).filter((s): s is Subnet => s !== undefined);
  return {
    id: n.id,
    mtu: n.mtu,
    external: n.external,
    segment: {
      networkType: n.provider.networkType,
      physicalNetwork: n.provider.physicalNetwork,
      segmentationId: n.provider.segmentationId,
    },
    subnets: ordered.map(subnetToTopology),
  };
}

export function portToTopology(p: Port): TopologyPort {
  return {
    id: p.id,
    networkId: p.networkId,
    macAddress: p.macAddress,
    fixedIps: p.fixedIps.map((f) => ({ subnetId: f.subnetId, ipAddress: f.ipAddress })),
    deviceOwner: p.deviceOwner,
    deviceId: p.deviceId,
    // Neutron's unbound port has an empty binding:host_id.
    bindingHost: p.bindingHost === '' ? null : p.bindingHost,
    adminStateUp: p.adminStateUp,
    // What filtering needs of the port itself; the groups' rules come from the security group part.
    portSecurityEnabled: p.portSecurityEnabled,
    securityGroups: [...p.securityGroups],
    allowedAddressPairs: p.allowedAddressPairs.map((a) => ({ ipAddress: a.ipAddress, macAddress: a.macAddress })),
  };
}

/** The ports a router plugs in: its gateway port and each interface port once (an IPv6 port may carry several subnets). */
export function routerPortIds(r: Router): string[] {
  return [...new Set([...(r.gateway ? [r.gateway.portId] : []), ...r.interfaces.map((i) => i.portId)])];
}

export function routerToTopology(r: Router): TopologyRouter {
  return {
    id: r.id,
    adminStateUp: r.adminStateUp,
    interfacePortIds: [...new Set(r.interfaces.map((i) => i.portId))],
    gateway: r.gateway ? { portId: r.gateway.portId, networkId: r.gateway.networkId, enableSnat: r.gateway.enableSnat } : null,
    routes: r.routes.map((x) => ({ destination: x.destination, nexthop: x.nexthop })),
    // Only when set: a legacy router's topology reads as it did before DVR.
    ...(r.distributed ? { distributed: true } : {}),
    ...(r.ha ? { ha: r.haVrid ? { vrid: r.haVrid.vrid } : null } : {}),
  };
}

export function floatingIpToTopology(f: FloatingIp): TopologyFloatingIp {
  const a = f.association;
  return {
    id: f.id,
    floatingIpAddress: f.floatingIpAddress,
    floatingNetworkId: f.floatingNetworkId,
    fixedIpAddress: a?.fixedIpAddress ?? null,
    portId: a?.portId ?? null,
    routerId: a?.routerId ?? null,
  };
}

export interface CoreDocs {
  readonly networks: readonly Network[];
  readonly subnets: readonly Subnet[];
  readonly ports: readonly Port[];
  readonly routers: readonly Router[];
  readonly floatingIps: readonly FloatingIp[];
}

/** Networks, subnets, ports, routers and floating IPs: the part every build has. */
export function coreTopology(docs: CoreDocs): Topology {
  const subnetsByNetwork = new Map<string, Subnet[]>();
  for (const s of docs.subnets) subnetsByNetwork.set(s.networkId, [...(subnetsByNetwork.get(s.networkId) ?? []), s]);
  return {
    networks: docs.networks.map((n) => networkToTopology(n, subnetsByNetwork.get(n.id) ?? [])),
    // The hidden network:floatingip ports hold an address only; nothing is plugged for them.
    ports: docs.ports.filter((p) => p.deviceOwner !== 'network:floatingip').map(portToTopology),
    routers: docs.routers.map(routerToTopology),
    floatingIps: docs.floatingIps.map(floatingIpToTopology),
  };
}

/** The part every build has. */
export async function coreTopologyPart(source: TopologySource): Promise<TopologyFragment> {
  return coreTopology({
    networks: await docsOf<Network>(source, 'network'),
    subnets: await docsOf<Subnet>(source, 'subnet'),
    ports: await docsOf<Port>(source, 'port'),
    routers: await docsOf<Router>(source, 'router'),
    floatingIps: await docsOf<FloatingIp>(source, 'floatingip'),
  });
}
