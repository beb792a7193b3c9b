import { AVAILABILITY_ZONE_RESOURCES, AVAILABILITY_ZONE_STATES } from '../../domain/common/availability-zones.js';
import { agentModeSchema, ipsecModeSchema } from '../../domain/agent/modes.js';
import { FIREWALL_ACTIONS, FIREWALL_GROUP_STATUSES } from '../../domain/firewall/events.js';
import { floatingIpStatusSchema } from '../../domain/floating-ip/events.js';
import {
  HealthMonitorTypeSchema,
  HttpMethodSchema,
  LbAlgorithmSchema,
  ListenerProtocolSchema,
  OPERATING_STATUSES,
  PoolProtocolSchema,
  PROVISIONING_STATUSES,
  SessionPersistenceTypeSchema,
} from '../../domain/loadbalancer/index.js';
import { NETWORK_TYPES } from '../../domain/network/events.js';
import { PORT_STATUSES } from '../../domain/port/events.js';
import { ROLES } from '../../domain/project/events.js';
import { haStateSchema } from '../../domain/router/events.js';
import { securityGroupRuleSchema } from '../../domain/security-group/events.js';
import { PFS_GROUPS, VPN_STATUSES } from '../../domain/vpn/events.js';
import { builder } from './builder.js';

/**
 * The fixed vocabularies of the domain as GraphQL enums, made from the domain's own lists (its zod
 * enums and `as const` tuples), so the schema cannot drift from what the deciders accept. Each
 * value is spelled exactly as the domain (and Neutron/Octavia) spells it, lower-case ones included,
 * so the wire is unchanged.
 *
 * Outputs only. Inputs stay String checked by the same zod enum, because a word outside the
 * vocabulary must be an InputValidationError naming the field (issue 14), which a GraphQL enum
 * would turn into a request error before any resolver runs; zod-input.ts lists the words in the
 * input field's description. Vocabularies with a word GraphQL cannot name (`dhcpv6-stateful`,
 * `ipv6-icmp`, `aes-128`, `bi-directional`, `network:router_interface`) stay String too.
 */
const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

/** Resolvers answer `string` (read-model documents are JSON); a word outside the vocabulary fails serialization loudly. */
function vocabulary<const V extends string>(name: string, values: readonly V[], description: string, meanings: Partial<Record<V, string>> = {}) {
  const unnamable = values.filter((v) => !GRAPHQL_NAME.test(v));
  if (unnamable.length > 0) throw new Error(`${name}: ${unnamable.join(', ')} cannot be GraphQL enum values; keep it a String`);
  return builder.enumType(name, {
    description,
    values: Object.fromEntries(values.map((v) => [v, { value: v, description: meanings[v] ?? `\`${v}\`, as Neutron spells it.` }])) as Record<string, { value: string }>,
  });
}

