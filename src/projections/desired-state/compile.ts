import type { AgentMode } from '../../domain/agent/modes.js';
import { buildDnsmasq } from './dnsmasq.js';
import type {
  AttachedPort,
  DhcpSpec,
  FloatingIpMapping,
  HostState,
  NamespaceSpec,
  NetworkUnit,
  Nexthop,
  RouteSpec,
  RouterUnit,
  Sysctl,
  VethSpec,
} from './host-state.js';
import { cidrContains, cidrOf, ipOf } from '../../domain/ipam/index.js';
import { canonicalCidr, compareCidr, compareIp, compareStrings, ipVersion, normalizeIp, prefixLength } from './ip.js';
import {
  DEFAULT_NAMING,
  assertSafeName,
  bridgeName,
  dhcpDir,
  dhcpNamespace,
  dhcpPortName,
  gatewayPortName,
  haPortName,
  radvdDir,
  routerNamespace,
  routerPortName,
  tapName,
  type NamingOptions,
} from './names.js';
import { buildNat } from './nat-rules.js';
import { compileDvr, compileDvrHost, floatingIpAgentGateway, unbindDistributedInterfaces, type DvrPlumbing } from './dvr.js';
import { DEFAULT_ADVERT_INT, haRouter } from './keepalived.js';
import { compileOverlay, compileUplink } from './overlay.js';
import { buildRadvd, type RadvdInterface } from './radvd.js';
import { compileRouterFirewall } from './fwaas.js';
import { compileLoadBalancers, type LoadBalancerPlumbing } from './haproxy.js';
import { compileRouterVpn } from './vpn.js';
import { compilePortFilter, securityGroupIndex, type SecurityGroupIndex } from './security-groups.js';
import { DeviceOwner } from '../../domain/port/device-owner.js';
import {
  type HostRoute,
  type Topology,
  type TopologyNetwork,
  type TopologyPort,
  type TopologyRouter,
  type TopologySubnet,
} from './topology.js';

export interface CompileOptions extends NamingOptions {
  readonly dnsDomain: string;
  /** DHCP lease time in seconds; -1 is infinite. */
  readonly leaseSeconds: number;
  /** This host's VXLAN tunnel endpoint; null: VXLAN networks stay local to the host (no overlay). */
  readonly underlayAddress: string | null;
  /** Physical network name → interface in the host namespace, for flat and VLAN networks. */
  readonly physicalInterfaces: Readonly<Record<string, string>>;
  /** Neutron's agent_mode of this host: which parts of distributed routers it builds (dvr.ts). */
  readonly agentMode: AgentMode;
  /** VRRP advertisement interval of HA routers in seconds (Neutron's ha_vrrp_advert_int, default 2). */
  readonly haVrrpAdvertInt?: number;
}

export const DEFAULT_COMPILE_OPTIONS: CompileOptions = {
  ...DEFAULT_NAMING,
  dnsDomain: 'openstacklocal',
  leaseSeconds: 86400,
  underlayAddress: null,
  physicalInterfaces: {},
  agentMode: 'legacy',
};

const DEFAULT_MTU = 1500;
/** The IPv6 default route: `default` names the IPv4 one in a RouteSpec. */
const V6_DEFAULT = '::/0';

/** Neutron's qrouter namespace sysctls (reference 2.1); IPv6 is routed too (never NATed). */
const ROUTER_SYSCTLS: readonly Sysctl[] = [
  { key: 'net.ipv4.conf.all.arp_announce', value: '2' },
  { key: 'net.ipv4.conf.all.arp_ignore', value: '1' },
  { key: 'net.ipv4.ip_forward', value: '1' },
  { key: 'net.ipv6.conf.all.forwarding', value: '1' },
  { key: 'net.netfilter.nf_conntrack_tcp_be_liberal', value: '1' },
];

class Index {
  readonly networks = new Map<string, TopologyNetwork>();
  readonly subnets = new Map<string, TopologySubnet>();
  readonly ports = new Map<string, TopologyPort>();
  readonly portsByNetwork = new Map<string, TopologyPort[]>();

