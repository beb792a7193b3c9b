/**
 * What the resource commands know about each kind: its GraphQL names, its fields under Neutron's
 * names (GraphQL aliases, so the server's answer is already a Neutron-shaped record), the columns a
 * list shows, and how `create` options become the mutation's input. Everything else (commands,
 * lookup by name, output, --wait) is generic over this table.
 */

export type KindName = 'network' | 'subnet' | 'port' | 'router' | 'floating-ip' | 'security-group' | 'security-group-rule' | 'loadbalancer';

/** Resolves a name or id of another kind to its id. */
type Resolve = (kind: KindName, nameOrId: string) => Promise<string>;

/** Turns an option's value into input fields. */
export type Apply = (input: Record<string, unknown>, value: unknown, ref: Resolve) => Promise<void> | void;

export interface OptionSpec {
  /** commander's flags, e.g. `--network <network>`. */
  readonly flags: string;
  readonly description: string;
  readonly apply: Apply;
  readonly repeatable?: boolean;
  readonly required?: boolean;
  readonly choices?: readonly string[];
}

export interface ResourceKind {
  readonly name: KindName;
  /** The command words: `network`, or `security-group rule`. */
  readonly words: readonly string[];
  readonly typename: string;
  /** The Query connection field. */
  readonly list: string;
  /** `Network` in createNetwork / deleteNetwork / CreateNetworkSuccess. */
  readonly mutation: string;
  /** The resource's field in the Create...Success payload. */
  readonly payloadField: string;
  /** The GraphQL selection, aliased to Neutron's field names; `id` is always the plain id. */
  readonly fields: string;
  readonly listColumns: readonly string[];
  /** Extra list filters: option -> (filter argument name, its GraphQL type, field). */
  readonly listOptions?: readonly { flags: string; description: string; arg: string; argType: string; field: string; ref?: KindName }[];
  /** The create command's positional argument (openstack's NAME, or floating-ip's NETWORK). */
  readonly positional?: { readonly name: string; readonly required: boolean; readonly apply: Apply };
  readonly createOptions: readonly OptionSpec[];
  readonly deleteOptions?: readonly OptionSpec[];
  /** A field that identifies a resource besides its name (a floating IP's address). */
  readonly altKey?: string;
  /** A provisioning status that --wait waits out. */
  readonly status?: { readonly column: string; readonly pending: RegExp; readonly failed: readonly string[]; readonly reason?: string };
}

const set =
  (key: string): Apply =>
  (input, v) => {
    input[key] = v;
  };
const int =
  (key: string): Apply =>
  (input, v) => {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new Error(`${key}: not an integer: ${String(v)}`);
    input[key] = n;
  };
const flag =
  (key: string, value: unknown): Apply =>
  (input, v) => {
    if (v === true) input[key] = value;
  };
const ref =
  (key: string, kind: KindName): Apply =>
  async (input, v, resolve) => {
    input[key] = await resolve(kind, String(v));
  };
const refs =
  (key: string, kind: KindName): Apply =>
  async (input, v, resolve) => {
    input[key] = await Promise.all((v as string[]).map((x) => resolve(kind, x)));
  };

const common = {
  description: { flags: '--description <text>', description: 'description', apply: set('description') },
  tag: { flags: '--tag <tag>', description: 'a tag (repeat for more)', apply: set('tags'), repeatable: true },
  id: { flags: '--id <uuid>', description: 'choose the id (makes a retried create idempotent)', apply: set('id') },
  disable: { flags: '--disable', description: 'admin state down', apply: flag('adminStateUp', false) },
  zoneHint: {
    flags: '--availability-zone-hint <zone>',
    description: 'an availability zone to schedule in (repeat for more)',
    apply: set('availabilityZoneHints'),
    repeatable: true,
  },
} satisfies Record<string, OptionSpec>;

const name: ResourceKind['positional'] = { name: '[name]', required: false, apply: set('name') };
const audit = 'project_id: projectId description tags revision_number: revision created_at: createdAt updated_at: updatedAt';

