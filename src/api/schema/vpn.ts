import { z } from 'zod';
import {
  createEndpointGroup, createIkePolicy, createIpsecPolicy, createIpsecSiteConnection, createVpnService,
  deleteEndpointGroup, deleteIkePolicy, deleteIpsecPolicy, deleteIpsecSiteConnection, deleteVpnService,
  updateEndpointGroup, updateIkePolicy, updateIpsecPolicy, updateIpsecSiteConnection, updateVpnService,
} from '../../app/vpn/vpn.js';
import type { EndpointGroup, IkePolicy, IpsecPolicy, IpsecSiteConnection, VpnService } from '../../domain/vpn/index.js';
import { commandMetadata } from '../context.js';
import { answerDeleted, answerResource, DeletedRef } from './answer.js';
import { builder } from './builder.js';
import { PfsGroup, VpnStatus } from './enums.js';
import { baseSchema, changesOf, clean, clientId, idArg, revisionSchema, undefIfNull } from './input.js';
import { defineMutation } from './mutation.js';
import { resourceNode, resourceRef } from './resource-node.js';
import { listResources, parseId, resourceLoader, ResourceFilter, withTotalCount } from './resources.js';

/** VPNaaS v2 (reference 6.2). The PSK is write-only: no type here has a field that returns it. */

export const IkePolicyRef = resourceRef<IkePolicy>('IkePolicy');
export const IpsecPolicyRef = resourceRef<IpsecPolicy>('IpsecPolicy');
export const EndpointGroupRef = resourceRef<EndpointGroup>('EndpointGroup');
export const VpnServiceRef = resourceRef<VpnService>('VpnService');
export const IpsecSiteConnectionRef = resourceRef<IpsecSiteConnection>('IpsecSiteConnection');

const Lifetime = builder.objectRef<{ units: string; value: number }>('VpnLifetime').implement({
  description: 'How long a security association lives.',
  fields: (t) => ({ units: t.exposeString('units', { description: 'Always seconds.' }), value: t.exposeInt('value', { description: 'How many.' }) }),
});
const Dpd = builder.objectRef<{ action: string; interval: number; timeout: number }>('VpnDpd').implement({
  description: 'Dead peer detection: action hold | clear | restart | disabled | restart-by-peer; timeout > interval (seconds).',
  fields: (t) => ({ action: t.exposeString('action', { description: 'What to do when the peer stops answering.' }), interval: t.exposeInt('interval', { description: 'Seconds between checks.' }), timeout: t.exposeInt('timeout', { description: 'Seconds of silence before the peer counts as dead.' }) }),
});

resourceNode(IkePolicyRef, 'ikepolicy', 'IKE (phase 1) parameters of site connections.', (t) => ({
  authAlgorithm: t.string({ description: 'Integrity algorithm (Neutron spelling, e.g. sha256).', resolve: (r) => r.doc.authAlgorithm }),
  encryptionAlgorithm: t.string({ description: 'Encryption algorithm (Neutron spelling, e.g. aes-128: a String, since it has dashes).', resolve: (r) => r.doc.encryptionAlgorithm }),
  phase1NegotiationMode: t.string({ description: 'main or aggressive.', resolve: (r) => r.doc.phase1NegotiationMode }),
  ikeVersion: t.string({ description: 'v1 or v2.', resolve: (r) => r.doc.ikeVersion }),
  pfs: t.field({ description: 'Diffie-Hellman group.', type: PfsGroup, resolve: (r) => r.doc.pfs }),
  lifetime: t.field({ description: 'Lifetime of the IKE security association.', type: Lifetime, resolve: (r) => r.doc.lifetime }),
}));

resourceNode(IpsecPolicyRef, 'ipsecpolicy', 'IPsec (phase 2) parameters of site connections.', (t) => ({
  transformProtocol: t.string({ description: 'esp, ah or ah-esp.', resolve: (r) => r.doc.transformProtocol }),
  encapsulationMode: t.string({ description: 'tunnel or transport.', resolve: (r) => r.doc.encapsulationMode }),
  authAlgorithm: t.string({ description: 'Integrity algorithm.', resolve: (r) => r.doc.authAlgorithm }),
  encryptionAlgorithm: t.string({ description: 'Encryption algorithm.', resolve: (r) => r.doc.encryptionAlgorithm }),
  pfs: t.field({ description: 'Diffie-Hellman group.', type: PfsGroup, resolve: (r) => r.doc.pfs }),
  lifetime: t.field({ description: 'Lifetime of the IPsec security association.', type: Lifetime, resolve: (r) => r.doc.lifetime }),
}));

