import { createHash } from 'node:crypto';
import type { AgentMode } from '../../domain/agent/modes.js';
import { DeviceOwner } from '../../domain/port/device-owner.js';
import type {
  DvrFipLink,
  DvrRouterSpec,
  DvrRule,
  DvrTableRoute,
  FipUnit,
  SnatUnit,
  DvrHostSpec,
  FloatingIpMapping,
  NamespaceSpec,
  NatSpec,
  RouteSpec,
  RouterUnit,
  Sysctl,
  VethSpec,
} from './host-state.js';
import { canonicalCidr, compareIp, compareStrings, ipVersion, normalizeIp } from './ip.js';
import { buildNat, NAT_TABLE, renderRuleset } from './nat-rules.js';
import { nftRule, renderChainBody, type NftChain } from './nft.js';
import {
  fipGatewayPortName,
  fipNamespace,
  fipToRouterName,
  gatewayPortName,
  routerNamespace,
  routerPortName,
  routerToFipName,
  snatNamespace,
  snatPortName,
  type NamingOptions,
} from './names.js';
import type { TopologyDvrHost, TopologyFloatingIp, TopologyPort, TopologyRouter, TopologySubnet } from './topology.js';

/**
 * Distributed virtual routers (Neutron's DVR, reference 2.8), on Linux bridges.
 *
 * Every dvr/dvr_snat host with an instance (or DHCP) port on one of a distributed router's
 * networks builds the router's qrouter namespace itself, with every interface the router has:
 * the same gateway IP and MAC on each such host, so an instance's first hop is always local and
 * traffic between the router's subnets is routed on the source host, then carried by the
 * destination network's tunnel straight to the destination host.
 *
 * The gateway MAC would then appear on the wire from several hosts, and every bridge would keep
 * re-learning where it lives. Neutron's OVS agent rewrites it to the host's DVR MAC; here one
 * bridge-family nftables rule in the host namespace does the same to every frame a distributed
 * router sends out of the host (any bridge port that is not a local tap: tunnels and uplinks).
 * ARP for remote addresses never leaves the host (the tunnels' ARP responder answers it), so the
 * frame header is all there is to rewrite.
 *
 * The rule matches the frame's way in (the host ends of the routers' interfaces are in
 * DVR_DEVICE_GROUP from creation), not a list of gateway MACs, and it stays for as long as the
 * agent runs in a DVR mode. A list kept in step with the routers had a window either side: a
 * qrouter's interfaces send MLD reports when they come up and again while `ip netns del` tears
 * them down, after the list had lost their MACs. One such report taught every bridge on the
 * network that the gateway lived on the host that was leaving, and east-west traffic to it was
 * lost until the entry aged out (test/dataplane/dvr.e2e.test.ts, moving a port off a host).
 *
 * A distributed router's interface ports are never bound to a host (the scheduler leaves them
 * alone), so no host announces them into the overlay either. A legacy agent builds no part of a
 * distributed router (as in Neutron, whose legacy L3 agents cannot host one).
 */

export const DVR_TABLE = 'netledger-dvr';
const DVR_CHAIN = 'dvr_host_mac';
/** The device group of a distributed router interface's host end ("nl" in ASCII): nothing else on a host uses it. */
export const DVR_DEVICE_GROUP = 0x6e6c;

/** Ports whose host routes for a distributed router: Neutron's `is_dvr_serviced` (instances and DHCP). */
export function isDvrServiced(p: TopologyPort): boolean {
  return p.deviceOwner.startsWith('compute:') || p.deviceOwner === DeviceOwner.dhcp;
}

export const servesDistributed = (mode: AgentMode): boolean => mode === 'dvr' || mode === 'dvr_snat';