  constructor(readonly topology: Topology) {
    for (const n of topology.networks) {
      this.networks.set(n.id, n);
      for (const s of n.subnets) this.subnets.set(s.id, s);
    }
    for (const p of [...topology.ports].sort((a, b) => compareStrings(a.id, b.id))) {
      this.ports.set(p.id, p);
      const list = this.portsByNetwork.get(p.networkId) ?? [];
      list.push(p);
      this.portsByNetwork.set(p.networkId, list);
    }
  }

  mtu(networkId: string): number {
    return this.networks.get(networkId)?.mtu ?? DEFAULT_MTU;
  }

  /** `ip/prefixlen` for each fixed IP whose subnet is known. */
  addresses(port: TopologyPort): string[] {
    const out: string[] = [];
    for (const f of port.fixedIps) {
      const subnet = this.subnets.get(f.subnetId);
      // The kernel prints addresses normalized; compare like with like.
      if (subnet) out.push(`${normalizeIp(f.ipAddress)}/${prefixLength(subnet.cidr)}`);
    }
    return out.sort(compareCidr);
  }
}

/**
 * Pure: the desired dataplane of `host`. Same input, same output, byte for byte
 * (`JSON.stringify`), whatever the order of the input lists.
 */
export function compileHostState(input: Topology, host: string, options: Partial<CompileOptions> = {}): HostState {
  const topology = unbindDistributedInterfaces(input);
  const opts: CompileOptions = { ...DEFAULT_COMPILE_OPTIONS, ...options };
  assertSafeName('namespace prefix', opts.namespacePrefix);
  assertSafeName('host namespace', opts.hostNamespace);
  const index = new Index(topology);

  const dvr = dvrPlumbing(index);
  const distributed = new Set(topology.routers.filter((r) => r.distributed === true).map((r) => r.id));
  const dvrParts = compileDvr(
    topology.routers.filter((r) => r.adminStateUp && distributed.has(r.id)),
    host,
    opts.agentMode,
    opts,
    ROUTER_SYSCTLS,
    dvr,
  );
  const routers = [
    ...topology.routers
      .filter((r) => r.adminStateUp && !distributed.has(r.id) && routerIsOnHost(index, r, host))
      .map((r) => withHa(index, r, host, opts, compileRouter(index, r, topology, opts))),
    ...dvrParts.routers,
  ].sort((a, b) => compareStrings(a.routerId, b.routerId));
  const dvrHost = compileDvrHost(opts.agentMode, host, topology.dvrHosts ?? []);
  const groups = securityGroupIndex(topology);
  const loadBalancers = compileLoadBalancers(topology.loadBalancers ?? [], host, opts, loadBalancerPlumbing(index));

  // Bridges: every network this host has a port on, including those router ports plug into.
  const networkIds = new Set<string>();
  for (const p of index.ports.values()) if (p.bindingHost === host) networkIds.add(p.networkId);
  for (const r of routers) for (const i of r.namespace.interfaces) networkIds.add(networkOfPort(index, i.portId));
  for (const lb of loadBalancers) for (const i of lb.namespace.interfaces) networkIds.add(networkOfPort(index, i.portId));
  for (const u of [...dvrParts.snats, ...dvrParts.fips])
    for (const i of u.namespace.interfaces) networkIds.add(networkOfPort(index, i.portId));
  const networks = [...networkIds]
    .filter((id) => index.networks.has(id))
    .sort(compareStrings)
    .map((id) => compileNetwork(index, id, host, opts, groups));

  return {
    host,
    hostNamespace: opts.hostNamespace,
    namespacePrefix: opts.namespacePrefix,
    stateDir: opts.stateDir,
    networks,
    routers,
    loadBalancers,
    ...(dvrHost ? { dvr: dvrHost } : {}),
    ...(dvrParts.snats.length > 0 ? { snats: dvrParts.snats } : {}),
    ...(dvrParts.fips.length > 0 ? { fips: dvrParts.fips } : {}),
  };
}

