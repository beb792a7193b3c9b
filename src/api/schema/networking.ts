import { z } from 'zod';
import { createNetwork, deleteNetwork, updateNetwork } from '../../app/networking/networks.js';
import { createPort, deletePort, updatePort } from '../../app/networking/ports.js';
import { createSubnet, deleteSubnet, updateSubnet } from '../../app/networking/subnets.js';
import type { Network } from '../../domain/network/index.js';
import type { Port } from '../../domain/port/index.js';
import type { Subnet } from '../../domain/subnet/index.js';
import { commandMetadata } from '../context.js';
import { answerCreated, answerDeleted, answerResource, DeletedRef } from './answer.js';
import { builder } from './builder.js';
import { NetworkType, PortStatus } from './enums.js';
import { changesOf, clean, idArg, undefIfNull, clientId } from './input.js';
import { defineMutation } from './mutation.js';
import { resourceNode, resourceRef } from './resource-node.js';
import { listResources, parseId, resourceLoader, ResourceFilter, type ResourceRecord, withTotalCount } from './resources.js';
import { MAX_TAGS } from './input-limits.js';

// ---- types ------------------------------------------------------------------------------------

const Pool = builder.objectRef<{ start: string; end: string }>('AllocationPool').implement({
  description: 'A range of addresses of a subnet that automatic addresses come from.',
  fields: (t) => ({ start: t.exposeString('start', { description: 'First address of the range.' }), end: t.exposeString('end', { description: 'Last address of the range.' }) }),
});
const HostRoute = builder.objectRef<{ destination: string; nexthop: string }>('HostRoute').implement({
  description: 'A static route DHCP hands to hosts on the subnet.',
  fields: (t) => ({ destination: t.exposeString('destination', { description: 'Destination CIDR.' }), nexthop: t.exposeString('nexthop', { description: 'Next hop address.' }) }),
});
const FixedIp = builder.objectRef<{ subnetId: string; ipAddress: string }>('FixedIp').implement({
  description: 'An address of a port.',
  fields: (t) => ({ subnetId: t.exposeString('subnetId', { description: 'The subnet the address comes from.' }), ipAddress: t.exposeString('ipAddress', { description: 'The address.' }) }),
});
const AddressPair = builder.objectRef<{ ipAddress: string; macAddress: string }>('AllowedAddressPair').implement({
  description: 'An extra address (and MAC) a port may send from.',
  fields: (t) => ({ ipAddress: t.exposeString('ipAddress', { description: 'An address or CIDR the port may send from.' }), macAddress: t.exposeString('macAddress', { description: 'The MAC it may send with.' }) }),
});

export const NetworkRef = resourceRef<Network>('Network');
export const SubnetRef = resourceRef<Subnet>('Subnet');
export const PortRef = resourceRef<Port>('Port');

resourceNode(NetworkRef, 'network', 'An L2 network (Neutron network).', (t) => ({
  adminStateUp: t.boolean({ description: 'Administrative state: false takes the network out of service.', resolve: (r) => r.doc.adminStateUp }),
  shared: t.boolean({ description: 'Visible to and usable by every project.', resolve: (r) => r.doc.shared }),
  external: t.boolean({ description: 'router:external', resolve: (r) => r.doc.external }),
  mtu: t.int({ description: 'Largest packet its ports carry, in bytes (the overlay takes its headers off the underlay MTU).', resolve: (r) => r.doc.mtu }),
  status: t.string({ description: 'Always ACTIVE: a network has no dataplane of its own to wait for.', resolve: (r) => r.doc.status }),
  portSecurityEnabled: t.boolean({ description: 'The default of portSecurityEnabled for new ports on it.', resolve: (r) => r.doc.portSecurityEnabled }),
  providerNetworkType: t.field({ description: 'provider:network_type: how the network is carried.', type: NetworkType, resolve: (r) => r.doc.provider.networkType }),
  providerPhysicalNetwork: t.string({ description: 'provider:physical_network of a flat or VLAN network; null for VXLAN and local.', nullable: true, resolve: (r) => r.doc.provider.physicalNetwork }),
  providerSegmentationId: t.int({ description: 'provider:segmentation_id: the VLAN id or VXLAN VNI; null for flat and local.', nullable: true, resolve: (r) => r.doc.provider.segmentationId }),
  subnets: t.field({
    description: 'Its subnets that the caller may see.',
    type: [SubnetRef],
    resolve: async (r, _a, ctx) => (await resourceLoader<Subnet>(ctx, 'subnet').loadMany(r.doc.subnets.map((x) => x.id))).filter((x): x is ResourceRecord<Subnet> => x !== null && !(x instanceof Error)),
  }),
}));

