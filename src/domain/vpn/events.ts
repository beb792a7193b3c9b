import { z } from 'zod';
import { idSchema, resourceBaseFields, resourceBasePatchFields, timestampSchema } from '../common/resource.js';
import { defineEvent, type EventOf } from '../event-definition.js';

/**
 * VPNaaS v2 (reference 6.2): IKE and IPsec policies, endpoint groups (local subnets, peer CIDRs),
 * VPN services on routers, and IPsec site connections joining them. The pre-shared key travels in
 * events only sealed (`pskSealed`, src/store/seal/secret-key.ts): never in clear in the log.
 */

export const AUTH_ALGORITHMS = ['sha1', 'sha256', 'sha384', 'sha512', 'aes-xcbc', 'aes-cmac'] as const;
export const ENCRYPTION_ALGORITHMS = ['3des', 'aes-128', 'aes-192', 'aes-256', 'aes-128-ctr', 'aes-192-ctr', 'aes-256-ctr'] as const;
export const PFS_GROUPS = ['group2', 'group5', 'group14', 'group15', 'group16', 'group19', 'group20', 'group21'] as const;
export const VPN_STATUSES = ['PENDING_CREATE', 'ACTIVE', 'DOWN', 'ERROR'] as const;
export const DPD_ACTIONS = ['hold', 'clear', 'restart', 'disabled', 'restart-by-peer'] as const;

const lifetime = z.object({ units: z.literal('seconds'), value: z.number().int() });

const ikeFields = {
  authAlgorithm: z.enum(AUTH_ALGORITHMS),
  encryptionAlgorithm: z.enum(ENCRYPTION_ALGORITHMS),
  phase1NegotiationMode: z.enum(['main', 'aggressive']),
  ikeVersion: z.enum(['v1', 'v2']),
  lifetime,
  pfs: z.enum(PFS_GROUPS),
};
export const IkePolicyCreated = defineEvent('IkePolicyCreated', z.object({ ...resourceBaseFields, ...ikeFields }));
export const IkePolicyUpdated = defineEvent(
  'IkePolicyUpdated',
  z.object({
    id: idSchema,
    changes: z.object({ ...resourceBasePatchFields, ...z.object(ikeFields).partial().shape }),
    updatedAt: timestampSchema,
  }),
);
export const IkePolicyDeleted = defineEvent('IkePolicyDeleted', z.object({ id: idSchema, deletedAt: timestampSchema }));
export const ikePolicyEvents = [IkePolicyCreated, IkePolicyUpdated, IkePolicyDeleted] as const;

const ipsecFields = {
  transformProtocol: z.enum(['esp', 'ah', 'ah-esp']),
  encapsulationMode: z.enum(['tunnel', 'transport']),
  authAlgorithm: z.enum(AUTH_ALGORITHMS),
  encryptionAlgorithm: z.enum(ENCRYPTION_ALGORITHMS),
  lifetime,
  pfs: z.enum(PFS_GROUPS),
};
export const IpsecPolicyCreated = defineEvent('IpsecPolicyCreated', z.object({ ...resourceBaseFields, ...ipsecFields }));
export const IpsecPolicyUpdated = defineEvent(
  'IpsecPolicyUpdated',
  z.object({
    id: idSchema,
    changes: z.object({ ...resourceBasePatchFields, ...z.object(ipsecFields).partial().shape }),
    updatedAt: timestampSchema,
  }),
);
export const IpsecPolicyDeleted = defineEvent('IpsecPolicyDeleted', z.object({ id: idSchema, deletedAt: timestampSchema }));
export const ipsecPolicyEvents = [IpsecPolicyCreated, IpsecPolicyUpdated, IpsecPolicyDeleted] as const;

/** `subnet`: subnet ids (local side); `cidr`: CIDRs (peer side). Endpoints never change. */
export const EndpointGroupCreated = defineEvent(
  'EndpointGroupCreated',
  z.object({ ...resourceBaseFields, type: z.enum(['subnet', 'cidr']), endpoints: z.array(z.string()) }),
);
export const EndpointGroupUpdated = defineEvent(
  'EndpointGroupUpdated',
  z.object({ id: idSchema, changes: z.object(resourceBasePatchFields), updatedAt: timestampSchema }),
);
export const EndpointGroupDeleted = defineEvent('EndpointGroupDeleted', z.object({ id: idSchema, deletedAt: timestampSchema }));
export const endpointGroupEvents = [EndpointGroupCreated, EndpointGroupUpdated, EndpointGroupDeleted] as const;

