import type { RouterFirewallSpec } from './fwaas.js';
import type { RouterVpnSpec } from './vpn.js';
import type { NftChain } from './nft.js';
import type { PortFilterSpec } from './security-groups.js';
import type { NetworkSegment } from './topology.js';

/**
 * Everything one host must look like. Produced by `compileHostState`; every list is sorted and
 * every object is built with a fixed key order, so `JSON.stringify` of the same input is
 * byte-identical. The state is cut into units, one per reconcile key:
 *   `host`           the host namespace itself (bridges of absent networks are removed there)
 *   `network:<id>`   the network's bridge, plus its qdhcp namespace and dnsmasq when served here
 *   `router:<id>`    the qrouter namespace with its qr-/qg- ports, routes, sysctls and NAT
 *   `lb:<id>`        the qlbaas namespace with the VIP port, and the load balancer's HAProxy
 */
export interface HostState {
  readonly host: string;
  /** Namespace that holds the bridges; the agent never configures the root namespace. */
  readonly hostNamespace: string;
  /** Prefix of every namespace the agent owns besides the host namespace. */
  readonly namespacePrefix: string;
  readonly stateDir: string;
  readonly networks: readonly NetworkUnit[];
  readonly routers: readonly RouterUnit[];
  readonly loadBalancers: readonly LoadBalancerUnit[];
  /** The host's DVR MAC rewrite (dvr.ts); absent on a legacy agent, or one without a DVR MAC. */
  readonly dvr?: DvrHostSpec;
  /** Distributed routers' centralized SNAT and this host's fip namespaces (below); absent: none. */
  readonly snats?: readonly SnatUnit[];
  readonly fips?: readonly FipUnit[];
}

/** A bridge-family nftables table in the host namespace: distributed routers' frames leave with the host's DVR MAC. */
export interface DvrHostSpec {
  readonly table: string;
  readonly hostMac: string;
  /** The device group of the host ends of distributed routers' interfaces: what the rule matches. */
  readonly group: number;
  readonly chains: readonly NftChain[];
  /** The full `nft -f` input. */
  readonly ruleset: string;
}

export type UnitKey = 'host' | `network:${string}` | `router:${string}` | `lb:${string}` | `snat:${string}` | `fip:${string}`;

export interface NetworkUnit {
  readonly key: `network:${string}`;
  readonly networkId: string;
  readonly bridge: BridgeSpec;
  /** Instance taps (plugged by the compute side) the agent keeps in the bridge when present. */
  readonly computePorts: readonly AttachedPort[];
  readonly dhcp: DhcpSpec | null;
  /** Security groups of the network's ports on this host; absent when none is filtered. */
  readonly securityGroups?: PortFilterSpec;
  /** The VXLAN tunnel of a VXLAN network on a host with an underlay; absent otherwise. */
  readonly overlay?: OverlaySpec;
  /** The physical interface (or its VLAN sub-interface) of a flat/VLAN network; absent otherwise. */
  readonly uplink?: UplinkSpec;
}

/**
 * A provider network's way out of the host (Neutron's physical_interface_mappings): the mapped
 * interface itself for a flat network, `<interface>.<VLAN id>` for a VLAN network, in the bridge.
 */
export interface UplinkSpec {
  readonly device: string;
  readonly parent: string;
  /** null: flat (the parent itself is the uplink). */
  readonly vlan: number | null;
}

/**
 * A network's VXLAN device in the host namespace, in the network's bridge, populated by the
 * control plane (Neutron's l2population): no multicast group and no learning, so the device
 * knows a remote MAC or IP only from the entries below, and broadcast goes only where the
 * network has ports.
 */
export interface OverlaySpec {
  /** `vxlan-<VNI>` (Neutron's Linux bridge name). */
  readonly device: string;
  readonly vni: number;
  /** This host's tunnel endpoint. */
  readonly local: string;
  readonly dstPort: number;
  readonly mtu: number;
  /** Remote tunnel endpoints that hold ports of the network (the 00:00:00:00:00:00 flood list), sorted. */
  readonly flood: readonly string[];
  /** Remote ports' MACs → their host's endpoint, sorted by MAC. */
  readonly fdb: readonly OverlayFdbEntry[];
  /** Remote ports' addresses answered locally (ARP/ND proxy), sorted by IP. */
  readonly neighbours: readonly OverlayNeighbour[];
}