function dvrPlumbing(index: Index): DvrPlumbing {
  return {
    // A port on a network the topology lacks (a read model one event behind) has no bridge to plug into.
    port: (id) => {
      const p = index.ports.get(id);
      return p && index.networks.has(p.networkId) ? p : undefined;
    },
    portsOfNetwork: (id) => index.portsByNetwork.get(id) ?? [],
    allPorts: () => index.ports.values(),
    subnet: (id) => index.subnets.get(id),
    floatingIps: index.topology.floatingIps,
    veth: (port, name) => veth(index, port, name, index.addresses(port)),
    namespace: namespaceSpec,
    extraRoutes: (r) => extraRoutes(r.routes),
    gatewayRoutes: (port, dev) => gatewayRoutes(index, port, dev),
  };
}

function loadBalancerPlumbing(index: Index): LoadBalancerPlumbing {
  return {
    port: (id) => index.ports.get(id),
    subnet: (id) => index.subnets.get(id),
    portsOfNetwork: (id) => index.portsByNetwork.get(id) ?? [],
    veth: (port, name) => veth(index, port, name, index.addresses(port)),
    namespace: (name, interfaces, routes) => namespaceSpec(name, [], interfaces, routes),
    route,
  };
}

function networkOfPort(index: Index, portId: string): string {
  return index.ports.get(portId)?.networkId ?? '';
}

function routerPortIds(r: TopologyRouter): string[] {
  return [...(r.gateway ? [r.gateway.portId] : []), ...r.interfacePortIds];
}

function routerIsOnHost(index: Index, r: TopologyRouter, host: string): boolean {
  if (r.ha !== undefined) return haPortOn(index, r, host) !== undefined;
  return routerPortIds(r).some((id) => index.ports.get(id)?.bindingHost === host);
}

/** An HA router runs where its HA ports are bound, once it has its VRRP id. */
function haPortOn(index: Index, r: TopologyRouter, host: string): TopologyPort | undefined {
  if (!r.ha) return undefined;
  return [...index.ports.values()].find(
    (p) => p.deviceOwner === DeviceOwner.routerHaInterface && p.deviceId === r.id && p.bindingHost === host,
  );
}

function withHa(index: Index, r: TopologyRouter, host: string, opts: CompileOptions, unit: RouterUnit): RouterUnit {
  const port = haPortOn(index, r, host);
  if (!r.ha || !port) return unit;
  return haRouter(unit, {
    vrid: r.ha.vrid,
    haInterface: veth(index, port, haPortName(port.id), index.addresses(port)),
    stateDir: opts.stateDir,
    advertInt: opts.haVrrpAdvertInt ?? DEFAULT_ADVERT_INT,
  });
}

function veth(index: Index, port: TopologyPort, name: string, addresses: readonly string[]): VethSpec {
  return {
    portId: port.id,
    name,
    peer: tapName(port.id),
    bridge: bridgeName(port.networkId),
    mac: port.macAddress.toLowerCase(),
    mtu: index.mtu(port.networkId),
    addresses: [...addresses].sort(compareCidr),
  };
}

