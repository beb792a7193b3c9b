import { z } from 'zod';
import {
  addRouterInterface, clearRouterGateway, createRouter, deleteRouter, removeRouterInterface, setRouterGateway, updateRouter,
} from '../../app/routing/routers.js';
import type { Network } from '../../domain/network/index.js';
import type { Port } from '../../domain/port/index.js';
import type { Router, RouterGateway, RouterInterface } from '../../domain/router/index.js';
import { commandMetadata } from '../context.js';
import { answerDeleted, answerResource, DeletedRef } from './answer.js';
import { builder } from './builder.js';
import { baseSchema, changesOf, clean, idArg, revisionSchema, undefIfNull, clientId } from './input.js';
import { defineMutation } from './mutation.js';
import { NetworkRef, PortRef } from './networking.js';
import { resourceNode, resourceRef } from './resource-node.js';
import { listResources, parseId, resourceLoader, ResourceFilter, withTotalCount } from './resources.js';

// ---- helpers shared by the routing and security schema files ------------------------------------

/** A filter whose networkId may be a global id. */
export const networkFilter = <F extends { networkId?: string | null }>(f: F | null | undefined) => (f ? { ...f, networkId: f.networkId ? parseId(f.networkId, 'Network') : null } : null);

// ---- types ------------------------------------------------------------------------------------

export const RouterRef = resourceRef<Router>('Router');

const RouterRoute = builder.objectRef<{ destination: string; nexthop: string }>('RouterRoute').implement({
  description: "An extra (static) route of the router, Neutron's extraroute.",
  fields: (t) => ({ destination: t.exposeString('destination', { description: 'The destination CIDR, in canonical form.' }), nexthop: t.exposeString('nexthop', { description: 'The next-hop address, on a subnet the router is attached to.' }) }),
});
const ExternalFixedIp = builder.objectRef<{ subnetId: string; ipAddress: string }>('ExternalFixedIp').implement({
  description: "An address of the router's gateway port on the external network.",
  fields: (t) => ({ subnetId: t.exposeString('subnetId', { description: 'The uuid of the external subnet the address is on.' }), ipAddress: t.exposeString('ipAddress', { description: 'The gateway address (the SNAT source address when enableSnat).' }) }),
});
const ExternalGatewayInfo = builder.objectRef<RouterGateway>('ExternalGatewayInfo').implement({
  description: 'The router\'s uplink: a network:router_gateway port on an external network.',
  fields: (t) => ({
    networkId: t.exposeString('networkId', { description: 'The uuid of the external network.' }),
    network: t.field({ type: NetworkRef, nullable: true, description: 'The external network; null when the caller cannot see it.', resolve: (g, _a, ctx) => resourceLoader<Network>(ctx, 'network').load(g.networkId) }),
    portId: t.exposeString('portId', { description: 'The uuid of the gateway port (device owner network:router_gateway).' }),
    enableSnat: t.exposeBoolean('enableSnat', { description: 'Whether traffic from the internal subnets is source-NATed to the gateway address.' }),
    externalFixedIps: t.field({ type: [ExternalFixedIp], description: 'The addresses of the gateway port.', resolve: (g) => g.externalFixedIps.map((f) => ({ subnetId: f.subnetId, ipAddress: f.ipAddress })) }),
  }),
});
const RouterInterfaceRef = builder.objectRef<RouterInterface>('RouterInterface').implement({
  description: 'One subnet the router is attached to, through a network:router_interface port.',
  fields: (t) => ({
    portId: t.exposeString('portId', { description: 'The uuid of the interface port (device owner network:router_interface).' }),
    port: t.field({ type: PortRef, nullable: true, description: 'The interface port; null when the caller cannot see it.', resolve: (i, _a, ctx) => resourceLoader<Port>(ctx, 'port').load(i.portId) }),
    subnetId: t.exposeString('subnetId', { description: 'The uuid of the attached subnet.' }),
    networkId: t.exposeString('networkId', { description: 'The uuid of the network of the subnet.' }),
    ipAddress: t.string({ description: "The router's address on the subnet (usually its gateway IP).", resolve: (i) => i.ip }),
    cidr: t.exposeString('cidr', { description: 'The CIDR of the attached subnet.' }),
  }),
});