resourceNode(EndpointGroupRef, 'endpoint_group', 'Local subnets (type subnet) or peer CIDRs (type cidr) of site connections.', (t) => ({
  type: t.string({ description: 'subnet (local subnets) or cidr (peer CIDRs).', resolve: (r) => r.doc.type }),
  endpoints: t.stringList({ description: 'Subnet ids or CIDRs, by type.', resolve: (r) => [...r.doc.endpoints] }),
}));

resourceNode(VpnServiceRef, 'vpnservice', 'VPN on a router with an external gateway: its site connections run in the router.', (t) => ({
  routerId: t.string({ description: 'The router it runs on.', resolve: (r) => r.doc.routerId }),
  adminStateUp: t.boolean({ description: 'false: its connections are down.', resolve: (r) => r.doc.adminStateUp }),
  externalV4Ip: t.string({ nullable: true, description: 'The router gateway address the peers connect to.', resolve: (r) => r.doc.externalV4Ip }),
}));

resourceNode(IpsecSiteConnectionRef, 'ipsec_site_connection', 'An IPsec tunnel from a VPN service to a peer. Its pre-shared key is write-only.', (t) => ({
  vpnServiceId: t.string({ description: 'The VPN service it belongs to.', resolve: (r) => r.doc.vpnServiceId }),
  vpnService: t.field({ description: 'The VPN service it belongs to.', type: VpnServiceRef, nullable: true, resolve: (r, _a, ctx) => resourceLoader<VpnService>(ctx, 'vpnservice').load(r.doc.vpnServiceId) }),
  ikePolicyId: t.string({ description: 'Its IKE policy.', resolve: (r) => r.doc.ikePolicyId }),
  ipsecPolicyId: t.string({ description: 'Its IPsec policy.', resolve: (r) => r.doc.ipsecPolicyId }),
  localEpGroupId: t.string({ description: 'Endpoint group of its local subnets.', resolve: (r) => r.doc.localEpGroupId }),
  peerEpGroupId: t.string({ description: 'Endpoint group of the peer CIDRs.', resolve: (r) => r.doc.peerEpGroupId }),
  peerAddress: t.string({ description: "The peer's public address.", resolve: (r) => r.doc.peerAddress }),
  peerId: t.string({ description: "The peer's IKE identity.", resolve: (r) => r.doc.peerId }),
  localId: t.string({ description: 'Empty: the router external address.', resolve: (r) => r.doc.localId }),
  mtu: t.int({ description: 'MTU of the tunnel.', resolve: (r) => r.doc.mtu }),
  initiator: t.string({ description: 'bi-directional | response-only', resolve: (r) => r.doc.initiator }),
  dpd: t.field({ description: 'Dead peer detection.', type: Dpd, resolve: (r) => r.doc.dpd }),
  adminStateUp: t.boolean({ description: 'false: the tunnel is down.', resolve: (r) => r.doc.adminStateUp }),
  status: t.field({ description: 'Whether the tunnel is up.', type: VpnStatus, resolve: (r) => r.doc.status }),
  statusReason: t.string({ nullable: true, description: 'Why it is DOWN or ERROR, as the IKE daemon logged it.', resolve: (r) => r.doc.statusReason ?? null }),
}));