function compileRouter(index: Index, r: TopologyRouter, topology: Topology, opts: CompileOptions): RouterUnit {
  const interfaces: VethSpec[] = [];
  const routes: RouteSpec[] = [];
  const advertising: RadvdInterface[] = [];
  for (const id of r.interfacePortIds) {
    const port = index.ports.get(id);
    if (!port || !port.adminStateUp || !index.networks.has(port.networkId)) continue;
    const qr = veth(index, port, routerPortName(port.id), index.addresses(port));
    interfaces.push(qr);
    const v6 = port.fixedIps.map((f) => index.subnets.get(f.subnetId)).filter((s): s is TopologySubnet => s?.ipVersion === 6);
    advertising.push({ name: qr.name, mtu: qr.mtu, subnets: [...new Map(v6.map((s) => [s.id, s])).values()] });
  }

  let nat: RouterUnit['nat'] = null;
  let vpn: ReturnType<typeof compileRouterVpn> = null;
  const gwPort = r.gateway ? index.ports.get(r.gateway.portId) : undefined;
  if (r.gateway && gwPort && index.networks.has(gwPort.networkId)) {
    const qg = gatewayPortName(gwPort.id);
    const floatingIps: FloatingIpMapping[] = topology.floatingIps
      .flatMap((f) =>
        f.routerId === r.id && f.fixedIpAddress !== null && ipVersion(f.floatingIpAddress) === 4
          ? [{ floatingIp: normalizeIp(f.floatingIpAddress), fixedIp: normalizeIp(f.fixedIpAddress) }]
          : [],
      )
      .sort((a, b) => compareIp(a.floatingIp, b.floatingIp));
    const addresses = [...index.addresses(gwPort), ...floatingIps.map((f) => `${f.floatingIp}/32`)];
    interfaces.push(veth(index, gwPort, qg, addresses));
    routes.push(...gatewayRoutes(index, gwPort, qg));

    const gatewayIp = gwPort.fixedIps.map((f) => f.ipAddress).find((ip) => ipVersion(ip) === 4);
    vpn = compileRouterVpn(topology.vpnConnections ?? [], r.id, gatewayIp, opts);
    if (gatewayIp !== undefined) {
      nat = buildNat({
        gatewayDevice: qg,
        gatewayIp,
        enableSnat: r.gateway.enableSnat,
        floatingIps,
        ...(vpn ? { vpnBypass: vpn.bypass } : {}),
      });
    }
  }
  routes.push(...extraRoutes(r.routes));
  const radvd = buildRadvd(radvdDir(opts, r.id), advertising);
  const firewall = compileRouterFirewall(
    topology.firewallGroups ?? [],
    new Map(interfaces.filter((i) => !i.name.startsWith('qg-')).map((i) => [i.portId, i.addresses])),
  );

  return {
    key: `router:${r.id}`,
    routerId: r.id,
    namespace: namespaceSpec(routerNamespace(opts, r.id), ROUTER_SYSCTLS, interfaces, routes),
    nat,
    ...(firewall ? { firewall } : {}),
    ...(radvd ? { radvd } : {}),
    ...(vpn ? { vpn: vpn.vpn } : {}),
  };
}

/** Default route via the external subnet's gateway, on-link routes for the other external subnets (2.3). */
function gatewayRoutes(index: Index, gwPort: TopologyPort, qg: string): RouteSpec[] {
  const routes: RouteSpec[] = [];
  const portSubnets = new Set(gwPort.fixedIps.map((f) => f.subnetId));
  const v4 = gwPort.fixedIps
    .map((f) => index.subnets.get(f.subnetId))
    .filter((s): s is TopologySubnet => s !== undefined && s.ipVersion === 4);
  const withGateway = v4.find((s) => s.gatewayIp !== null);
  if (withGateway?.gatewayIp) {
    if (!cidrContains(cidrOf(withGateway.cidr), ipOf(withGateway.gatewayIp))) {
      routes.push(route(`${withGateway.gatewayIp}/32`, [{ via: null, dev: qg }]));
    }
    routes.push(route('default', [{ via: withGateway.gatewayIp, dev: qg }]));
  }
  // IPv6 leaves through the gateway's v6 subnet untranslated; the kernel's on-link route covers that subnet.
  const v6Gateway = gwPort.fixedIps
    .map((f) => index.subnets.get(f.subnetId))
    .find((s): s is TopologySubnet => s !== undefined && s.ipVersion === 6 && s.gatewayIp !== null);
  if (v6Gateway?.gatewayIp) routes.push(route(V6_DEFAULT, [{ via: normalizeIp(v6Gateway.gatewayIp), dev: qg }]));
  const network = index.networks.get(gwPort.networkId);
  for (const s of network?.subnets ?? []) {
    if (!portSubnets.has(s.id)) routes.push(route(canonicalCidr(s.cidr), [{ via: null, dev: qg }]));
  }
  return routes;
}