resourceNode(RouterRef, 'router', 'A virtual router: interfaces on tenant subnets, an optional gateway with SNAT, extra routes.', (t) => ({
  adminStateUp: t.boolean({ description: 'Administrative state: false stops it forwarding without deleting it.', resolve: (r) => r.doc.adminStateUp }),
  status: t.string({ description: "Neutron's status: always ACTIVE here.", resolve: () => 'ACTIVE' }),
  ha: t.boolean({ description: 'Highly available: runs on several hosts, one active at a time by VRRP (see l3Agents).', resolve: (r) => r.doc.ha }),
  distributed: t.boolean({ description: 'Distributed (DVR): routed on every compute host instead of one network host.', resolve: (r) => r.doc.distributed }),
  routes: t.field({ type: [RouterRoute], description: 'Extra (static) routes; empty when none.', resolve: (r) => [...r.doc.routes] }),
  externalGatewayInfo: t.field({ type: ExternalGatewayInfo, nullable: true, description: 'Its gateway on an external network; null when it has none.', resolve: (r) => r.doc.gateway }),
  interfaces: t.field({ type: [RouterInterfaceRef], description: 'The subnets it is attached to.', resolve: (r) => [...r.doc.interfaces] }),
}));

builder.queryFields((t) => ({
  routers: t.connection({
    type: RouterRef,
    description: "Routers the caller may see: its project's, or every project's for an admin.",
    args: { filter: t.arg({ type: ResourceFilter, required: false, description: 'Only the resources that match all of its fields.' }) },
    resolve: (_r, args, ctx) => listResources<Router>(ctx, 'router', args),
  }, withTotalCount),
}));

// ---- mutations --------------------------------------------------------------------------------

const externalFixedIpSchema = z.object({ subnetId: z.string().nullish(), ipAddress: z.string().nullish() }).meta({ id: 'ExternalFixedIpInput', description: "An address of the router's gateway port on the external network." })
  .transform((f) => clean({ subnetId: f.subnetId ? parseId(f.subnetId, 'Subnet') : undefined, ipAddress: f.ipAddress ?? undefined }));
const flags = {
  adminStateUp: z.boolean().nullish(),
  ha: z.boolean().nullish().describe('Highly available (VRRP across hosts); admin only, default false. On update, changing it needs the router administratively down first.'),
  distributed: z.boolean().nullish().describe('Distributed (DVR); admin only, default false. On update, changing it needs the router administratively down first.'),
};

/** A gateway request, the same on createRouter (Neutron's external_gateway_info) and setRouterGateway. */
const gatewayFields = { networkId: idArg.describe('An external network.'), enableSnat: z.boolean().nullish().describe('Source-NAT the internal subnets to the gateway address (default true; false is admin-only in Neutron policy).'), externalFixedIps: z.array(externalFixedIpSchema).nullish() };
const gatewayOf = (g: z.infer<z.ZodObject<typeof gatewayFields>>) => clean({ networkId: parseId(g.networkId, 'Network'), enableSnat: g.enableSnat, externalFixedIps: g.externalFixedIps });

defineMutation('createRouter', {
  description: 'Creates a router. ha and distributed are admin-only. externalGatewayInfo sets its gateway as setRouterGateway does, in the same change: a refused gateway creates nothing.',
  schema: z.object({ ...baseSchema, id: clientId.nullish(), ...flags, availabilityZoneHints: z.array(z.string().max(255)).nullish().describe("Neutron's availability_zone_hints: the zones (agents' availabilityZone) its L3 agents must be in; each must be a zone some agent registered in (AvailabilityZoneNotFound otherwise). Set on create only. Omitted or empty: any zone."), externalGatewayInfo: z.object(gatewayFields).meta({ id: 'ExternalGatewayInfoInput', description: 'The router\'s gateway on an external network, as setRouterGateway takes it.' }).nullish().describe('Sets the gateway in the same change as the create.') }),
  field: 'router',
  type: RouterRef,
  run: async ({ externalGatewayInfo, ...input }, ctx) => {
    const router = { ...clean(input), ...(externalGatewayInfo ? { externalGatewayInfo: gatewayOf(externalGatewayInfo) } : {}) };
    return answerResource(ctx, 'router', 'Router', await createRouter(ctx.services, ctx.caller, router, commandMetadata(ctx)));
  },
});