export interface DvrPlumbing {
  port(id: string): TopologyPort | undefined;
  portsOfNetwork(networkId: string): readonly TopologyPort[];
  /** Every port of the topology, sorted by id. */
  allPorts(): Iterable<TopologyPort>;
  subnet(id: string): TopologySubnet | undefined;
  readonly floatingIps: readonly TopologyFloatingIp[];
  /** A veth for the port with the port's own addresses. */
  veth(port: TopologyPort, name: string): VethSpec;
  namespace(name: string, sysctls: readonly Sysctl[], interfaces: readonly VethSpec[], routes: readonly RouteSpec[]): NamespaceSpec;
  extraRoutes(router: TopologyRouter): RouteSpec[];
  /** A gateway port's routes: default via its subnet's gateway, on-link routes to the other subnets (2.3). */
  gatewayRoutes(port: TopologyPort, dev: string): RouteSpec[];
}

/** Interface ports of the router that are up and on a known network. */
function interfacePorts(r: TopologyRouter, plumbing: DvrPlumbing): TopologyPort[] {
  return r.interfacePortIds.map((id) => plumbing.port(id)).filter((p): p is TopologyPort => p !== undefined && p.adminStateUp);
}

/** The router's local part belongs on `host`: a serviced port of one of its networks is bound there. */
export function distributedRouterIsOnHost(r: TopologyRouter, host: string, plumbing: DvrPlumbing): boolean {
  const networks = new Set(interfacePorts(r, plumbing).map((p) => p.networkId));
  return [...networks].some((n) => plumbing.portsOfNetwork(n).some((p) => p.bindingHost === host && isDvrServiced(p)));
}

/** Neutron's table of the FIP rules in qrouter (dvr_fip_ns FIP_RT_TBL) and the rules' first priority. */
const FIP_TABLE = 16;
const FIP_RULE_PRIORITY = 32768;
/** Neutron's FIP_LL_SUBNET: each router on a host gets a /31 of it for its rfp-/fpr- pair. */
const FIP_LINK_BASE = ipv4ToInt('169.254.64.0');
const FIP_LINK_PAIRS = 8192;

export interface DvrCompiled {
  readonly routers: readonly RouterUnit[];
  readonly snats: readonly SnatUnit[];
  readonly fips: readonly FipUnit[];
}

/**
 * Every part of the distributed routers `host` holds: the local qrouter where the router routes
 * (distributedRouterIsOnHost, dvr/dvr_snat agents only), the snat namespace where its gateway
 * port is bound, and one fip namespace per external network with a floating IP whose instance is
 * bound here.
 */
export function compileDvr(
  routers: readonly TopologyRouter[],
  host: string,
  mode: AgentMode,
  naming: NamingOptions,
  sysctls: readonly Sysctl[],
  plumbing: DvrPlumbing,
): DvrCompiled {
  const local = servesDistributed(mode) ? routers.filter((r) => distributedRouterIsOnHost(r, host, plumbing)) : [];
  const withFips = local
    .map((r) => ({
      r,
      fg: r.gateway ? fipGatewayPort(plumbing, host, r.gateway.networkId) : undefined,
      fips: localFloatingIps(r, host, plumbing),
    }))
    .filter((x): x is { r: TopologyRouter; fg: TopologyPort; fips: FloatingIpMapping[] } => x.fg !== undefined && x.fips.length > 0);
  const slots = fipLinkSlots(withFips.map((x) => x.r.id));
  const links = new Map(withFips.map((x) => [x.r.id, { fg: x.fg, fips: x.fips, slot: slots.get(x.r.id) ?? 0 }]));

  const units = local.map((r) => compileDistributedRouter(r, naming, sysctls, plumbing, links.get(r.id)));
  const fipNetworks = new Map<string, TopologyPort>();
  for (const { fg } of links.values()) fipNetworks.set(fg.networkId, fg);
  const fips: FipUnit[] = [...fipNetworks]
    .sort((a, b) => compareStrings(a[0], b[0]))
    .map(([networkId, fg]) => {
      const dev = fipGatewayPortName(fg.id);
      return {
        key: `fip:${networkId}`,
        networkId,
        namespace: plumbing.namespace(
          fipNamespace(naming, networkId),
          [
            { key: 'net.ipv4.ip_forward', value: '1' },
            // The fip namespace answers ARP for the floating IPs it routes to the routers (2.8).
            { key: `net.ipv4.conf.${dev}.proxy_arp`, value: '1' },
          ],
          [plumbing.veth(fg, dev)],
          plumbing.gatewayRoutes(fg, dev),
        ),
      };
    });
  const snats = routers
    .filter((r) => r.gateway !== null && plumbing.port(r.gateway.portId)?.bindingHost === host)
    .map((r) => compileSnat(r, naming, sysctls, plumbing))
    .filter((u): u is SnatUnit => u !== null);
  return { routers: units, snats, fips };
}

