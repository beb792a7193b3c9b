import type { Port } from '../domain/port/index.js';
import { DeviceOwner } from '../domain/port/index.js';
import type { Router } from '../domain/router/index.js';
import { compareStrings } from '../projections/desired-state/ip.js';
import { routerPortIds, type ResourceDoc } from '../projections/topology/index.js';
import { NO_ZONE_FACTS, pickHost, type ZoneFacts } from './zone-choice.js';

/**
 * Where the platform's own ports run. Neutron binds a network's DHCP port to a DHCP agent's host
 * and all of a router's ports to one L3 agent's host; the compiler builds the qdhcp namespace
 * and the qrouter namespace where those ports are bound.
 *
 * The binding is the port's own `bindingHost`, set with the port decider's UpdatePort (a plain
 * PortUpdated event), not a scheduling event of the agent aggregate: binding:host_id is a port
 * attribute in Neutron, visible and settable through the API, and the compiler reads it from the
 * port. A second record of "where" would be a second truth to keep in step.
 */

/** A unit that lands on one host as a whole: a DHCP port, or every port of one router. */
interface Unit {
  readonly key: string;
  readonly ports: readonly ResourceDoc<Port>[];
  /** A distributed router's SNAT (its gateway and sg- ports): dvr_snat hosts only. */
  readonly snat: boolean;
  /** A DHCP port's network: its DHCP ports go to distinct hosts (dhcp_agents_per_network). */
  readonly dhcpNetwork?: string;
  /** The router's or the network's availability_zone_hints: its hosts must be in one; none: any. */
  readonly hints: readonly string[];
}

export interface Binding {
  readonly portId: string;
  /** The revision the decision was made on: the update is refused if the port moved on. */
  readonly revision: number;
  readonly host: string;
}

function snatPortIds(ports: readonly ResourceDoc<Port>[], routerId: string): string[] {
  return ports
    .filter((p) => p.doc.deviceOwner === DeviceOwner.routerCentralizedSnat && p.doc.deviceId === routerId)
    .map((p) => p.id)
    .sort(compareStrings);
}

function units(ports: readonly ResourceDoc<Port>[], routers: readonly ResourceDoc<Router>[], zones: ZoneFacts): Unit[] {
  const byId = new Map(ports.map((p) => [p.id, p]));
  const out: Unit[] = [];
  const inRouter = new Set<string>();
  for (const r of [...routers].sort((a, b) => compareStrings(a.id, b.id))) {
    // A distributed router's interfaces live on every host that needs them (dvr.ts): never bound;
    // its gateway and sg- ports make the snat namespace, on one host.
    const ids = r.doc.distributed ? (r.doc.gateway ? [r.doc.gateway.portId, ...snatPortIds(ports, r.id)] : []) : routerPortIds(r.doc);
    const list = ids.map((id) => byId.get(id)).filter((p): p is ResourceDoc<Port> => p !== undefined);
    for (const p of list) inRouter.add(p.id);
    if (list.length > 0)
      out.push({ key: `router:${r.id}`, ports: list, snat: r.doc.distributed, hints: r.doc.availabilityZoneHints ?? [] });
  }
  for (const p of [...ports].sort((a, b) => compareStrings(a.id, b.id))) {
    if (p.doc.deviceOwner === DeviceOwner.dhcp && !inRouter.has(p.id))
      out.push({
        key: `dhcp:${p.id}`,
        ports: [p],
        snat: false,
        dhcpNetwork: p.doc.networkId,
        hints: zones.networkHints.get(p.doc.networkId) ?? [],
      });
  }
  return out;
}

/**
 * Bindings for every unbound DHCP and router port, and for those bound to a dead host (failover,
 * as Neutron's allow_automatic_l3agent_failover and DHCP rescheduling do). A router already
 * partly bound to a host that is not dead keeps it (a new interface follows its gateway);
 * anything else goes to the live host with the fewest units, ties broken by name, so every agent
 * computes the same answer. A network's DHCP ports (dhcp_agents_per_network of them) go to
 * distinct hosts, over distinct zones first: one with no host left for it stays where it is
 * (unbound, or on its dead host) until one comes, as Neutron leaves a network on fewer agents
 * than asked. A router or network with availability_zone_hints goes only to hosts in those zones
 * (`zones` holds each host's zone and the networks' hints); none live there: it waits the same way.
 */
export function planBindings(
  ports: readonly ResourceDoc<Port>[],
  routers: readonly ResourceDoc<Router>[],
  liveHosts: readonly string[],
  deadHosts: ReadonlySet<string> = new Set(),
  /** Live dvr_snat hosts, for distributed routers' SNAT; absent: any live host. */
  snatHosts: readonly string[] = liveHosts,
  zones: ZoneFacts = NO_ZONE_FACTS,
): Binding[] {
  if (liveHosts.length === 0) return [];
  const movable = (p: ResourceDoc<Port>) => p.doc.bindingHost === '' || deadHosts.has(p.doc.bindingHost);
  const all = units(ports, routers, zones);
  const load = new Map(liveHosts.map((h) => [h, 0]));
  // The hosts already serving each network's DHCP (ports that stay where they are).
  const dhcpHosts = new Map<string, Set<string>>();
  for (const u of all) {
    for (const host of new Set(u.ports.map((p) => p.doc.bindingHost).filter((h) => h !== ''))) {
      if (load.has(host)) load.set(host, (load.get(host) ?? 0) + 1);
    }
    if (u.dhcpNetwork !== undefined && !movable(u.ports[0]!)) {
      dhcpHosts.set(u.dhcpNetwork, (dhcpHosts.get(u.dhcpNetwork) ?? new Set()).add(u.ports[0]!.doc.bindingHost));
    }
  }
  const out: Binding[] = [];
  for (const u of all) {
    const unbound = u.ports.filter(movable);
    if (unbound.length === 0) continue;
    const bound = u.ports.find((p) => !movable(p));
    const candidates = u.snat ? new Map([...load].filter(([h]) => snatHosts.includes(h))) : load;
    const taken = u.dhcpNetwork !== undefined ? (dhcpHosts.get(u.dhcpNetwork) ?? new Set<string>()) : new Set<string>();
    const host = bound ? bound.doc.bindingHost : pickHost(candidates, taken, u.hints, zones);
    if (host === null) continue;
    if (!bound) load.set(host, (load.get(host) ?? 0) + 1);
    if (u.dhcpNetwork !== undefined) dhcpHosts.set(u.dhcpNetwork, taken.add(host));
    for (const p of unbound) out.push({ portId: p.id, revision: p.revision, host });
  }
  return out;
}