export interface OverlayFdbEntry {
  readonly mac: string;
  readonly dst: string;
}

export interface OverlayNeighbour {
  readonly ip: string;
  readonly mac: string;
}

export interface BridgeSpec {
  readonly name: string;
  readonly mtu: number;
  readonly segment: NetworkSegment;
}

export interface AttachedPort {
  readonly portId: string;
  readonly tap: string;
  readonly adminStateUp: boolean;
}

export interface RouterUnit {
  readonly key: `router:${string}`;
  readonly routerId: string;
  readonly namespace: NamespaceSpec;
  readonly nat: NatSpec | null;
  /** FWaaS v2 groups on the router's interfaces; absent when none applies. */
  readonly firewall?: RouterFirewallSpec;
  /** VPNaaS site connections served by the router's charon; absent when it has none. */
  readonly vpn?: RouterVpnSpec;
  /** Router advertisements on interfaces with an IPv6 RA mode; absent when there is none. */
  readonly radvd?: RadvdSpec;
  /** HA routers only: VRRP holds the addresses and routes (keepalived.ts); absent for legacy routers. */
  readonly keepalived?: KeepalivedSpec;
  /** Distributed routers with a gateway: policy routing to SNAT and the fip namespace (below). */
  readonly dvr?: DvrRouterSpec;
}

/** One keepalived per HA router namespace, its files under `<stateDir>/ha_confs/<router id>/`. */
export interface KeepalivedSpec {
  readonly dir: string;
  readonly vrid: number;
  readonly configFile: string;
  readonly pidFile: string;
  /** Where the notify script records MASTER/BACKUP/FAULT. */
  readonly stateFile: string;
  /** The whole `keepalived.conf`; a change is written and signalled with SIGHUP. */
  readonly config: string;
  readonly notifyScript: string;
  /** Arguments after `keepalived`; a change here means restart. */
  readonly args: readonly string[];
  /** Addresses keepalived adds and removes itself: the links driver leaves them alone. */
  readonly vips: readonly { readonly address: string; readonly dev: string }[];
}

/** One radvd per router namespace (reference 2.9), its files under `<stateDir>/ra/<router id>/`. */
export interface RadvdSpec {
  readonly dir: string;
  readonly configFile: string;
  readonly pidFile: string;
  /** The whole `radvd.conf`; a change is written and signalled with SIGHUP. */
  readonly config: string;
  /** Arguments after `radvd`; a change here means restart. */
  readonly args: readonly string[];
}

export interface NamespaceSpec {
  readonly name: string;
  /** sysctl key → value, sorted by key. */
  readonly sysctls: readonly Sysctl[];
  readonly interfaces: readonly VethSpec[];
  readonly routes: readonly RouteSpec[];
}

export interface Sysctl {
  readonly key: string;
  readonly value: string;
}

/** A veth pair: `name` lives in the namespace, `peer` (tap…) in the host namespace's bridge. */
export interface VethSpec {
  readonly portId: string;
  readonly name: string;
  readonly peer: string;
  readonly bridge: string;
  readonly mac: string;
  readonly mtu: number;
  /** `ip/prefixlen`, sorted. */
  readonly addresses: readonly string[];
  /** The host end's device group; absent: the default group (0). A distributed router's interfaces have DVR_DEVICE_GROUP. */
  readonly group?: number;
}

/** Routes the agent owns are installed with `proto static`; kernel routes are left alone. */
export interface RouteSpec {
  /** `default` or a CIDR. */
  readonly destination: string;
  /** One entry, or several for an ECMP route; sorted. */
  readonly nexthops: readonly Nexthop[];
}

export interface Nexthop {
  /** null: on-link (`scope link`). */
  readonly via: string | null;
  /** null: the kernel picks the device from `via`. */
  readonly dev: string | null;
}

export interface NatSpec {
  readonly table: string;
  readonly gatewayDevice: string;
  readonly chains: readonly NftChain[];
  readonly floatingIps: readonly FloatingIpMapping[];
  /** The full `nft -f` input: creates the table if needed, then replaces it in one transaction. */
  readonly ruleset: string;
}