defineMutation('updateRouter', {
  description: 'Changes a router. `routes` replaces all extra routes; each nexthop must be on a connected subnet.',
  schema: z.object({ id: idArg, ...revisionSchema, ...baseSchema, ...flags, routes: z.array(z.object({ destination: z.string().describe('The destination CIDR (0.0.0.0/0 allowed).'), nexthop: z.string().describe('The next-hop address: on a subnet the router is attached to.') }).meta({ id: 'RouterRouteInput', description: "A static route of the router." })).nullish() }),
  field: 'router',
  type: RouterRef,
  run: async (input, ctx) => answerResource(ctx, 'router', 'Router',
    await updateRouter(ctx.services, ctx.caller, parseId(input.id, 'Router'), changesOf(input), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});

defineMutation('deleteRouter', {
  description: 'Deletes a router and its gateway port; RouterInUse while it has interfaces.',
  schema: z.object({ id: idArg, ...revisionSchema }),
  field: 'deleted',
  type: DeletedRef,
  run: async (input, ctx) => answerDeleted(await deleteRouter(ctx.services, ctx.caller, parseId(input.id, 'Router'), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});

defineMutation('setRouterGateway', {
  description: 'Sets or replaces the external gateway: a port with an address on the external network. enableSnat (default true) and externalFixedIps are admin-only.',
  schema: z.object({ id: idArg.describe('The router.'), ...revisionSchema, ...gatewayFields }),
  field: 'router',
  type: RouterRef,
  run: async (input, ctx) => answerResource(ctx, 'router', 'Router',
    await setRouterGateway(ctx.services, ctx.caller, parseId(input.id, 'Router'), gatewayOf(input), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});

defineMutation('clearRouterGateway', {
  description: 'Removes the gateway and its port; RouterExternalGatewayInUseByFloatingIp while floating IPs need it.',
  schema: z.object({ id: idArg, ...revisionSchema }),
  field: 'router',
  type: RouterRef,
  run: async (input, ctx) => answerResource(ctx, 'router', 'Router',
    await clearRouterGateway(ctx.services, ctx.caller, parseId(input.id, 'Router'), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});

const interfaceSchema = z.object({ id: idArg.describe('The router.'), subnetId: z.string().nullish().describe('Exactly one of subnetId and portId.'), portId: z.string().nullish() });
const interfaceOf = (input: z.infer<typeof interfaceSchema>) =>
  clean({ subnetId: input.subnetId ? parseId(input.subnetId, 'Subnet') : undefined, portId: input.portId ? parseId(input.portId, 'Port') : undefined });

defineMutation('addRouterInterface', {
  description: 'Attaches a subnet (a new network:router_interface port takes its gateway address) or an unbound port.',
  schema: interfaceSchema,
  field: 'router',
  type: RouterRef,
  run: async (input, ctx) => answerResource(ctx, 'router', 'Router',
    await addRouterInterface(ctx.services, ctx.caller, parseId(input.id, 'Router'), interfaceOf(input), commandMetadata(ctx))),
});

defineMutation('removeRouterInterface', {
  description: 'Detaches a subnet or port and deletes the interface port; RouterInterfaceInUseByFloatingIP while floating IPs need it.',
  schema: interfaceSchema,
  field: 'router',
  type: RouterRef,
  run: async (input, ctx) => answerResource(ctx, 'router', 'Router',
    await removeRouterInterface(ctx.services, ctx.caller, parseId(input.id, 'Router'), interfaceOf(input), commandMetadata(ctx))),
});