/** Router extra routes; several nexthops for one destination become one ECMP route. */
function extraRoutes(list: readonly HostRoute[]): RouteSpec[] {
  const byDest = new Map<string, Nexthop[]>();
  for (const r of list) {
    const dest = canonicalCidr(r.destination);
    const key = dest === '0.0.0.0/0' ? 'default' : dest;
    byDest.set(key, [...(byDest.get(key) ?? []), { via: r.nexthop, dev: null }]);
  }
  return [...byDest].map(([dest, hops]) => route(dest, hops));
}

function route(destination: string, nexthops: readonly Nexthop[]): RouteSpec {
  const sorted = [...nexthops].sort((a, b) => compareStrings(a.via ?? '', b.via ?? '') || compareStrings(a.dev ?? '', b.dev ?? ''));
  return { destination, nexthops: sorted };
}

function compareRoutes(a: RouteSpec, b: RouteSpec): number {
  if (a.destination === 'default' || b.destination === 'default') {
    return a.destination === b.destination ? 0 : a.destination === 'default' ? 1 : -1;
  }
  return compareCidr(a.destination, b.destination);
}

function namespaceSpec(
  name: string,
  sysctls: readonly Sysctl[],
  interfaces: readonly VethSpec[],
  routes: readonly RouteSpec[],
): NamespaceSpec {
  // Duplicate destinations (a user route equal to an external subnet) keep the first one.
  const seen = new Set<string>();
  const uniqueRoutes = routes.filter((r) => !seen.has(r.destination) && seen.add(r.destination));
  return {
    name,
    sysctls: [...sysctls].sort((a, b) => compareStrings(a.key, b.key)),
    interfaces: [...interfaces].sort((a, b) => compareStrings(a.name, b.name)),
    routes: uniqueRoutes.sort(compareRoutes),
  };
}

function compileNetwork(index: Index, networkId: string, host: string, opts: CompileOptions, groups: SecurityGroupIndex): NetworkUnit {
  const network = index.networks.get(networkId) as TopologyNetwork;
  const ports = index.portsByNetwork.get(networkId) ?? [];
  const computePorts: AttachedPort[] = ports
    .filter((p) => p.bindingHost === host && p.deviceOwner.startsWith('compute:'))
    .map((p) => ({ portId: p.id, tap: tapName(p.id), adminStateUp: p.adminStateUp }));
  const dhcpPort = ports.find((p) => p.deviceOwner === DeviceOwner.dhcp && p.bindingHost === host && p.adminStateUp);
  // Ports owned by `network:*` are trusted (reference 4.1): never filtered.
  const securityGroups = compilePortFilter(
    networkId,
    ports.filter((p) => p.bindingHost === host && !p.deviceOwner.startsWith('network:')),
    groups,
  );
  const overlay = compileOverlay(
    network,
    ports,
    host,
    opts.underlayAddress,
    index.topology.vteps ?? [],
    index.mtu(networkId),
    floatingIpHolders(index, networkId),
  );
  const uplink = compileUplink(network.segment, opts.physicalInterfaces);
  return {
    key: `network:${networkId}`,
    networkId,
    bridge: { name: bridgeName(networkId), mtu: index.mtu(networkId), segment: network.segment },
    computePorts,
    dhcp: dhcpPort ? compileDhcp(index, network, dhcpPort, ports, opts) : null,
    ...(securityGroups ? { securityGroups } : {}),
    ...(overlay ? { overlay } : {}),
    ...(uplink ? { uplink } : {}),
  };
}