builder.queryFields((t) => ({
  ikePolicies: t.connection({ description: 'IKE policies (phase 1) the caller may see.', type: IkePolicyRef, args: { filter: t.arg({ type: ResourceFilter, required: false, description: 'Only the resources that match all of its fields.' }) }, resolve: (_r, args, ctx) => listResources<IkePolicy>(ctx, 'ikepolicy', args) }, withTotalCount),
  ipsecPolicies: t.connection({ description: 'IPsec policies (phase 2) the caller may see.', type: IpsecPolicyRef, args: { filter: t.arg({ type: ResourceFilter, required: false, description: 'Only the resources that match all of its fields.' }) }, resolve: (_r, args, ctx) => listResources<IpsecPolicy>(ctx, 'ipsecpolicy', args) }, withTotalCount),
  endpointGroups: t.connection({ description: 'VPN endpoint groups (local subnets or peer CIDRs) the caller may see.', type: EndpointGroupRef, args: { filter: t.arg({ type: ResourceFilter, required: false, description: 'Only the resources that match all of its fields.' }) }, resolve: (_r, args, ctx) => listResources<EndpointGroup>(ctx, 'endpoint_group', args) }, withTotalCount),
  vpnServices: t.connection({ description: "VPN services (a router's VPN) the caller may see.", type: VpnServiceRef, args: { filter: t.arg({ type: ResourceFilter, required: false, description: 'Only the resources that match all of its fields.' }) }, resolve: (_r, args, ctx) => listResources<VpnService>(ctx, 'vpnservice', args) }, withTotalCount),
  ipsecSiteConnections: t.connection({
    type: IpsecSiteConnectionRef,
    description: 'IPsec site-to-site connections the caller may see, with their status.',
    args: { filter: t.arg({ type: ResourceFilter, required: false, description: 'Only the resources that match all of its fields.' }) },
    resolve: (_r, args, ctx) => listResources<IpsecSiteConnection>(ctx, 'ipsec_site_connection', args),
  }, withTotalCount),
}));

const deleteArgs = {
  schema: z.object({ id: idArg, ...revisionSchema }),
  field: 'deleted' as const,
  type: DeletedRef,
};

// ---- policies ----

const lifetimeSchema = z.object({ units: z.string().nullish().describe('Only seconds (the default).'), value: z.number().int().nullish().describe('How many units: at least 60 (default 3600).') }).meta({ id: 'VpnLifetimeInput', description: "How long a security association lives." }).nullish().describe('{units: seconds, value ≥ 60}, default 3600.');
const policyCommonSchema = {
  authAlgorithm: z.string().nullish().describe('sha1 (default), sha256, sha384, sha512, aes-xcbc, aes-cmac'),
  encryptionAlgorithm: z.string().nullish().describe('3des, aes-128 (default), aes-192, aes-256, aes-*-ctr'),
  pfs: z.string().nullish().describe('group2, group5 (default), group14, group15, group16, group19, group20, group21'),
  lifetime: lifetimeSchema,
};
const ikeSchema = { ...policyCommonSchema, phase1NegotiationMode: z.string().nullish().describe('main (default) | aggressive'), ikeVersion: z.string().nullish().describe('v1 (default) | v2') };
const ipsecSchema = { ...policyCommonSchema, transformProtocol: z.string().nullish().describe('esp (default) | ah | ah-esp'), encapsulationMode: z.string().nullish().describe('tunnel (default) | transport') };
const lifetimeOf = (l: { units?: string | null; value?: number | null } | null | undefined) => (l ? clean(l) : undefined);

defineMutation('createIkePolicy', {
  description: 'Creates an IKE policy (Neutron defaults for what is not given).',
  schema: z.object({ ...baseSchema, id: clientId.nullish(), ...ikeSchema }),
  field: 'ikePolicy',
  type: IkePolicyRef,
  run: async (input, ctx) => answerResource(ctx, 'ikepolicy', 'IkePolicy', await createIkePolicy(ctx.services, ctx.caller, { ...clean(input), lifetime: lifetimeOf(input.lifetime) }, commandMetadata(ctx))),
});

