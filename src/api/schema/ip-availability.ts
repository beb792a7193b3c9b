import { createGraphQLError } from 'graphql-yoga';
import { networkIpTotals, subnetIpAvailability, type SubnetIpAvailability } from '../../domain/ipam/index.js';
import type { Network } from '../../domain/network/index.js';
import type { Subnet } from '../../domain/subnet/index.js';
import { builder } from './builder.js';
import { parseId, resourceLoader, type ResourceRecord } from './resources.js';

interface SubnetFigures extends SubnetIpAvailability {
  readonly subnet: Subnet;
}

interface NetworkFigures {
  readonly network: ResourceRecord<Network>;
  readonly subnets: readonly SubnetFigures[];
}

// Counts can pass 2^53 (an IPv6 /64 pool), so they travel as decimal strings, exactly.
const SubnetIpAvailabilityRef = builder.objectRef<SubnetFigures>('SubnetIpAvailability').implement({
  description: 'Used and total addresses of one subnet (Neutron subnet_ip_availability).',
  fields: (t) => ({
    subnetId: t.exposeString('subnetId', { description: 'The subnet uuid.' }),
    subnetName: t.string({ description: "The subnet's name ('' when it has none).", resolve: (s) => s.subnet.name }),
    cidr: t.string({ description: "The subnet's address block.", resolve: (s) => s.subnet.cidr }),
    ipVersion: t.int({ description: '4 or 6.', resolve: (s) => s.subnet.ipVersion }),
    totalIps: t.string({ description: 'Addresses in the allocation pools, in decimal.', resolve: (s) => s.totalIps.toString() }),
    usedIps: t.string({ description: 'Addresses held by ports in the subnet (gateway, DHCP and router ports included), in decimal.', resolve: (s) => String(s.usedIps) }),
  }),
});

const NetworkIpAvailabilityRef = builder.objectRef<NetworkFigures>('NetworkIpAvailability').implement({
  description: 'Used and total addresses of a network and each of its subnets (Neutron network-ip-availability).',
  fields: (t) => ({
    networkId: t.string({ description: 'The network uuid.', resolve: (n) => n.network.id }),
    networkName: t.string({ description: "The network's name ('' when it has none).", resolve: (n) => n.network.doc.name }),
    projectId: t.string({ description: 'The project that owns the network.', resolve: (n) => n.network.project }),
    totalIps: t.string({ description: 'Sum over the subnets, in decimal.', resolve: (n) => networkIpTotals(n.subnets).totalIps.toString() }),
    usedIps: t.string({ description: 'Sum over the subnets, in decimal.', resolve: (n) => String(networkIpTotals(n.subnets).usedIps) }),
    subnetIpAvailability: t.field({ type: [SubnetIpAvailabilityRef], description: 'The figures of each of its subnets.', resolve: (n) => [...n.subnets] }),
  }),
});

builder.queryFields((t) => ({
  networkIpAvailability: t.field({
    type: NetworkIpAvailabilityRef,
    nullable: true,
    description: 'Used and total addresses of a network, per subnet. Admin only, as Neutron\'s get_network_ip_availability; null for no such network.',
    args: { networkId: t.arg.string({ required: true, description: 'The network (uuid or global id).' }) },
    resolve: async (_r, args, ctx) => {
      if (!ctx.caller.isAdmin) throw createGraphQLError('(rule:get_network_ip_availability) is disallowed by policy', { extensions: { code: 'PolicyNotAuthorized' } });
      const network = await resourceLoader<Network>(ctx, 'network').load(parseId(args.networkId, 'Network'));
      if (!network) return null;
      const subnets = (await resourceLoader<Subnet>(ctx, 'subnet').loadMany(network.doc.subnets.map((s) => s.id)))
        .filter((x): x is ResourceRecord<Subnet> => x !== null && !(x instanceof Error))
        .map((r) => r.doc);
      const rows = subnets.length === 0 ? [] : await ctx.services.sql<{ subnet_id: string; used: bigint }[]>`
        select subnet_id, count(*) as used from rm_ip_allocations where subnet_id = any(${subnets.map((s) => s.id)}::uuid[]) group by subnet_id`;
      const used = new Map(rows.map((r) => [r.subnet_id, Number(r.used)]));
      return { network, subnets: subnets.map((subnet) => ({ ...subnetIpAvailability(subnet, used.get(subnet.id) ?? 0), subnet })) };
    },
  }),
}));
