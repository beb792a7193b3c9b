import type { AgentMode } from '../../domain/agent/modes.js';
import { DeviceOwner } from '../../domain/port/device-owner.js';
import type { DvrHostSpec, RouteSpec, RouterUnit, Sysctl, VethSpec, NamespaceSpec } from './host-state.js';
import { compareStrings } from './ip.js';
import { nftRule, renderChainBody, type NftChain } from './nft.js';
import { routerNamespace, routerPortName, type NamingOptions } from './names.js';
import type { TopologyDvrHost, TopologyPort, TopologyRouter } from './topology.js';

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
 * A distributed router's interface ports are never bound to a host (the scheduler leaves them
 * alone), so no host announces them into the overlay either. A legacy agent builds no part of a
 * distributed router (as in Neutron, whose legacy L3 agents cannot host one).
 */

export const DVR_TABLE = 'netledger-dvr';
const DVR_CHAIN = 'dvr_host_mac';

/** Ports whose host routes for a distributed router: Neutron's `is_dvr_serviced` (instances and DHCP). */
export function isDvrServiced(p: TopologyPort): boolean {
  return p.deviceOwner.startsWith('compute:') || p.deviceOwner === DeviceOwner.dhcp;
}

export const servesDistributed = (mode: AgentMode): boolean => mode === 'dvr' || mode === 'dvr_snat';

export interface DvrPlumbing {
  port(id: string): TopologyPort | undefined;
  portsOfNetwork(networkId: string): readonly TopologyPort[];
  /** A qr- veth for the port with the port's own addresses. */
  veth(port: TopologyPort, name: string): VethSpec;
  namespace(name: string, sysctls: readonly Sysctl[], interfaces: readonly VethSpec[], routes: readonly RouteSpec[]): NamespaceSpec;
  extraRoutes(router: TopologyRouter): RouteSpec[];
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

/** The qrouter namespace of a distributed router on a compute host: its interfaces and extra routes. */
export function compileDistributedRouter(
  r: TopologyRouter,
  naming: NamingOptions,
  sysctls: readonly Sysctl[],
  plumbing: DvrPlumbing,
): RouterUnit {
  const interfaces = interfacePorts(r, plumbing).map((p) => plumbing.veth(p, routerPortName(p.id)));
  return {
    key: `router:${r.id}`,
    routerId: r.id,
    namespace: plumbing.namespace(routerNamespace(naming, r.id), sysctls, interfaces, plumbing.extraRoutes(r)),
    nat: null,
  };
}

/**
 * The host's MAC rewrite: frames from the local distributed routers' interfaces leave the host
 * with the host's DVR MAC as their source. Null when the host routes no distributed router here
 * (or has no DVR MAC yet: it registered before DVR).
 */
export function compileDvrHost(
  routers: readonly RouterUnit[],
  distributedIds: ReadonlySet<string>,
  host: string,
  hosts: readonly TopologyDvrHost[],
): DvrHostSpec | null {
  const hostMac = hosts.find((h) => h.host === host)?.dvrHostMac ?? null;
  const macs = new Set<string>();
  for (const r of routers) {
    if (!distributedIds.has(r.routerId)) continue;
    for (const i of r.namespace.interfaces) macs.add(i.mac);
  }
  if (hostMac === null || macs.size === 0) return null;
  const routerMacs = [...macs].sort(compareStrings);
  const chain: NftChain = {
    name: DVR_CHAIN,
    hook: { type: 'filter', hook: 'postrouting', priority: 0 },
    rules: [nftRule(DVR_CHAIN, `oifname != "tap*" ether saddr { ${routerMacs.join(', ')} } ether saddr set ${hostMac}`)],
  };
  return { table: DVR_TABLE, hostMac, routerMacs, chains: [chain], ruleset: renderBridgeRuleset(DVR_TABLE, [chain]) };
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
