import { z } from 'zod';
import {
  associateFloatingIp, createFloatingIp, deleteFloatingIp, disassociateFloatingIp, updateFloatingIp,
} from '../../app/routing/floating-ips.js';
import type { FloatingIp } from '../../domain/floating-ip/index.js';
import type { Network } from '../../domain/network/index.js';
import type { Port } from '../../domain/port/index.js';
import type { Router } from '../../domain/router/index.js';
import { commandMetadata } from '../context.js';
import { answerDeleted, answerResource, DeletedRef } from './answer.js';
import { builder } from './builder.js';
import { FloatingIpStatus } from './enums.js';
import { baseSchema, changesOf, clean, idArg, revisionSchema, undefIfNull, clientId } from './input.js';
import { defineMutation } from './mutation.js';
import { NetworkRef, PortRef } from './networking.js';
import { resourceNode, resourceRef } from './resource-node.js';
import { listResources, parseId, resourceLoader, ResourceFilter, withTotalCount } from './resources.js';
import { networkFilter, RouterRef } from './routers.js';

export const FloatingIpRef = resourceRef<FloatingIp>('FloatingIp');

resourceNode(FloatingIpRef, 'floatingip', 'An address on an external network, NATed to a fixed IP of a port through a router.', (t) => ({
  floatingNetworkId: t.string({ description: 'The external network the address comes from.', resolve: (r) => r.doc.floatingNetworkId }),
  floatingNetwork: t.field({ description: 'The external network the address comes from.', type: NetworkRef, nullable: true, resolve: (r, _a, ctx) => resourceLoader<Network>(ctx, 'network').load(r.doc.floatingNetworkId) }),
  floatingSubnetId: t.string({ description: 'The subnet of the external network the address comes from.', resolve: (r) => r.doc.floatingSubnetId }),
  floatingIpAddress: t.string({ description: 'The public address.', resolve: (r) => r.doc.floatingIpAddress }),
  floatingPortId: t.string({ description: 'The hidden network:floatingip port holding the address.', resolve: (r) => r.doc.floatingPortId }),
  portId: t.string({ description: 'The port it is associated with; null: not associated.', nullable: true, resolve: (r) => r.doc.association?.portId ?? null }),
  port: t.field({ description: 'The port it is associated with.', type: PortRef, nullable: true, resolve: (r, _a, ctx) => (r.doc.association ? resourceLoader<Port>(ctx, 'port').load(r.doc.association.portId) : null) }),
  fixedIpAddress: t.string({ description: 'The fixed IP of the port it is NATed to.', nullable: true, resolve: (r) => r.doc.association?.fixedIpAddress ?? null }),
  routerId: t.string({ description: 'The router that does the NAT.', nullable: true, resolve: (r) => r.doc.association?.routerId ?? null }),
  router: t.field({ description: 'The router that does the NAT.', type: RouterRef, nullable: true, resolve: (r, _a, ctx) => (r.doc.association ? resourceLoader<Router>(ctx, 'router').load(r.doc.association.routerId) : null) }),
  status: t.field({ type: FloatingIpStatus, description: 'DOWN until the agent has wired it, then ACTIVE (or ERROR).', resolve: (r) => r.doc.status }),
  statusReason: t.string({ description: 'Why it is ERROR, as the agent reported it.', nullable: true, resolve: (r) => r.doc.statusReason }),
}));

const FloatingIpFilter = builder.inputType('FloatingIpFilter', {
  description: 'Floating IP fields to filter on; each given one must match exactly.',
  fields: (t) => ({ floatingIpAddress: t.string({ required: false, description: 'Only the floating IP with this public address.' }), status: t.string({ required: false, description: 'Only floating IPs in this status: ACTIVE, DOWN or ERROR.' }) }),
});