export const KINDS: readonly ResourceKind[] = [
  {
    name: 'network',
    words: ['network'],
    typename: 'Network',
    list: 'networks',
    mutation: 'Network',
    payloadField: 'network',
    fields: `id: uuid name status admin_state_up: adminStateUp shared router_external: external mtu port_security_enabled: portSecurityEnabled
      provider_network_type: providerNetworkType provider_physical_network: providerPhysicalNetwork provider_segmentation_id: providerSegmentationId
      availability_zone_hints: availabilityZoneHints availability_zones: availabilityZones subnets { id: uuid } ${audit}`,
    listColumns: ['id', 'name', 'subnets'],
    positional: name,
    createOptions: [
      common.description,
      common.tag,
      common.id,
      common.disable,
      { flags: '--share', description: 'shared with every project (admin only)', apply: flag('shared', true) },
      {
        flags: '--external',
        description: 'an external network for router gateways and floating IPs (admin only)',
        apply: flag('external', true),
      },
      { flags: '--mtu <mtu>', description: 'MTU', apply: int('mtu') },
      { flags: '--disable-port-security', description: 'ports default to no port security', apply: flag('portSecurityEnabled', false) },
      common.zoneHint,
    ],
  },
  {
    name: 'subnet',
    words: ['subnet'],
    typename: 'Subnet',
    list: 'subnets',
    mutation: 'Subnet',
    payloadField: 'subnet',
    fields: `id: uuid name network_id: networkId cidr ip_version: ipVersion gateway_ip: gatewayIp enable_dhcp: enableDhcp
      allocation_pools: allocationPools { start end } dns_nameservers: dnsNameservers host_routes: hostRoutes { destination nexthop }
      ipv6_address_mode: ipv6AddressMode ipv6_ra_mode: ipv6RaMode ${audit}`,
    listColumns: ['id', 'name', 'network_id', 'cidr'],
    listOptions: [
      {
        flags: '--network <network>',
        description: 'only subnets of this network',
        arg: 'filter',
        argType: 'ResourceFilter',
        field: 'networkId',
        ref: 'network',
      },
    ],
    positional: name,
    createOptions: [
      { flags: '--network <network>', description: 'network name or id', apply: ref('networkId', 'network'), required: true },
      {
        flags: '--subnet-range <cidr>',
        description: "the subnet's CIDR",
        required: true,
        apply: (input, v) => {
          input.cidr = v;
          input.ipVersion = String(v).includes(':') ? 6 : 4;
        },
      },
      { flags: '--ip-version <4|6>', description: "IP version (default: the CIDR's)", apply: int('ipVersion'), choices: ['4', '6'] },
      {
        flags: '--gateway <ip|none>',
        description: 'gateway address, or none',
        apply: (input, v) => void (input.gatewayIp = v === 'none' ? null : v),
      },
      { flags: '--no-dhcp', description: 'no DHCP on this subnet', apply: (input, v) => void (v === false && (input.enableDhcp = false)) },
      { flags: '--dns-nameserver <ip>', description: 'a DNS server (repeat for more)', apply: set('dnsNameservers'), repeatable: true },
      {
        flags: '--allocation-pool <start=IP,end=IP>',
        description: 'an allocation pool (repeat for more)',
        repeatable: true,
        apply: (input, v) => void (input.allocationPools = (v as string[]).map(keyValues)),
      },
      { flags: '--ipv6-address-mode <mode>', description: 'slaac, dhcpv6-stateful or dhcpv6-stateless', apply: set('ipv6AddressMode') },
      { flags: '--ipv6-ra-mode <mode>', description: 'slaac, dhcpv6-stateful or dhcpv6-stateless', apply: set('ipv6RaMode') },
      common.description,
      common.tag,
      common.id,
    ],
  },
  {
    name: 'port',
    words: ['port'],
    typename: 'Port',
    list: 'ports',
    mutation: 'Port',
    payloadField: 'port',
    fields: `id: uuid name network_id: networkId mac_address: macAddress fixed_ips: fixedIps { ip_address: ipAddress subnet_id: subnetId } status
      status_reason: statusReason admin_state_up: adminStateUp device_owner: deviceOwner device_id: deviceId binding_host_id: bindingHost
      port_security_enabled: portSecurityEnabled security_group_ids: securityGroupIds
      allowed_address_pairs: allowedAddressPairs { ip_address: ipAddress mac_address: macAddress } ${audit}`,
    listColumns: ['id', 'name', 'mac_address', 'fixed_ips', 'status'],
    listOptions: [
      {
        flags: '--network <network>',
        description: 'only ports of this network',
        arg: 'filter',
        argType: 'ResourceFilter',
        field: 'networkId',
        ref: 'network',
      },
      {
        flags: '--device-owner <owner>',
        description: 'only ports with this device owner',
        arg: 'portFilter',
        argType: 'PortFilter',
        field: 'deviceOwner',
      },
      { flags: '--status <status>', description: 'only ports in this status', arg: 'portFilter', argType: 'PortFilter', field: 'status' },
    ],
    positional: name,
    createOptions: [
      { flags: '--network <network>', description: 'network name or id', apply: ref('networkId', 'network'), required: true },
      {
        flags: '--fixed-ip <subnet=SUBNET,ip-address=IP>',
        description: 'an address to take (repeat for more)',
        repeatable: true,
        apply: async (input, v, resolve) => {
          input.fixedIps = await Promise.all((v as string[]).map((spec) => fixedIp(spec, resolve)));
        },
      },
      { flags: '--mac-address <mac>', description: 'MAC address', apply: set('macAddress') },
      { flags: '--device-owner <owner>', description: 'device owner', apply: set('deviceOwner') },
      { flags: '--device-id <id>', description: 'device id', apply: set('deviceId') },
      { flags: '--host <host>', description: "bind the port to this host's agent", apply: set('bindingHost') },
      {
        flags: '--security-group <group>',
        description: 'a security group (repeat for more)',
        apply: refs('securityGroupIds', 'security-group'),
        repeatable: true,
      },
      {
        flags: '--disable-port-security',
        description: 'no port security (and no security groups)',
        apply: flag('portSecurityEnabled', false),
      },
      common.description,
      common.tag,
      common.id,
      common.disable,
    ],
  },
  {
    name: 'router',
    words: ['router'],
    typename: 'Router',
    list: 'routers',
    mutation: 'Router',
    payloadField: 'router',
    fields: `id: uuid name status admin_state_up: adminStateUp ha distributed
      external_gateway_info: externalGatewayInfo { network_id: networkId enable_snat: enableSnat external_fixed_ips: externalFixedIps { ip_address: ipAddress subnet_id: subnetId } }
      interfaces_info: interfaces { port_id: portId subnet_id: subnetId ip_address: ipAddress } routes { destination nexthop }
      availability_zone_hints: availabilityZoneHints availability_zones: availabilityZones ${audit}`,
    listColumns: ['id', 'name', 'status', 'admin_state_up', 'project_id'],
    positional: name,
    createOptions: [
      {
        flags: '--external-gateway <network>',
        description: 'set the gateway on this external network',
        apply: async (input, v, resolve) => void (input.externalGatewayInfo = { networkId: await resolve('network', String(v)) }),
      },
      // Applied after --external-gateway (options apply in this order, not the command line's).
      {
        flags: '--enable-snat',
        description: 'source-NAT through the gateway (the default)',
        apply: gateway('--enable-snat', 'enableSnat', () => true),
      },
      {
        flags: '--disable-snat',
        description: 'no source NAT through the gateway',
        apply: gateway('--disable-snat', 'enableSnat', () => false),
      },
      {
        flags: '--fixed-ip <subnet=SUBNET,ip-address=IP>',
        description: "the gateway's address on the external network (repeat for more)",
        repeatable: true,
        apply: gateway('--fixed-ip', 'externalFixedIps', (v, resolve) =>
          Promise.all((v as string[]).map((spec) => fixedIp(spec, resolve))),
        ),
      },
      { flags: '--ha', description: 'highly available (admin only)', apply: flag('ha', true) },
      { flags: '--distributed', description: 'distributed (admin only)', apply: flag('distributed', true) },
      common.description,
      common.tag,
      common.id,
      common.disable,
      common.zoneHint,
    ],
  },
  {
    name: 'floating-ip',
    words: ['floating-ip'],
    typename: 'FloatingIp',
    list: 'floatingIps',
    mutation: 'FloatingIp',
    payloadField: 'floatingIp',
    fields: `id: uuid name floating_ip_address: floatingIpAddress floating_network_id: floatingNetworkId fixed_ip_address: fixedIpAddress
      port_id: portId router_id: routerId status status_reason: statusReason ${audit}`,
    listColumns: ['id', 'floating_ip_address', 'fixed_ip_address', 'port_id', 'floating_network_id', 'project_id'],
    listOptions: [
      {
        flags: '--status <status>',
        description: 'only floating IPs in this status',
        arg: 'floatingIpFilter',
        argType: 'FloatingIpFilter',
        field: 'status',
      },
    ],
    altKey: 'floating_ip_address',
    positional: { name: '<network>', required: true, apply: ref('floatingNetworkId', 'network') },
    createOptions: [
      { flags: '--subnet <subnet>', description: 'allocate from this subnet of the external network', apply: ref('subnetId', 'subnet') },
      { flags: '--floating-ip-address <ip>', description: 'the address to take', apply: set('floatingIpAddress') },
      { flags: '--port <port>', description: 'associate with this port at once', apply: ref('portId', 'port') },
      { flags: '--fixed-ip-address <ip>', description: "the port's fixed IP to map to", apply: set('fixedIpAddress') },
      { flags: '--name <name>', description: 'name', apply: set('name') },
      common.description,
      common.tag,
      common.id,
    ],
  },
  {
    name: 'security-group',
    words: ['security-group'],
    typename: 'SecurityGroup',
    list: 'securityGroups',
    mutation: 'SecurityGroup',
    payloadField: 'securityGroup',
    fields: `id: uuid name stateful is_default: isDefault
      rules { id: uuid direction ethertype protocol port_range_min: portRangeMin port_range_max: portRangeMax remote_ip_prefix: remoteIpPrefix remote_group_id: remoteGroupId } ${audit}`,
    listColumns: ['id', 'name', 'description', 'project_id'],
    positional: { name: '<name>', required: true, apply: set('name') },
    createOptions: [
      { flags: '--stateless', description: 'stateless (no connection tracking)', apply: flag('stateful', false) },
      common.description,
      common.tag,
      common.id,
    ],
  },
  {
    name: 'security-group-rule',
    words: ['security-group', 'rule'],
    typename: 'SecurityGroupRule',
    list: 'securityGroupRules',
    mutation: 'SecurityGroupRule',
    payloadField: 'securityGroupRule',
    fields: `id: uuid security_group_id: securityGroupId direction ethertype protocol port_range_min: portRangeMin port_range_max: portRangeMax
      remote_ip_prefix: remoteIpPrefix remote_group_id: remoteGroupId ${audit}`,
    listColumns: ['id', 'protocol', 'ethertype', 'remote_ip_prefix', 'port_range_min', 'port_range_max', 'direction', 'security_group_id'],
    listOptions: [
      {
        flags: '--security-group <group>',
        description: 'only rules of this group',
        arg: 'ruleFilter',
        argType: 'SecurityGroupRuleFilter',
        field: 'securityGroupId',
        ref: 'security-group',
      },
      {
        flags: '--direction <direction>',
        description: 'ingress or egress',
        arg: 'ruleFilter',
        argType: 'SecurityGroupRuleFilter',
        field: 'direction',
      },
    ],
    positional: {
      name: '<group>',
      required: true,
      apply: async (input, v, resolve) => {
        input.securityGroupId = await resolve('security-group', String(v));
        input.direction = 'ingress';
      },
    },
    createOptions: [
      { flags: '--ingress', description: 'for incoming traffic (the default)', apply: flag('direction', 'ingress') },
      { flags: '--egress', description: 'for outgoing traffic', apply: flag('direction', 'egress') },
      { flags: '--protocol <protocol>', description: 'tcp, udp, icmp, a number, or any', apply: set('protocol') },
      {
        flags: '--dst-port <port[:port]>',
        description: 'destination port or range (tcp, udp)',
        apply: (input, v) => {
          const [min, max = min] = String(v).split(':').map(Number);
          input.portRangeMin = min;
          input.portRangeMax = max;
        },
      },
      { flags: '--ethertype <IPv4|IPv6>', description: 'IP version', apply: set('ethertype'), choices: ['IPv4', 'IPv6'] },
      { flags: '--remote-ip <cidr>', description: 'remote prefix', apply: set('remoteIpPrefix') },
      { flags: '--remote-group <group>', description: 'remote security group', apply: ref('remoteGroupId', 'security-group') },
      common.description,
      common.id,
    ],
  },
  {
    name: 'loadbalancer',
    words: ['loadbalancer'],
    typename: 'LoadBalancer',
    list: 'loadBalancers',
    mutation: 'LoadBalancer',
    payloadField: 'loadBalancer',
    fields: `id: uuid name vip_address: vipAddress vip_subnet_id: vipSubnetId vip_network_id: vipNetworkId vip_port_id: vipPortId
      provisioning_status: provisioningStatus operating_status: operatingStatus status_error: statusError provider admin_state_up: adminStateUp
      listeners { id: uuid } pools { id: uuid } ${audit}`,
    listColumns: ['id', 'name', 'project_id', 'vip_address', 'provisioning_status', 'operating_status', 'provider'],
    createOptions: [
      { flags: '--name <name>', description: 'name', apply: set('name') },
      { flags: '--vip-subnet-id <subnet>', description: "the VIP's subnet", apply: ref('vipSubnetId', 'subnet') },
      { flags: '--vip-network-id <network>', description: "the VIP's network", apply: ref('vipNetworkId', 'network') },
      { flags: '--vip-port-id <port>', description: 'an existing port as the VIP', apply: ref('vipPortId', 'port') },
      { flags: '--vip-address <ip>', description: 'the VIP address', apply: set('vipAddress') },
      { flags: '--provider <provider>', description: 'provider', apply: set('provider') },
      common.description,
      common.tag,
      common.id,
      common.disable,
    ],
    deleteOptions: [{ flags: '--cascade', description: 'delete its listeners and pools too', apply: flag('cascade', true) }],
    status: { column: 'provisioning_status', pending: /^PENDING_/, failed: ['ERROR'], reason: 'status_error' },
  },
];