/** Each associated IPv4 floating IP of the network with the gateway port of the router that holds it. */
function floatingIpHolders(index: Index, networkId: string): { portId: string; ip: string }[] {
  const gateways = new Map(index.topology.routers.flatMap((r) => (r.gateway ? [[r.id, r.gateway.portId] as const] : [])));
  const distributed = new Set(index.topology.routers.filter((r) => r.distributed === true).map((r) => r.id));
  const dvr = dvrPlumbing(index);
  return index.topology.floatingIps.flatMap((f) => {
    // A distributed router's floating IP answers from the fg- port of its instance's host.
    const portId =
      f.routerId === null ? undefined : distributed.has(f.routerId) ? floatingIpAgentGateway(f, dvr)?.id : gateways.get(f.routerId);
    return f.floatingNetworkId === networkId && f.fixedIpAddress !== null && portId !== undefined && ipVersion(f.floatingIpAddress) === 4
      ? [{ portId, ip: f.floatingIpAddress }]
      : [];
  });
}

function compileDhcp(
  index: Index,
  network: TopologyNetwork,
  dhcpPort: TopologyPort,
  ports: readonly TopologyPort[],
  opts: CompileOptions,
): DhcpSpec | null {
  const v4 = network.subnets.filter((s) => s.ipVersion === 4).sort((a, b) => compareStrings(a.id, b.id));
  const onPort = new Set(dhcpPort.fixedIps.map((f) => f.subnetId));
  const served = network.subnets
    .filter((s) => s.enableDhcp && onPort.has(s.id) && (s.ipVersion === 4 || servesDhcpv6(s)))
    .sort((a, b) => a.ipVersion - b.ipVersion || compareStrings(a.id, b.id));
  const routedSubnetIds = new Set<string>();
  for (const p of ports) {
    if (p.deviceOwner !== DeviceOwner.routerInterface) continue;
    for (const f of p.fixedIps) routedSubnetIds.add(f.subnetId);
  }
  // Where a router serves the network's IPv6, its radvd advertises; dnsmasq never competes with it.
  const v6 = network.subnets.filter((s) => s.ipVersion === 6);
  const advertised = v6.some((s) => routedSubnetIds.has(s.id))
    ? []
    : v6.filter((s) => s.enableDhcp && onPort.has(s.id) && (s.ipv6RaMode ?? null) !== null).sort((a, b) => compareStrings(a.id, b.id));
  if (served.length === 0 && advertised.length === 0) return null;
  const dev = dhcpPortName(dhcpPort.id);
  // Default route via the gateway of the port's first DHCP-enabled subnet (3.1).
  const firstServed = dhcpPort.fixedIps.map((f) => served.find((s) => s.id === f.subnetId)).find((s) => s !== undefined);
  const routes =
    firstServed?.ipVersion === 4 && firstServed.gatewayIp && cidrContains(cidrOf(firstServed.cidr), ipOf(firstServed.gatewayIp))
      ? [route('default', [{ via: firstServed.gatewayIp, dev }])]
      : [];
  return {
    // The DHCP port holds exactly the addresses the API gave it: a router's advertisements on the
    // network must not add a SLAAC address of its own (the next pass would delete it, forever).
    namespace: namespaceSpec(
      dhcpNamespace(opts, network.id),
      [{ key: `net.ipv6.conf.${dev}.accept_ra`, value: '0' }],
      [veth(index, dhcpPort, dev, index.addresses(dhcpPort))],
      routes,
    ),
    dnsmasq: buildDnsmasq({
      dir: dhcpDir(opts, network.id),
      interfaceName: dev,
      mtu: network.mtu,
      subnets: served,
      advertised,
      allV4Subnets: v4,
      ports,
      routedSubnetIds,
      dnsDomain: opts.dnsDomain,
      leaseSeconds: opts.leaseSeconds,
    }),
  };
}

/**
 * dnsmasq answers DHCPv6 for stateful and stateless subnets, and for v6 subnets with no mode at
 * all (Neutron's backwards-compatible default), and only for prefixes of /64 or longer (3.2).
 */
function servesDhcpv6(s: TopologySubnet): boolean {
  const address = s.ipv6AddressMode ?? null;
  const ra = s.ipv6RaMode ?? null;
  const mode = address === 'dhcpv6-stateful' || address === 'dhcpv6-stateless' || (address === null && ra === null);
  return mode && prefixLength(s.cidr) >= 64;
}