resourceNode(SubnetRef, 'subnet', 'An IPv4 or IPv6 address block on a network.', (t) => ({
  networkId: t.string({ description: 'The network it belongs to.', resolve: (r) => r.doc.networkId }),
  network: t.field({ description: 'The network it belongs to.', type: NetworkRef, nullable: true, resolve: (r, _a, ctx) => resourceLoader<Network>(ctx, 'network').load(r.doc.networkId) }),
  ipVersion: t.int({ description: '4 or 6.', resolve: (r) => r.doc.ipVersion }),
  cidr: t.string({ description: 'The address block, normalised to its network address.', resolve: (r) => r.doc.cidr }),
  gatewayIp: t.string({ description: "The router's address on it; null: no gateway.", nullable: true, resolve: (r) => r.doc.gatewayIp }),
  allocationPools: t.field({ description: 'The ranges automatic addresses come from.', type: [Pool], resolve: (r) => [...r.doc.allocationPools] }),
  enableDhcp: t.boolean({ description: 'Whether the DHCP server answers on it.', resolve: (r) => r.doc.enableDhcp }),
  dnsNameservers: t.stringList({ description: 'DNS servers DHCP hands out.', resolve: (r) => [...r.doc.dnsNameservers] }),
  hostRoutes: t.field({ description: 'Static routes DHCP hands out.', type: [HostRoute], resolve: (r) => [...r.doc.hostRoutes] }),
  ipv6RaMode: t.string({ description: 'IPv6 router advertisements: slaac, dhcpv6-stateful or dhcpv6-stateless (Neutron spelling, hence a String); null: none.', nullable: true, resolve: (r) => r.doc.ipv6RaMode }),
  ipv6AddressMode: t.string({ description: 'How IPv6 hosts get addresses: slaac, dhcpv6-stateful or dhcpv6-stateless; null: not IPv6 auto-configured.', nullable: true, resolve: (r) => r.doc.ipv6AddressMode }),
}));

resourceNode(PortRef, 'port', 'A virtual switch port: MAC and addresses on a network.', (t) => ({
  networkId: t.string({ description: 'The network it is on.', resolve: (r) => r.doc.networkId }),
  network: t.field({ description: 'The network it is on.', type: NetworkRef, nullable: true, resolve: (r, _a, ctx) => resourceLoader<Network>(ctx, 'network').load(r.doc.networkId) }),
  macAddress: t.string({ description: 'Its MAC address.', resolve: (r) => r.doc.macAddress }),
  fixedIps: t.field({ description: 'Its addresses, each with the subnet it comes from.', type: [FixedIp], resolve: (r) => [...r.doc.fixedIps] }),
  deviceOwner: t.string({ description: "What uses the port, as Neutron spells it (network:router_interface, network:dhcp, compute:nova, ...): a String, since ':' cannot be in a GraphQL enum.", resolve: (r) => r.doc.deviceOwner }),
  deviceId: t.string({ description: 'The id of what uses the port (a router, a network for DHCP, a VM).', resolve: (r) => r.doc.deviceId }),
  adminStateUp: t.boolean({ description: 'Administrative state: false takes the port down.', resolve: (r) => r.doc.adminStateUp }),
  bindingHost: t.string({ description: "binding:host_id: the host whose agent wires it; '' while unbound.", resolve: (r) => r.doc.bindingHost }),
  securityGroupIds: t.stringList({ description: 'The security groups that filter its traffic.', resolve: (r) => [...r.doc.securityGroups] }),
  portSecurityEnabled: t.boolean({ description: 'Whether security groups and anti-spoofing apply.', resolve: (r) => r.doc.portSecurityEnabled }),
  allowedAddressPairs: t.field({ description: 'Extra addresses it may send from despite anti-spoofing.', type: [AddressPair], resolve: (r) => [...r.doc.allowedAddressPairs] }),
  status: t.field({ type: PortStatus, description: 'DOWN until the agent has wired it, then ACTIVE (or ERROR).', resolve: (r) => r.doc.status }),
  statusReason: t.string({ description: 'Why it is ERROR, as the agent reported it.', nullable: true, resolve: (r) => r.doc.statusReason }),
}));

// ---- queries ----------------------------------------------------------------------------------