export const VpnServiceCreated = defineEvent(
  'VpnServiceCreated',
  z.object({ ...resourceBaseFields, routerId: idSchema, adminStateUp: z.boolean(), externalV4Ip: z.string().nullable() }),
);
export const VpnServiceUpdated = defineEvent(
  'VpnServiceUpdated',
  z.object({
    id: idSchema,
    changes: z.object({ ...resourceBasePatchFields, adminStateUp: z.boolean().optional() }),
    updatedAt: timestampSchema,
  }),
);
export const VpnServiceDeleted = defineEvent('VpnServiceDeleted', z.object({ id: idSchema, deletedAt: timestampSchema }));
export const vpnServiceEvents = [VpnServiceCreated, VpnServiceUpdated, VpnServiceDeleted] as const;

const dpd = z.object({ action: z.enum(DPD_ACTIONS), interval: z.number().int(), timeout: z.number().int() });
const connectionFields = {
  peerAddress: z.string(),
  peerId: z.string(),
  localId: z.string(),
  /** The PSK sealed with the deployment's secret key; the key never enters PostgreSQL. */
  pskSealed: z.string(),
  mtu: z.number().int(),
  initiator: z.enum(['bi-directional', 'response-only']),
  dpd,
  adminStateUp: z.boolean(),
  ikePolicyId: idSchema,
  ipsecPolicyId: idSchema,
  localEpGroupId: idSchema,
  peerEpGroupId: idSchema,
};
export const IpsecSiteConnectionCreated = defineEvent(
  'IpsecSiteConnectionCreated',
  z.object({ ...resourceBaseFields, vpnServiceId: idSchema, ...connectionFields, status: z.enum(VPN_STATUSES) }),
);
export const IpsecSiteConnectionUpdated = defineEvent(
  'IpsecSiteConnectionUpdated',
  z.object({
    id: idSchema,
    changes: z.object({ ...resourceBasePatchFields, ...z.object(connectionFields).partial().shape }),
    updatedAt: timestampSchema,
  }),
);
/** What the dataplane saw: ACTIVE when the tunnel's child SA is installed, DOWN with charon's reason. */
export const IpsecSiteConnectionStatusChanged = defineEvent(
  'IpsecSiteConnectionStatusChanged',
  z.object({ id: idSchema, status: z.enum(VPN_STATUSES), reason: z.string().nullable(), updatedAt: timestampSchema }),
);
export const IpsecSiteConnectionDeleted = defineEvent('IpsecSiteConnectionDeleted', z.object({ id: idSchema, deletedAt: timestampSchema }));
export const ipsecSiteConnectionEvents = [
  IpsecSiteConnectionCreated,
  IpsecSiteConnectionUpdated,
  IpsecSiteConnectionStatusChanged,
  IpsecSiteConnectionDeleted,
] as const;

export const vpnEvents = [
  ...ikePolicyEvents,
  ...ipsecPolicyEvents,
  ...endpointGroupEvents,
  ...vpnServiceEvents,
  ...ipsecSiteConnectionEvents,
] as const;

export type IkePolicyEvent = EventOf<(typeof ikePolicyEvents)[number]>;
export type IpsecPolicyEvent = EventOf<(typeof ipsecPolicyEvents)[number]>;
export type EndpointGroupEvent = EventOf<(typeof endpointGroupEvents)[number]>;
export type VpnServiceEvent = EventOf<(typeof vpnServiceEvents)[number]>;
export type IpsecSiteConnectionEvent = EventOf<(typeof ipsecSiteConnectionEvents)[number]>;
export type VpnStatus = (typeof VPN_STATUSES)[number];
export type IkePolicyFields = z.infer<z.ZodObject<typeof ikeFields>>;
export type IpsecPolicyFields = z.infer<z.ZodObject<typeof ipsecFields>>;
export type ConnectionFields = z.infer<z.ZodObject<typeof connectionFields>>;