export interface FloatingIpMapping {
  readonly floatingIp: string;
  readonly fixedIp: string;
}

export interface DhcpSpec {
  readonly namespace: NamespaceSpec;
  readonly dnsmasq: DnsmasqSpec;
}

export interface DnsmasqSpec {
  /** Directory holding the files below plus `pid` and `leases`. */
  readonly dir: string;
  readonly pidFile: string;
  /** Arguments after `dnsmasq`; a change here (e.g. the subnet set) means restart, not SIGHUP. */
  readonly args: readonly string[];
  /** File name (inside `dir`) → content; a change here means rewrite + SIGHUP. */
  readonly files: readonly DnsmasqFile[];
}

export interface DnsmasqFile {
  readonly name: 'host' | 'addn_hosts' | 'opts';
  readonly content: string;
}

/** Reconcile unit `lb:<id>`: the qlbaas namespace and its HAProxy. */
export interface LoadBalancerUnit {
  readonly key: `lb:${string}`;
  readonly loadBalancerId: string;
  /** Written to `<dir>/generation` once everything below runs; the health reader reports it. */
  readonly generation: number;
  readonly namespace: NamespaceSpec;
  readonly dir: string;
  /** null: nothing to serve (no listener), only the VIP is plumbed. */
  readonly haproxy: HaproxySpec | null;
}

export interface HaproxySpec {
  /** The whole `haproxy.cfg`. */
  readonly config: string;
  /** Helper files in `dir` (the PING check wrapper). */
  readonly files: readonly HaproxyFile[];
  /** Which `show stat` row (backend, server) is which member, for the health reader. */
  readonly servers: readonly HaproxyServerRef[];
}

export interface HaproxyFile {
  readonly name: string;
  readonly content: string;
  readonly mode: number;
}

export interface HaproxyServerRef {
  readonly backend: string;
  readonly server: string;
  readonly memberId: string;
}

/**
 * The north-south parts of a distributed router (dvr.ts), as reconcile units:
 *   `snat:<router id>`  the router's centralized SNAT, where its gateway port is bound (a dvr_snat host)
 *   `fip:<network id>`  a host's floating IP namespace for one external network
 * and, on the router's own `router:<id>` unit, the policy routing and the link into the fip namespace.
 */

/** `snat-<router>`: the gateway port (qg-), one sg- port per internal subnet, and the usual SNAT. */
export interface SnatUnit {
  readonly key: `snat:${string}`;
  readonly routerId: string;
  readonly namespace: NamespaceSpec;
  readonly nat: NatSpec | null;
}

/**
 * `fip-<external network>`: the host's agent gateway port (fg-, proxy ARP on) and its default
 * route. The routes to each floating IP go through a router's fpr- device and belong to that
 * router's unit (DvrFipLink), as in Neutron, where the router adds them.
 */
export interface FipUnit {
  readonly key: `fip:${string}`;
  readonly networkId: string;
  readonly namespace: NamespaceSpec;
}

/** What a distributed router's qrouter holds beyond its qr- ports, on a host where it routes. */
export interface DvrRouterSpec {
  /** `ip rule`s (IPv4), sorted by priority: FIPs' fixed addresses to table 16, subnets to their SNAT table. */
  readonly rules: readonly DvrRule[];
  /** The default route of each table the rules name, sorted by table. */
  readonly tables: readonly DvrTableRoute[];
  /** null: no floating IP of the router has its instance on this host. */
  readonly fipLink: DvrFipLink | null;
}

export interface DvrRule {
  readonly priority: number;
  /** A CIDR (`10.0.0.0/24`, `10.0.0.5/32`). */
  readonly from: string;
  readonly table: number;
}

export interface DvrTableRoute {
  readonly table: number;
  readonly via: string;
  readonly dev: string;
}

/** The veth pair rfp- (qrouter) / fpr- (fip namespace) with a /31 of 169.254.64.0/18. */
export interface DvrFipLink {
  readonly fipNamespace: string;
  readonly rfp: string;
  readonly fpr: string;
  /** `ip/31` on rfp-, and on fpr-. */
  readonly rfpAddress: string;
  readonly fprAddress: string;
  /** `<floating ip>/32` via rfp-'s address, in the fip namespace; sorted. */
  readonly fipRoutes: readonly string[];
}