const PortFilter = builder.inputType('PortFilter', {
  description: 'Port fields to filter on; each given one must match exactly.',
  fields: (t) => ({
    deviceId: t.string({ required: false, description: 'Only ports used by this device (a router, a network for DHCP, a VM).' }),
    deviceOwner: t.string({ required: false, description: 'Only ports with this device owner, as Neutron spells it (network:router_interface, network:dhcp, compute:nova, ...).' }),
    macAddress: t.string({ required: false, description: 'Only the port with this MAC address (case-insensitive).' }),
    status: t.string({ required: false, description: 'Only ports in this status: ACTIVE, DOWN, BUILD or ERROR.' }),
  }),
});

builder.queryFields((t) => ({
  networks: t.connection({
    description: 'The networks the caller may see (its own, shared and external ones), paginated.',
    type: NetworkRef,
    args: { filter: t.arg({ type: ResourceFilter, required: false, description: 'Only the resources that match all of its fields.' }) },
    resolve: (_r, args, ctx) => listResources<Network>(ctx, 'network', args),
  }, withTotalCount),
  subnets: t.connection({
    description: 'The subnets the caller may see, paginated; filter.networkId narrows to one network.',
    type: SubnetRef,
    args: { filter: t.arg({ type: ResourceFilter, required: false, description: 'Only the resources that match all of its fields.' }) },
    resolve: (_r, args, ctx) => listResources<Subnet>(ctx, 'subnet', { ...args, filter: args.filter ? { ...args.filter, networkId: args.filter.networkId ? parseId(args.filter.networkId, 'Network') : null } : null }),
  }, withTotalCount),
  ports: t.connection({
    description: 'The ports the caller may see, paginated; filter.networkId narrows to one network.',
    type: PortRef,
    args: { filter: t.arg({ type: ResourceFilter, required: false, description: 'Only the resources that match all of its fields.' }), portFilter: t.arg({ type: PortFilter, required: false, description: 'Only the ports that match all of its port-specific fields.' }) },
    resolve: (_r, args, ctx) =>
      listResources<Port>(ctx, 'port', {
        ...args,
        filter: args.filter ? { ...args.filter, networkId: args.filter.networkId ? parseId(args.filter.networkId, 'Network') : null } : null,
        docFilter: { deviceId: args.portFilter?.deviceId ?? undefined, deviceOwner: args.portFilter?.deviceOwner ?? undefined, macAddress: args.portFilter?.macAddress?.toLowerCase() ?? undefined, status: args.portFilter?.status ?? undefined },
      }),
  }, withTotalCount),
}));

// ---- mutations --------------------------------------------------------------------------------

const base = {
  name: z.string().max(255).optional(),
  description: z.string().max(255).optional(),
  tags: z.array(z.string()).max(MAX_TAGS).optional(),
};


const networkSchema = z.object({
  ...base,
  id: clientId.optional(),
  adminStateUp: z.boolean().optional(),
  shared: z.boolean().optional(),
  external: z.boolean().optional().describe('router:external: whether routers may use it as their external gateway network (admin only). Default false.'),
  portSecurityEnabled: z.boolean().optional(),
  mtu: z.number().int().optional(),
  availabilityZoneHints: z.array(z.string().max(255)).optional().describe("Neutron's availability_zone_hints: the zones (agents' availabilityZone) its DHCP agents must be in; each must be a zone some agent registered in (AvailabilityZoneNotFound otherwise). Set on create only. Omitted or empty: any zone."),
  provider: z.object({ networkType: z.enum(['local', 'flat', 'vlan', 'vxlan']).describe('local | flat | vlan | vxlan'), physicalNetwork: z.string().nullish().describe('provider:physical_network: the physical network a flat or VLAN network is carried on; null for VXLAN and local.'), segmentationId: z.number().int().nullish().describe('provider:segmentation_id: the VLAN id (1-4094) or VXLAN VNI; null for flat and local, or to take one from the configured range.') }).meta({ id: 'ProviderInput', description: "The provider network of a network (admin): its type, physical network and segment id." }).optional(),
});

defineMutation('createNetwork', {
  description: 'Creates a network. Tenant networks get a VXLAN id from the configured range.',
  schema: z.preprocess((v) => clean(v as Record<string, unknown>), networkSchema),
  field: 'network',
  type: NetworkRef,
  run: async (input, ctx) => answerResource(ctx, 'network', 'Network', await createNetwork(ctx.services, ctx.caller, input, commandMetadata(ctx))),
});