defineMutation('updateIkePolicy', {
  description: 'Changes an IKE policy.',
  schema: z.object({ id: idArg, ...revisionSchema, ...baseSchema, ...ikeSchema }),
  field: 'ikePolicy',
  type: IkePolicyRef,
  run: async (input, ctx) => answerResource(ctx, 'ikepolicy', 'IkePolicy',
    await updateIkePolicy(ctx.services, ctx.caller, parseId(input.id, 'IkePolicy'), { ...changesOf(input), lifetime: lifetimeOf(input.lifetime) }, undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});

defineMutation('deleteIkePolicy', {
  description: 'Deletes an IKE policy; IKEPolicyInUse while a site connection uses it.',
  ...deleteArgs,
  run: async (input, ctx) => answerDeleted(await deleteIkePolicy(ctx.services, ctx.caller, parseId(input.id, 'IkePolicy'), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});

defineMutation('createIpsecPolicy', {
  description: 'Creates an IPsec policy (Neutron defaults for what is not given).',
  schema: z.object({ ...baseSchema, id: clientId.nullish(), ...ipsecSchema }),
  field: 'ipsecPolicy',
  type: IpsecPolicyRef,
  run: async (input, ctx) => answerResource(ctx, 'ipsecpolicy', 'IpsecPolicy', await createIpsecPolicy(ctx.services, ctx.caller, { ...clean(input), lifetime: lifetimeOf(input.lifetime) }, commandMetadata(ctx))),
});

defineMutation('updateIpsecPolicy', {
  description: 'Changes an IPsec policy.',
  schema: z.object({ id: idArg, ...revisionSchema, ...baseSchema, ...ipsecSchema }),
  field: 'ipsecPolicy',
  type: IpsecPolicyRef,
  run: async (input, ctx) => answerResource(ctx, 'ipsecpolicy', 'IpsecPolicy',
    await updateIpsecPolicy(ctx.services, ctx.caller, parseId(input.id, 'IpsecPolicy'), { ...changesOf(input), lifetime: lifetimeOf(input.lifetime) }, undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});

defineMutation('deleteIpsecPolicy', {
  description: 'Deletes an IPsec policy; IPsecPolicyInUse while a site connection uses it.',
  ...deleteArgs,
  run: async (input, ctx) => answerDeleted(await deleteIpsecPolicy(ctx.services, ctx.caller, parseId(input.id, 'IpsecPolicy'), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});

// ---- endpoint groups ----

defineMutation('createEndpointGroup', {
  description: 'Creates an endpoint group: subnet ids (type subnet, the local side) or CIDRs (type cidr, the peer side). Endpoints never change.',
  schema: z.object({ ...baseSchema, id: clientId.nullish(), type: z.string().describe('subnet (local subnets, by id) or cidr (peer networks).'), endpoints: z.array(z.string()).max(1000).describe('Subnet ids or CIDRs, as type says.') }),
  field: 'endpointGroup',
  type: EndpointGroupRef,
  run: async (input, ctx) => answerResource(ctx, 'endpoint_group', 'EndpointGroup', await createEndpointGroup(ctx.services, ctx.caller, {
    ...clean(input), endpoints: input.type === 'subnet' ? input.endpoints.map((e) => parseId(e, 'Subnet')) : input.endpoints,
  }, commandMetadata(ctx))),
});

defineMutation('updateEndpointGroup', {
  description: 'Renames or re-describes an endpoint group.',
  schema: z.object({ id: idArg, ...revisionSchema, ...baseSchema }),
  field: 'endpointGroup',
  type: EndpointGroupRef,
  run: async (input, ctx) => answerResource(ctx, 'endpoint_group', 'EndpointGroup',
    await updateEndpointGroup(ctx.services, ctx.caller, parseId(input.id, 'EndpointGroup'), changesOf(input), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});

defineMutation('deleteEndpointGroup', {
  description: 'Deletes an endpoint group; EndpointGroupInUse while a site connection uses it.',
  ...deleteArgs,
  run: async (input, ctx) => answerDeleted(await deleteEndpointGroup(ctx.services, ctx.caller, parseId(input.id, 'EndpointGroup'), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});

// ---- VPN services ----

defineMutation('createVpnService', {
  description: 'Creates a VPN service on a router; RouterIsNotExternal when the router has no external gateway.',
  schema: z.object({ ...baseSchema, id: clientId.nullish(), routerId: idArg, adminStateUp: z.boolean().nullish() }),
  field: 'vpnService',
  type: VpnServiceRef,
  run: async (input, ctx) => answerResource(ctx, 'vpnservice', 'VpnService',
    await createVpnService(ctx.services, ctx.caller, { ...clean(input), routerId: parseId(input.routerId, 'Router') }, commandMetadata(ctx))),
});

defineMutation('updateVpnService', {
  description: 'Changes a VPN service (name, description, tags, admin state).',
  schema: z.object({ id: idArg, ...revisionSchema, ...baseSchema, adminStateUp: z.boolean().nullish() }),
  field: 'vpnService',
  type: VpnServiceRef,
  run: async (input, ctx) => answerResource(ctx, 'vpnservice', 'VpnService',
    await updateVpnService(ctx.services, ctx.caller, parseId(input.id, 'VpnService'), changesOf(input), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});

defineMutation('deleteVpnService', {
  description: 'Deletes a VPN service; VPNServiceInUse while it has site connections.',
  ...deleteArgs,
  run: async (input, ctx) => answerDeleted(await deleteVpnService(ctx.services, ctx.caller, parseId(input.id, 'VpnService'), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});

// ---- site connections ----

const connectionSchema = {
  ikePolicyId: z.string().nullish().describe('The IKE (phase 1) policy (uuid or global id); required on create.'),
  ipsecPolicyId: z.string().nullish().describe('The IPsec (phase 2) policy (uuid or global id); required on create.'),
  localEpGroupId: z.string().nullish().describe('An endpoint group of type subnet: subnets on the service router.'),
  peerEpGroupId: z.string().nullish().describe('An endpoint group of type cidr: the peer networks.'),
  peerAddress: z.string().nullish().describe("The peer gateway's public IPv4 or IPv6 address (an IP literal; required on create)."), peerId: z.string().nullish().describe('Default: the peer address.'), localId: z.string().nullish().describe('Local IKE identity; empty (the default): the router external address.'),
  psk: z.string().nullish().describe('Pre-shared key: write-only, stored sealed, never returned.'), mtu: z.number().int().nullish(),
  initiator: z.string().nullish().describe('bi-directional (default) | response-only'),
  dpd: z.object({ action: z.string().nullish().describe('hold (default), clear, restart, disabled or restart-by-peer: what to do when the peer stops answering.'), interval: z.number().int().nullish().describe('Seconds between checks (default 30); less than timeout.'), timeout: z.number().int().nullish() }).meta({ id: 'VpnDpdInput', description: "Dead peer detection: what to do when the peer stops answering, and how often to ask." }).nullish(),
  adminStateUp: z.boolean().nullish(),
};
type ConnectionArgs = { [K in keyof typeof connectionSchema]?: z.infer<(typeof connectionSchema)[K]> } & { name?: string | null; description?: string | null; tags?: string[] | null };
function connectionChanges(input: ConnectionArgs) {
  const ref = (v: string | null | undefined, typename: string) => (v ? parseId(v, typename) : undefined);
  return {
    ...clean({ name: input.name, description: input.description, tags: input.tags, peerAddress: input.peerAddress, peerId: input.peerId, localId: input.localId,
      psk: input.psk, mtu: input.mtu, initiator: input.initiator, adminStateUp: input.adminStateUp }),
    ...clean({ ikePolicyId: ref(input.ikePolicyId, 'IkePolicy'), ipsecPolicyId: ref(input.ipsecPolicyId, 'IpsecPolicy'),
      localEpGroupId: ref(input.localEpGroupId, 'EndpointGroup'), peerEpGroupId: ref(input.peerEpGroupId, 'EndpointGroup') }),
    ...(input.dpd ? { dpd: clean(input.dpd) } : {}),
  };
}

defineMutation('createIpsecSiteConnection', {
  description: 'Creates an IPsec site connection on a VPN service; it starts PENDING_CREATE and becomes ACTIVE when the tunnel is up.',
  schema: z.object({ ...baseSchema, id: clientId.nullish(), vpnServiceId: idArg.describe('The VPN service the connection runs on (uuid or global id).'), ...connectionSchema }),
  field: 'ipsecSiteConnection',
  type: IpsecSiteConnectionRef,
  run: async (input, ctx) => answerResource(ctx, 'ipsec_site_connection', 'IpsecSiteConnection', await createIpsecSiteConnection(ctx.services, ctx.caller, {
    ...(input.id ? { id: input.id } : {}), vpnServiceId: parseId(input.vpnServiceId, 'VpnService'), ...connectionChanges(input),
  }, commandMetadata(ctx))),
});

defineMutation('updateIpsecSiteConnection', {
  description: 'Changes a site connection (a new PSK included); the dataplane renegotiates it.',
  schema: z.object({ id: idArg, ...revisionSchema, ...baseSchema, ...connectionSchema }),
  field: 'ipsecSiteConnection',
  type: IpsecSiteConnectionRef,
  run: async (input, ctx) => answerResource(ctx, 'ipsec_site_connection', 'IpsecSiteConnection',
    await updateIpsecSiteConnection(ctx.services, ctx.caller, parseId(input.id, 'IpsecSiteConnection'), connectionChanges(input), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});

defineMutation('deleteIpsecSiteConnection', {
  description: 'Deletes a site connection: its tunnel is torn down.',
  ...deleteArgs,
  run: async (input, ctx) => answerDeleted(await deleteIpsecSiteConnection(ctx.services, ctx.caller, parseId(input.id, 'IpsecSiteConnection'), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});