export const RuleDirection = vocabulary('RuleDirection', securityGroupRuleSchema.shape.direction.options, 'Which traffic a security group rule admits, seen from the port.', {
  ingress: 'Traffic into the port.',
  egress: 'Traffic out of the port.',
});
export const Ethertype = vocabulary('Ethertype', securityGroupRuleSchema.shape.ethertype.options, 'The IP version a rule applies to.', {
  IPv4: 'IPv4 traffic.',
  IPv6: 'IPv6 traffic.',
});
export const NetworkType = vocabulary('NetworkType', NETWORK_TYPES, "A network's provider:network_type.", {
  local: 'Confined to one host.',
  flat: 'Untagged on a physical network.',
  vlan: 'An 802.1Q VLAN on a physical network.',
  vxlan: 'A VXLAN overlay segment (the tenant default).',
});
export const PortStatus = vocabulary('PortStatus', PORT_STATUSES, "A port's status: DOWN until the agent has wired it.", {
  DOWN: 'Not wired (yet), or administratively down.',
  ACTIVE: 'Wired by the agent.',
  BUILD: 'Being wired.',
  ERROR: 'The agent failed to wire it (statusReason says why).',
});
export const FloatingIpStatus = vocabulary('FloatingIpStatus', floatingIpStatusSchema.options, "A floating IP's status.", {
  ACTIVE: 'Associated and applied by the agent.',
  DOWN: 'Not associated, or not applied yet.',
  ERROR: 'The agent failed to apply it.',
});
export const HaState = vocabulary('HaState', haStateSchema.options, "A host's VRRP state for an HA router, as its keepalived reported it.", {
  active: 'This host forwards for the router.',
  standby: 'This host waits to take over.',
  unknown: 'No report yet, or the host agent is dead.',
});
export const FirewallAction = vocabulary('FirewallAction', FIREWALL_ACTIONS, 'What a firewall rule does with matching traffic.', {
  allow: 'Let it through.',
  deny: 'Drop it silently.',
  reject: 'Drop it and answer with a reject.',
});
export const FirewallGroupStatus = vocabulary('FirewallGroupStatus', FIREWALL_GROUP_STATUSES, "A firewall group's status.", {
  INACTIVE: 'No ports.',
  ACTIVE: 'Applied by the agent.',
  DOWN: 'Administratively down.',
  ERROR: 'The agent failed to apply it.',
});
export const ListenerProtocol = vocabulary('ListenerProtocol', ListenerProtocolSchema.options, 'The protocol an Octavia listener accepts.');
export const PoolProtocol = vocabulary('PoolProtocol', PoolProtocolSchema.options, 'The protocol an Octavia pool speaks to its members.');
export const LbAlgorithm = vocabulary('LbAlgorithm', LbAlgorithmSchema.options, 'How a pool picks a member.', {
  ROUND_ROBIN: 'Each member in turn.',
  LEAST_CONNECTIONS: 'The member with the fewest open connections.',
  SOURCE_IP: 'The same member for the same client address.',
});
export const SessionPersistenceType = vocabulary('SessionPersistenceType', SessionPersistenceTypeSchema.options, 'How a pool keeps a client on one member.', {
  SOURCE_IP: 'By client address.',
  HTTP_COOKIE: 'By a cookie the load balancer sets.',
  APP_COOKIE: "By the application's cookie (cookieName).",
});
export const HealthMonitorType = vocabulary('HealthMonitorType', HealthMonitorTypeSchema.options, 'How a health monitor probes members.', {
  PING: 'An ICMP echo.',
  TCP: 'A TCP connect.',
  HTTP: 'An HTTP request, checked against expectedCodes.',
  HTTPS: 'An HTTPS request, checked against expectedCodes.',
});
export const HttpMethod = vocabulary('HttpMethod', HttpMethodSchema.options, 'The HTTP method of an HTTP(S) health check.');
export const ProvisioningStatus = vocabulary('ProvisioningStatus', PROVISIONING_STATUSES, "Octavia's provisioning_status: whether the dataplane has applied the latest change.", {
  PENDING_CREATE: 'Created; not applied yet.',
  PENDING_UPDATE: 'Changed; not applied yet.',
  PENDING_DELETE: 'Being deleted.',
  ACTIVE: 'The latest change is applied.',
  ERROR: 'Applying the latest change failed (statusError says why).',
  DELETED: 'Gone.',
});
export const OperatingStatus = vocabulary('OperatingStatus', OPERATING_STATUSES, "Octavia's operating_status: how the object is doing.", {
  ONLINE: 'Serving.',
  OFFLINE: 'Administratively down.',
  DEGRADED: 'Serving, with some members down.',
  ERROR: 'Not serving.',
  NO_MONITOR: 'No health monitor watches it.',
  DRAINING: 'Finishing its connections, taking no new ones.',
});
export const VpnStatus = vocabulary('VpnStatus', VPN_STATUSES, 'A VPN object\'s status: PENDING_CREATE until the dataplane reports.', {
  PENDING_CREATE: 'Not reported by the dataplane yet.',
  ACTIVE: 'The tunnel is up.',
  DOWN: 'The tunnel is down.',
  ERROR: 'The dataplane failed to set it up.',
});
export const PfsGroup = vocabulary('PfsGroup', PFS_GROUPS, 'The Diffie-Hellman group of perfect forward secrecy.');
export const AgentMode = vocabulary('AgentMode', agentModeSchema.options, "Neutron's agent_mode of a host.", {
  legacy: 'Centralised routing.',
  dvr: 'A compute host of distributed routers.',
  dvr_snat: 'A network node of distributed routers (SNAT).',
});
export const IpsecMode = vocabulary('IpsecMode', ipsecModeSchema.options, "Where a host does IPsec's ESP.", {
  kernel: 'In the kernel (xfrm).',
  libipsec: 'In userspace (charon), when the kernel has no ESP.',
});
export const Role = vocabulary('Role', ROLES, 'What a token may do in its project.', {
  admin: 'Everything, in every project.',
  member: 'Its own project, as Neutron policy allows a member.',
});
export const AvailabilityZoneResource = vocabulary('AvailabilityZoneResource', AVAILABILITY_ZONE_RESOURCES, 'What an availability zone is listed for.', {
  network: "Networks: the zone's agents serve DHCP.",
  router: "Routers: the zone's agents run routers.",
});
export const AvailabilityZoneState = vocabulary('AvailabilityZoneState', AVAILABILITY_ZONE_STATES, 'Whether anything can be scheduled in an availability zone now.', {
  available: 'A live, enabled agent is in the zone.',
  unavailable: 'Every agent of the zone is down or disabled.',
});