defineMutation('updateNetwork', {
  description: 'Changes a network. Every update raises its revision.',
  schema: z.object({ id: idArg, expectedRevision: z.number().int().nullish(), ...base, name: z.string().max(255).nullish(), description: z.string().max(255).nullish(), tags: z.array(z.string()).nullish(), adminStateUp: z.boolean().nullish(), shared: z.boolean().nullish(), external: z.boolean().nullish().describe('router:external: whether routers may use it as their external gateway network (admin only); null leaves it unchanged.'), portSecurityEnabled: z.boolean().nullish(), mtu: z.number().int().nullish() }),
  field: 'network',
  type: NetworkRef,
  run: async (input, ctx) => {
    const id = parseId(input.id, 'Network');
    return answerResource(ctx, 'network', 'Network', await updateNetwork(ctx.services, ctx.caller, id, changesOf(input), undefIfNull(input.expectedRevision), commandMetadata(ctx)));
  },
});

defineMutation('deleteNetwork', {
  description: 'Deletes a network with its subnets and DHCP port; NetworkInUse while other ports exist.',
  schema: z.object({ id: idArg, expectedRevision: z.number().int().nullish() }),
  field: 'deleted',
  type: DeletedRef,
  run: async (input, ctx) => answerDeleted(await deleteNetwork(ctx.services, ctx.caller, parseId(input.id, 'Network'), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});

const poolSchema = z.object({ start: z.string().describe('First address of the range, inside the CIDR.'), end: z.string().describe('Last address of the range (inclusive), inside the CIDR.') }).meta({ id: 'AllocationPoolInput', description: "A range of addresses of the subnet that ports get automatic addresses from." });
const routeSchema = z.object({ destination: z.string().describe('Destination CIDR, such as 10.1.0.0/24 or 0.0.0.0/0.'), nexthop: z.string().describe('Next hop address, on the subnet.') }).meta({ id: 'HostRouteInput', description: "A route DHCP hands to instances on the subnet." });
const v6mode = z.enum(['slaac', 'dhcpv6-stateful', 'dhcpv6-stateless']);

defineMutation('createSubnet', {
  description: 'Creates a subnet. Omit gatewayIp for the default gateway; pass null for none.',
  schema: z.object({
    ...base, name: z.string().max(255).nullish(), description: z.string().max(255).nullish(), tags: z.array(z.string()).nullish(),
    id: clientId.nullish(), networkId: idArg, ipVersion: z.union([z.literal(4), z.literal(6)]).describe('IP version of the subnet: 4 or 6; must match the CIDR.'), cidr: z.string().min(1).describe('The address block in CIDR notation, such as 10.0.0.0/24 or 2001:db8::/64.'),
    gatewayIp: z.string().nullish().describe("The router's address on the subnet. Omit for the first host address of the CIDR; null for no gateway."), allocationPools: z.array(poolSchema).nullish(), enableDhcp: z.boolean().nullish().describe('Whether the DHCP server answers on the subnet. Default true.'),
    dnsNameservers: z.array(z.string()).nullish().describe('DNS server addresses DHCP hands out, in order. Default none.'), hostRoutes: z.array(routeSchema).nullish(), ipv6RaMode: v6mode.nullish(), ipv6AddressMode: v6mode.nullish(),
  }),
  field: 'subnet',
  type: SubnetRef,
  run: async (input, ctx) => {
    // `gatewayIp: null` means "no gateway"; an absent one means "the default".
    const raw = input as Record<string, unknown>;
    const gateway = 'gatewayIp' in raw ? { gatewayIp: input.gatewayIp ?? null } : {};
    const rest = clean({ ...input, gatewayIp: undefined, networkId: parseId(input.networkId, 'Network') });
    return answerResource(ctx, 'subnet', 'Subnet', await createSubnet(ctx.services, ctx.caller, { ...rest, ...gateway }, commandMetadata(ctx)));
  },
});

defineMutation('updateSubnet', {
  description: 'Changes a subnet: name, gateway, pools, DHCP, DNS servers, host routes.',
  schema: z.object({
    id: idArg, expectedRevision: z.number().int().nullish(), name: z.string().max(255).nullish(), description: z.string().max(255).nullish(), tags: z.array(z.string()).nullish(),
    gatewayIp: z.string().nullish().describe("The router's address on the subnet; null for no gateway, omit to leave it unchanged."), allocationPools: z.array(poolSchema).nullish(), enableDhcp: z.boolean().nullish().describe('Whether the DHCP server answers on the subnet; null leaves it unchanged.'), dnsNameservers: z.array(z.string()).nullish().describe('DNS server addresses DHCP hands out, in order; replaces the list; null leaves it unchanged.'), hostRoutes: z.array(routeSchema).nullish(),
  }),
  field: 'subnet',
  type: SubnetRef,
  run: async (input, ctx) => {
    const raw = input as Record<string, unknown>;
    const changes = { ...changesOf(input), ...('gatewayIp' in raw ? { gatewayIp: input.gatewayIp ?? null } : {}) };
    return answerResource(ctx, 'subnet', 'Subnet', await updateSubnet(ctx.services, ctx.caller, parseId(input.id, 'Subnet'), changes, undefIfNull(input.expectedRevision), commandMetadata(ctx)));
  },
});

defineMutation('deleteSubnet', {
  description: 'Deletes a subnet; SubnetInUse while ports other than the DHCP port hold addresses from it.',
  schema: z.object({ id: idArg, expectedRevision: z.number().int().nullish() }),
  field: 'deleted',
  type: DeletedRef,
  run: async (input, ctx) => answerDeleted(await deleteSubnet(ctx.services, ctx.caller, parseId(input.id, 'Subnet'), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});

const fixedIpSchema = z.object({ subnetId: z.string().nullish(), ipAddress: z.string().nullish() }).meta({ id: 'FixedIpInput', description: "An address of a port: a subnet (an automatic address from it), an address, or both." }).transform((f) => clean({ subnetId: f.subnetId ? parseId(f.subnetId, 'Subnet') : undefined, ipAddress: f.ipAddress ?? undefined }));
const pairSchema = z.object({ ipAddress: z.string(), macAddress: z.string().nullish() }).meta({ id: 'AllowedAddressPairInput', description: "An extra address (and MAC) a port may send from despite anti-spoofing." }).transform((p) => clean(p));
const portFields = {
  name: z.string().max(255).nullish(), description: z.string().max(255).nullish(), tags: z.array(z.string()).nullish(),
  fixedIps: z.array(fixedIpSchema).nullish().describe('Omit for an address from each subnet as Neutron does; [] for none.'), deviceOwner: z.string().max(255).nullish(), deviceId: z.string().max(255).nullish(), adminStateUp: z.boolean().nullish(),
  bindingHost: z.string().max(255).nullish().describe("binding:host_id: the host whose agent wires the port; the port stays unbound (DOWN) while it is empty."), securityGroupIds: z.array(z.string()).nullish().describe("The security groups that filter its traffic (uuids or global ids); [] for none. Omitted on create: the project's default group."), portSecurityEnabled: z.boolean().nullish(), allowedAddressPairs: z.array(pairSchema).nullish(),
};
const toPortChanges = (i: z.infer<z.ZodObject<typeof portFields>>) => {
  const { securityGroupIds, ...rest } = i;
  return clean({ ...rest, securityGroups: securityGroupIds?.map((g) => parseId(g, 'SecurityGroup')) });
};

defineMutation('createPort', {
  description: 'Creates a port; with no fixedIps it takes an address from each subnet (random among the first free, as Neutron spreads them).',
  schema: z.object({ id: clientId.nullish(), networkId: idArg, macAddress: z.string().nullish(), ...portFields }),
  field: 'port',
  type: PortRef,
  run: async (input, ctx) => {
    const { id, networkId, macAddress, ...rest } = input;
    const port = { ...toPortChanges(rest), networkId: parseId(networkId, 'Network'), ...clean({ id, macAddress }) };
    return answerCreated(ctx, 'port', 'Port', await createPort(ctx.services, ctx.caller, port, commandMetadata(ctx)));
  },
});

defineMutation('updatePort', {
  description: 'Changes a port. A new fixedIps list releases and allocates addresses atomically. macAddress is admin-only and refused (PortBound) once the port is bound; its EUI-64 (SLAAC) addresses follow the new MAC.',
  schema: z.object({ id: idArg, expectedRevision: z.number().int().nullish(), macAddress: z.string().nullish(), ...portFields }),
  field: 'port',
  type: PortRef,
  run: async (input, ctx) => {
    const { id, expectedRevision, ...rest } = input;
    return answerResource(ctx, 'port', 'Port', await updatePort(ctx.services, ctx.caller, parseId(id, 'Port'), toPortChanges(rest), undefIfNull(expectedRevision), commandMetadata(ctx)));
  },
});

defineMutation('deletePort', {
  description: 'Deletes a port and frees its addresses. Router, floating IP and load balancer VIP (Octavia) ports answer ServicePortInUse.',
  schema: z.object({ id: idArg, expectedRevision: z.number().int().nullish() }),
  field: 'deleted',
  type: DeletedRef,
  run: async (input, ctx) => answerDeleted(await deletePort(ctx.services, ctx.caller, parseId(input.id, 'Port'), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});
