import type { FixedIp } from '../../domain/port/events.js';
import type { Ipv6Mode } from '../../domain/subnet/events.js';
import type { LbAlgorithm, PoolProtocol, SessionPersistenceType } from '../../domain/loadbalancer/model.js';
import type { HealthMonitorRecord, ListenerRecord, MemberRecord } from '../../domain/loadbalancer/state.js';

/**
 * What the dataplane needs to know about the API objects. The read model fills this in; the
 * compiler never looks anywhere else. Field names follow Neutron's attributes in camelCase.
 *
 * Placement: a router is built on a host when any of its ports (gateway or interface) has
 * `bindingHost` equal to that host (Neutron binds router ports to the L3 agent's host); a DHCP
 * server runs where the network's `network:dhcp` port is bound. References to objects missing
 * from the topology are skipped, so a read model that lags by an event still compiles.
 */
export interface Topology {
  readonly networks: readonly TopologyNetwork[];
  readonly ports: readonly TopologyPort[];
  readonly routers: readonly TopologyRouter[];
  readonly floatingIps: readonly TopologyFloatingIp[];
  /** Security groups the ports refer to (rules and all); absent: no port is filtered. */
  readonly securityGroups?: readonly TopologySecurityGroup[];
  /** FWaaS v2 groups with their policies' rules resolved, in policy order. */
  readonly firewallGroups?: readonly TopologyFirewallGroup[];
  /** Live load balancers with their listeners, pools, members and monitors (haproxy.ts). */
  readonly loadBalancers?: readonly TopologyLoadBalancer[];
  /** IPsec site connections of live VPN services (vpn.ts). */
  readonly vpnConnections?: readonly TopologyVpnConnection[];
  /** Each registered host's VXLAN tunnel endpoint; absent: no overlay anywhere. */
  readonly vteps?: readonly TopologyVtep[];
  /** Each registered host's agent mode and DVR MAC; absent: every host is legacy. */
  readonly dvrHosts?: readonly TopologyDvrHost[];
}

export interface TopologyDvrHost {
  readonly host: string;
  readonly agentMode: 'legacy' | 'dvr' | 'dvr_snat';
  readonly dvrHostMac: string | null;
}

export interface TopologyVtep {
  readonly host: string;
  /** The underlay address the host's agent registered. */
  readonly address: string;
}

export type NetworkType = 'flat' | 'vlan' | 'vxlan' | 'geneve' | 'gre' | 'local';

export interface NetworkSegment {
  readonly networkType: NetworkType;
  readonly physicalNetwork: string | null;
  readonly segmentationId: number | null;
}

export interface TopologyNetwork {
  readonly id: string;
  /** null: unknown, the agent uses 1500 and dnsmasq gets no MTU option (as Neutron). */
  readonly mtu: number | null;
  readonly external: boolean;
  readonly segment: NetworkSegment;
  readonly subnets: readonly TopologySubnet[];
}

export interface HostRoute {
  readonly destination: string;
  readonly nexthop: string;
}

export interface AllocationPool {
  readonly start: string;
  readonly end: string;
}

export interface TopologySubnet {
  readonly id: string;
  readonly ipVersion: 4 | 6;
  readonly cidr: string;
  readonly gatewayIp: string | null;
  readonly enableDhcp: boolean;
  readonly dnsNameservers: readonly string[];
  readonly hostRoutes: readonly HostRoute[];
  readonly allocationPools: readonly AllocationPool[];
  /** IPv6 only: who advertises the prefix (radvd on the router) and how hosts get addresses; absent is null. */
  readonly ipv6RaMode?: Ipv6Mode | null;
  readonly ipv6AddressMode?: Ipv6Mode | null;
}

/** A port's address, exactly as the port domain records it. */
export type { FixedIp } from '../../domain/port/events.js';

export interface TopologyPort {
  readonly id: string;
  readonly networkId: string;
  readonly macAddress: string;
  readonly fixedIps: readonly FixedIp[];
  /** `compute:nova`, `network:dhcp`, `network:router_interface`, `network:router_gateway`, ... */
  readonly deviceOwner: string;
  readonly deviceId: string;
  readonly bindingHost: string | null;
  readonly adminStateUp: boolean;
  /** Filtered (groups, anti-spoofing) only when true; absent counts as false. */
  readonly portSecurityEnabled?: boolean;
  /** Security group ids. */
  readonly securityGroups?: readonly string[];
  readonly allowedAddressPairs?: readonly TopologyAddressPair[];
}

export interface TopologyAddressPair {
  /** IP or CIDR. */
  readonly ipAddress: string;
  readonly macAddress: string;
}

export interface TopologySecurityGroup {
  readonly id: string;
  readonly stateful: boolean;
  readonly rules: readonly TopologySecurityGroupRule[];
}

/** Normalised as the security-group aggregate stores it (src/domain/security-group/rules.ts). */
export interface TopologySecurityGroupRule {
  readonly id: string;
  readonly direction: 'ingress' | 'egress';
  readonly ethertype: 'IPv4' | 'IPv6';
  /** null: any; a lower-case name or a number as a string. */
  readonly protocol: string | null;
  readonly portRangeMin: number | null;
  readonly portRangeMax: number | null;
  readonly remoteIpPrefix: string | null;
  readonly remoteGroupId: string | null;
}