/** The qrouter namespace of a distributed router on a compute host: its interfaces, extra routes and north-south redirects. */
function compileDistributedRouter(
  r: TopologyRouter,
  naming: NamingOptions,
  sysctls: readonly Sysctl[],
  plumbing: DvrPlumbing,
  link: { readonly fg: TopologyPort; readonly fips: readonly FloatingIpMapping[]; readonly slot: number } | undefined,
): RouterUnit {
  const ports = interfacePorts(r, plumbing);
  const interfaces = ports.map((p) => ({ ...plumbing.veth(p, routerPortName(p.id)), group: DVR_DEVICE_GROUP }));
  const rules: DvrRule[] = [];
  const tables: DvrTableRoute[] = [];
  let fipLink: DvrFipLink | null = null;
  let nat: NatSpec | null = null;
  if (r.gateway) {
    // Neutron's _snat_redirect_add: traffic from a subnet that the main table does not route
    // (no default route here) goes to that subnet's sg- port on the SNAT host; the table and the
    // rule's priority are the qr- address as a number, after main (32766) so east-west stays local.
    for (const sg of snatPorts(r, plumbing)) {
      for (const f of sg.fixedIps) {
        const subnet = plumbing.subnet(f.subnetId);
        if (!subnet || subnet.ipVersion !== 4) continue;
        const qr = ports.find((p) => p.fixedIps.some((x) => x.subnetId === f.subnetId));
        const qrIp = qr?.fixedIps.find((x) => x.subnetId === f.subnetId)?.ipAddress;
        if (!qr || qrIp === undefined) continue;
        const index = ipv4ToInt(qrIp);
        rules.push({ priority: index, from: canonicalCidr(subnet.cidr), table: index });
        tables.push({ table: index, via: normalizeIp(f.ipAddress), dev: routerPortName(qr.id) });
      }
    }
    if (link) {
      const rfp = routerToFipName(r.id);
      const rfpIp = intToIpv4(FIP_LINK_BASE + 2 * link.slot);
      const fprIp = intToIpv4(FIP_LINK_BASE + 2 * link.slot + 1);
      link.fips.forEach((f, i) => rules.push({ priority: FIP_RULE_PRIORITY + i, from: `${f.fixedIp}/32`, table: FIP_TABLE }));
      tables.push({ table: FIP_TABLE, via: fprIp, dev: rfp });
      fipLink = {
        fipNamespace: fipNamespace(naming, link.fg.networkId),
        rfp,
        fpr: fipToRouterName(r.id),
        rfpAddress: `${rfpIp}/31`,
        fprAddress: `${fprIp}/31`,
        fipRoutes: link.fips.map((f) => `${f.floatingIp}/32`),
      };
      nat = buildDvrLocalNat(rfp, link.fips);
    }
  }
  const dvr: DvrRouterSpec | null = r.gateway
    ? { rules: rules.sort((a, b) => a.priority - b.priority), tables: tables.sort((a, b) => a.table - b.table), fipLink }
    : null;
  return {
    key: `router:${r.id}`,
    routerId: r.id,
    namespace: plumbing.namespace(routerNamespace(naming, r.id), sysctls, interfaces, plumbing.extraRoutes(r)),
    nat,
    ...(dvr ? { dvr } : {}),
  };
}