builder.queryFields((t) => ({
  floatingIps: t.connection({
    description: 'The floating IPs the caller may see, paginated.',
    type: FloatingIpRef,
    args: { filter: t.arg({ type: ResourceFilter, required: false, description: 'networkId: the floating network.' }), floatingIpFilter: t.arg({ type: FloatingIpFilter, required: false, description: 'Only the floating IPs that match all of its fields.' }) },
    resolve: (_r, args, ctx) =>
      listResources<FloatingIp>(ctx, 'floatingip', {
        ...args, filter: networkFilter(args.filter),
        docFilter: { floatingIpAddress: args.floatingIpFilter?.floatingIpAddress ?? undefined, status: args.floatingIpFilter?.status ?? undefined },
      }),
  }, withTotalCount),
}));

const portRef = (id: string | null | undefined) => (id ? parseId(id, 'Port') : undefined);

defineMutation('createFloatingIp', {
  description: 'Allocates an address on an external network (the one asked for, else a free one); associated at once when portId is given. Status DOWN.',
  schema: z.object({
    ...baseSchema, id: clientId.nullish(), floatingNetworkId: idArg.describe('The external network to allocate the address on (uuid or global id).'), floatingIpAddress: z.string().nullish().describe('The address to allocate (admin); null: a free one.'), subnetId: z.string().nullish(),
    portId: z.string().nullish(), fixedIpAddress: z.string().nullish().describe('Required when the port has several IPv4 addresses.'),
  }),
  field: 'floatingIp',
  type: FloatingIpRef,
  run: async (input, ctx) => {
    const fip = clean({
      ...input, floatingNetworkId: parseId(input.floatingNetworkId, 'Network'), subnetId: input.subnetId ? parseId(input.subnetId, 'Subnet') : undefined, portId: portRef(input.portId),
    });
    return answerResource(ctx, 'floatingip', 'FloatingIP', await createFloatingIp(ctx.services, ctx.caller, fip, commandMetadata(ctx)));
  },
});

defineMutation('updateFloatingIp', {
  description: 'Changes a floating IP\'s name, description or tags. Use associateFloatingIp / disassociateFloatingIp to move it.',
  schema: z.object({ id: idArg, ...revisionSchema, ...baseSchema }),
  field: 'floatingIp',
  type: FloatingIpRef,
  run: async (input, ctx) => answerResource(ctx, 'floatingip', 'FloatingIP',
    await updateFloatingIp(ctx.services, ctx.caller, parseId(input.id, 'FloatingIp'), changesOf(input), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});

defineMutation('associateFloatingIp', {
  description: 'Points the floating IP at a fixed IP of a port (moving it if associated). The port\'s subnet needs a router with its gateway on the floating network.',
  schema: z.object({ id: idArg, ...revisionSchema, portId: idArg, fixedIpAddress: z.string().nullish().describe('The fixed IP of the port to NAT to; required when the port has several IPv4 addresses.') }),
  field: 'floatingIp',
  type: FloatingIpRef,
  run: async (input, ctx) => answerResource(ctx, 'floatingip', 'FloatingIP',
    await associateFloatingIp(ctx.services, ctx.caller, parseId(input.id, 'FloatingIp'), parseId(input.portId, 'Port'), undefIfNull(input.fixedIpAddress), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});

defineMutation('disassociateFloatingIp', {
  description: 'Detaches the floating IP from its port; it keeps its address.',
  schema: z.object({ id: idArg, ...revisionSchema }),
  field: 'floatingIp',
  type: FloatingIpRef,
  run: async (input, ctx) => answerResource(ctx, 'floatingip', 'FloatingIP',
    await disassociateFloatingIp(ctx.services, ctx.caller, parseId(input.id, 'FloatingIp'), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});

defineMutation('deleteFloatingIp', {
  description: 'Releases the floating IP and its address.',
  schema: z.object({ id: idArg, ...revisionSchema }),
  field: 'deleted',
  type: DeletedRef,
  run: async (input, ctx) => answerDeleted(await deleteFloatingIp(ctx.services, ctx.caller, parseId(input.id, 'FloatingIp'), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});
