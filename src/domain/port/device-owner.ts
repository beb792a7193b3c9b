/** Neutron's device_owner values this domain gives meaning to. */
export const DeviceOwner = {
  dhcp: 'network:dhcp',
  distributed: 'network:distributed',
  routerInterface: 'network:router_interface',
  routerInterfaceDistributed: 'network:router_interface_distributed',
  routerCentralizedSnat: 'network:router_centralized_snat',
  haRouterReplicatedInterface: 'network:ha_router_replicated_interface',
  routerHaInterface: 'network:router_ha_interface',
  routerGateway: 'network:router_gateway',
  floatingIp: 'network:floatingip',
  floatingIpAgentGateway: 'network:floatingip_agent_gateway',
  /** Octavia's OCTAVIA_OWNER: a load balancer's VIP port (device id `lb-<load balancer id>`). */
  octavia: 'Octavia',
} as const;

const ROUTER_OWNERS: ReadonlySet<string> = new Set([
  DeviceOwner.routerInterface,
  DeviceOwner.routerInterfaceDistributed,
  DeviceOwner.routerCentralizedSnat,
  DeviceOwner.haRouterReplicatedInterface,
  DeviceOwner.routerHaInterface,
  DeviceOwner.routerGateway,
]);

const SERVICE_OWNERS: ReadonlySet<string> = new Set([
  ...ROUTER_OWNERS,
  DeviceOwner.floatingIp,
  DeviceOwner.floatingIpAgentGateway,
  DeviceOwner.octavia,
]);

/**
 * network:* ports belong to the platform: they get no security groups by default, and do not
 * keep a network or subnet "in use" (they are removed with it).
 */
export function isNetworkOwned(deviceOwner: string): boolean {
  return deviceOwner.startsWith('network:');
}

/** Router ports may hold the IPv6 subnet-router anycast address and get no automatic SLAAC address. */
export function isRouterPort(deviceOwner: string): boolean {
  return ROUTER_OWNERS.has(deviceOwner);
}

/** Ports that only their owning router, floating IP or load balancer may delete. */
export function isServicePort(deviceOwner: string): boolean {
  return SERVICE_OWNERS.has(deviceOwner);
}

/** DHCP and distributed ports get the lowest free address; everything else a random one among the first free. */
export function takesLowestFreeAddress(deviceOwner: string): boolean {
  return deviceOwner === DeviceOwner.dhcp || deviceOwner === DeviceOwner.distributed;
}