/** The router's sg- ports (Neutron's network:router_centralized_snat, one per internal subnet), up. */
function snatPorts(r: TopologyRouter, plumbing: DvrPlumbing): TopologyPort[] {
  return [...plumbing.allPorts()].filter(
    (p) => p.deviceOwner === DeviceOwner.routerCentralizedSnat && p.deviceId === r.id && p.adminStateUp,
  );
}

/** This host's agent gateway port on the external network (network:floatingip_agent_gateway). */
function fipGatewayPort(plumbing: DvrPlumbing, host: string, networkId: string): TopologyPort | undefined {
  return plumbing
    .portsOfNetwork(networkId)
    .find((p) => p.deviceOwner === DeviceOwner.floatingIpAgentGateway && p.bindingHost === host && p.adminStateUp);
}

/** The fg- port that answers for a distributed router's floating IP: that of its instance's host. */
export function floatingIpAgentGateway(f: TopologyFloatingIp, plumbing: DvrPlumbing): TopologyPort | undefined {
  const host = f.portId !== null ? plumbing.port(f.portId)?.bindingHost : null;
  return host ? fipGatewayPort(plumbing, host, f.floatingNetworkId) : undefined;
}

/** IPv4 floating IPs of the router whose instance is bound to `host`, sorted by fixed IP. */
export function localFloatingIps(r: TopologyRouter, host: string, plumbing: DvrPlumbing): FloatingIpMapping[] {
  return plumbing.floatingIps
    .flatMap((f) =>
      f.routerId === r.id &&
      f.fixedIpAddress !== null &&
      f.portId !== null &&
      ipVersion(f.floatingIpAddress) === 4 &&
      plumbing.port(f.portId)?.bindingHost === host
        ? [{ floatingIp: normalizeIp(f.floatingIpAddress), fixedIp: normalizeIp(f.fixedIpAddress) }]
        : [],
    )
    .sort((a, b) => compareIp(a.fixedIp, b.fixedIp));
}

/**
 * A /31 per router for its rfp-/fpr- pair: a slot from the router id's digest, the next free one
 * on a clash among this host's routers (taken in id order), so a router keeps its addresses while
 * others come and go.
 */
function fipLinkSlots(routerIds: readonly string[]): Map<string, number> {
  const taken = new Set<number>();
  const out = new Map<string, number>();
  for (const id of [...routerIds].sort(compareStrings)) {
    let slot = createHash('sha256').update(id).digest().readUInt32BE(0) % FIP_LINK_PAIRS;
    while (taken.has(slot)) slot = (slot + 1) % FIP_LINK_PAIRS;
    taken.add(slot);
    out.set(id, slot);
  }
  return out;
}

/**
 * Floating IPs in the local qrouter (Neutron's DVR floating_ip rules): 1:1 DNAT of what arrives
 * from the fip namespace, and the fixed address leaves towards it with its floating IP.
 */
function buildDvrLocalNat(rfp: string, fips: readonly FloatingIpMapping[]): NatSpec {
  const dev = JSON.stringify(rfp);
  const chain = (name: string, hook: NftChain['hook'], statements: readonly string[]): NftChain => ({
    name,
    hook,
    rules: statements.map((st) => nftRule(name, st)),
  });
  const chains = [
    chain(
      'fip_dnat',
      { type: 'nat', hook: 'prerouting', priority: -100 },
      fips.map((f) => `iifname ${dev} ip daddr ${f.floatingIp} dnat to ${f.fixedIp}`),
    ),
    chain(
      'float_snat',
      { type: 'nat', hook: 'postrouting', priority: 100 },
      fips.map((f) => `oifname ${dev} ip saddr ${f.fixedIp} snat to ${f.floatingIp}`),
    ),
  ];
  const sorted = [...fips].sort((a, b) => compareIp(a.floatingIp, b.floatingIp));
  return { table: NAT_TABLE, gatewayDevice: rfp, chains, floatingIps: sorted, ruleset: renderRuleset(NAT_TABLE, chains) };
}