export interface TopologyFirewallGroup {
  readonly id: string;
  readonly adminStateUp: boolean;
  /** Router interface ports the group applies to. */
  readonly portIds: readonly string[];
  /** Enabled rules of the ingress policy in order; null: no policy (everything dropped). */
  readonly ingressRules: readonly TopologyFirewallRule[] | null;
  readonly egressRules: readonly TopologyFirewallRule[] | null;
}

export interface TopologyFirewallRule {
  readonly id: string;
  /** null: any. */
  readonly protocol: 'tcp' | 'udp' | 'icmp' | 'ipv6-icmp' | 'sctp' | 'dccp' | null;
  readonly ipVersion: 4 | 6;
  readonly sourceIpAddress: string | null;
  readonly destinationIpAddress: string | null;
  /** `N` or `N:M`. */
  readonly sourcePort: string | null;
  readonly destinationPort: string | null;
  readonly action: 'allow' | 'deny' | 'reject';
}

export interface RouterGateway {
  readonly portId: string;
  /** The external network; its subnets give the default route's next hop. */
  readonly networkId: string;
  readonly enableSnat: boolean;
}

export interface TopologyRouter {
  readonly id: string;
  readonly adminStateUp: boolean;
  readonly interfacePortIds: readonly string[];
  readonly gateway: RouterGateway | null;
  readonly routes: readonly HostRoute[];
  /** Neutron's `distributed` (DVR, dvr.ts); absent is false. */
  readonly distributed?: boolean;
  /** HA routers only: null until scheduled (no VRRP id yet). Its hosts are where its
   * `network:router_ha_interface` ports are bound. */
  readonly ha?: { readonly vrid: number } | null;
}

export interface TopologyFloatingIp {
  readonly id: string;
  readonly floatingIpAddress: string;
  readonly floatingNetworkId: string;
  /** null when not associated. */
  readonly fixedIpAddress: string | null;
  readonly portId: string | null;
  readonly routerId: string | null;
}

export interface TopologyLoadBalancer {
  readonly id: string;
  readonly adminStateUp: boolean;
  /** The VIP port (in `Topology.ports`): its network, MAC and subnet plumb the namespace. */
  readonly vipPortId: string;
  readonly vipAddress: string;
  /** Desired-state generation of the load balancer; reported back once it runs. */
  readonly generation: number;
  readonly listeners: readonly TopologyListener[];
  readonly pools: readonly TopologyPool[];
}

/**
 * What the agent needs of a listener: the domain record's own fields (connectionLimit -1 means
 * unlimited; timeouts in milliseconds, as Octavia's API takes them).
 */
export type TopologyListener = Pick<
  ListenerRecord,
  | 'id'
  | 'adminStateUp'
  | 'protocol'
  | 'protocolPort'
  | 'connectionLimit'
  | 'timeoutClientData'
  | 'timeoutMemberConnect'
  | 'timeoutMemberData'
  | 'timeoutTcpInspect'
  | 'defaultPoolId'
>;

export interface TopologyPool {
  readonly id: string;
  readonly adminStateUp: boolean;
  readonly protocol: PoolProtocol;
  readonly lbAlgorithm: LbAlgorithm;
  readonly sessionPersistence: { readonly type: SessionPersistenceType; readonly cookieName: string | null } | null;
  readonly members: readonly TopologyMember[];
  readonly healthMonitor: TopologyHealthMonitor | null;
}

/** What the agent needs of a member: the domain record's own fields. */
export type TopologyMember = Pick<
  MemberRecord,
  'id' | 'adminStateUp' | 'address' | 'protocolPort' | 'weight' | 'backup' | 'monitorAddress' | 'monitorPort'
>;

/** The domain's monitor (delay and timeout in seconds), with `monitorType` as `type`. */
export type TopologyHealthMonitor = Pick<
  HealthMonitorRecord,
  'id' | 'adminStateUp' | 'delay' | 'timeout' | 'maxRetries' | 'maxRetriesDown' | 'httpMethod' | 'urlPath' | 'expectedCodes'
> & { readonly type: HealthMonitorRecord['monitorType'] };

/**
 * An IPsec site connection as the dataplane needs it (VPNaaS, reference 6.2): its VPN service's
 * router, both policies resolved, endpoint groups resolved to CIDRs, and the pre-shared key in
 * clear (the topology reader unseals it; it only ever reaches a 0600 file in the agent's state dir).
 */
export interface TopologyVpnConnection {
  readonly id: string;
  readonly routerId: string;
  /** The connection's and its VPN service's admin state together. */
  readonly adminStateUp: boolean;
  readonly peerAddress: string;
  readonly peerId: string;
  /** null: the router's external IPv4 address. */
  readonly localId: string | null;
  readonly psk: string;
  readonly localCidrs: readonly string[];
  readonly peerCidrs: readonly string[];
  readonly initiator: 'bi-directional' | 'response-only';
  readonly dpd: {
    readonly action: 'hold' | 'clear' | 'restart' | 'disabled' | 'restart-by-peer';
    readonly interval: number;
    readonly timeout: number;
  };
  readonly ike: {
    readonly ikeVersion: 'v1' | 'v2';
    readonly authAlgorithm: string;
    readonly encryptionAlgorithm: string;
    readonly pfs: string;
    readonly lifetimeSeconds: number;
  };
  readonly ipsec: {
    readonly transformProtocol: 'esp' | 'ah' | 'ah-esp';
    readonly encapsulationMode: 'tunnel' | 'transport';
    readonly authAlgorithm: string;
    readonly encryptionAlgorithm: string;
    readonly pfs: string;
    readonly lifetimeSeconds: number;
  };
}