/** `subnet=S,ip-address=IP` -> { subnetId, ipAddress }, either part optional (openstack's --fixed-ip). */
async function fixedIp(spec: string, resolve: Resolve): Promise<{ subnetId?: string; ipAddress?: string }> {
  const kv = keyValues(spec);
  return {
    ...(kv.subnet ? { subnetId: await resolve('subnet', kv.subnet) } : {}),
    ...(kv['ip-address'] ? { ipAddress: kv['ip-address'] } : {}),
  };
}

/** A field of a router's externalGatewayInfo: meaningless, and refused, without --external-gateway (as openstack does). */
function gateway(option: string, key: string, value: (v: unknown, resolve: Resolve) => unknown): Apply {
  return async (input, v, resolve) => {
    const info = input.externalGatewayInfo as Record<string, unknown> | undefined;
    if (!info) throw new Error(`${option} needs --external-gateway`);
    info[key] = await value(v, resolve);
  };
}

/** `start=10.0.0.2,end=10.0.0.9` -> { start, end }. */
function keyValues(spec: string): Record<string, string> {
  return Object.fromEntries(
    spec.split(',').map((pair) => {
      const i = pair.indexOf('=');
      if (i < 1) throw new Error(`expected key=value pairs separated by commas: ${spec}`);
      return [pair.slice(0, i).trim(), pair.slice(i + 1).trim()];
    }),
  );
}

export function kind(name: KindName): ResourceKind {
  return KINDS.find((k) => k.name === name)!;
}