/**
 * `snat-<router>` on the host the gateway port is bound to (the scheduler binds it, with the
 * sg- ports, to a dvr_snat agent): qg- with the gateway routes, an sg- port on each internal
 * subnet, and Neutron's gateway NAT without floating IPs (those live on the compute hosts).
 */
function compileSnat(r: TopologyRouter, naming: NamingOptions, sysctls: readonly Sysctl[], plumbing: DvrPlumbing): SnatUnit | null {
  const gw = r.gateway ? plumbing.port(r.gateway.portId) : undefined;
  if (!r.gateway || !gw) return null;
  const qg = gatewayPortName(gw.id);
  const interfaces = [
    plumbing.veth(gw, qg),
    ...snatPorts(r, plumbing)
      .filter((p) => plumbing.port(p.id))
      .map((p) => plumbing.veth(p, snatPortName(p.id))),
  ];
  const gatewayIp = gw.fixedIps.map((f) => f.ipAddress).find((ip) => ipVersion(ip) === 4);
  return {
    key: `snat:${r.id}`,
    routerId: r.id,
    namespace: plumbing.namespace(snatNamespace(naming, r.id), sysctls, interfaces, [
      ...plumbing.gatewayRoutes(gw, qg),
      ...plumbing.extraRoutes(r),
    ]),
    nat: gatewayIp === undefined ? null : buildNat({ gatewayDevice: qg, gatewayIp, enableSnat: r.gateway.enableSnat, floatingIps: [] }),
  };
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/**
 * The host's MAC rewrite: frames that came in from a distributed router's interface and leave the
 * host take the host's DVR MAC as their source. On every dvr/dvr_snat host with a DVR MAC, routers
 * or not (see the top of this file); null on a legacy agent and on one registered before DVR.
 */
export function compileDvrHost(mode: AgentMode, host: string, hosts: readonly TopologyDvrHost[]): DvrHostSpec | null {
  const hostMac = hosts.find((h) => h.host === host)?.dvrHostMac ?? null;
  if (!servesDistributed(mode) || hostMac === null) return null;
  const chain: NftChain = {
    name: DVR_CHAIN,
    // forward, not postrouting: the bridge's postrouting hook is given no input device to match.
    hook: { type: 'filter', hook: 'forward', priority: 0 },
    rules: [nftRule(DVR_CHAIN, `iifgroup ${DVR_DEVICE_GROUP} oifname != "tap*" ether saddr set ${hostMac}`)],
  };
  return { table: DVR_TABLE, hostMac, group: DVR_DEVICE_GROUP, chains: [chain], ruleset: renderBridgeRuleset(DVR_TABLE, [chain]) };
}

/** Atomic create-or-replace of a bridge-family table (as nat-rules' renderRuleset for `ip`). */
function renderBridgeRuleset(table: string, chains: readonly NftChain[]): string {
  const lines = [`table bridge ${table}`, `delete table bridge ${table}`, `table bridge ${table} {`];
  for (const c of chains) lines.push(`\tchain ${c.name} {`, ...renderChainBody(c), '\t}');
  lines.push('}', '');
  return lines.join('\n');
}

/**
 * The topology as the dataplane must see it: a distributed router's interface ports bound to no
 * host. A router converted from legacy keeps the binding its ports had; honoured, it would put the
 * gateway MAC into every tunnel's forwarding table as living on that one host.
 */
export function unbindDistributedInterfaces<
  T extends { readonly ports: readonly TopologyPort[]; readonly routers: readonly TopologyRouter[] },
>(topology: T): T {
  const ids = new Set(topology.routers.filter((r) => r.distributed === true).flatMap((r) => r.interfacePortIds));
  if (![...topology.ports].some((p) => ids.has(p.id) && p.bindingHost !== null)) return topology;
  return { ...topology, ports: topology.ports.map((p) => (ids.has(p.id) ? { ...p, bindingHost: null } : p)) };
}
