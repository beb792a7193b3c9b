import { z } from 'zod';
import { idSchema, resourceBaseFields, resourceBasePatchFields, timestampSchema } from '../common/resource.js';
import { defineEvent, type EventOf } from '../event-definition.js';

/** FWaaS v2 (reference 6.1): rules, ordered policies, groups applied to router interface ports. */

export const FIREWALL_PROTOCOLS = ['tcp', 'udp', 'icmp', 'ipv6-icmp', 'sctp', 'dccp'] as const;
export const FIREWALL_ACTIONS = ['allow', 'deny', 'reject'] as const;
export const FIREWALL_GROUP_STATUSES = ['INACTIVE', 'ACTIVE', 'DOWN', 'ERROR', 'PENDING_CREATE', 'PENDING_UPDATE'] as const;

const ruleFields = {
  /** null: any protocol. */
  protocol: z.enum(FIREWALL_PROTOCOLS).nullable(),
  ipVersion: z.union([z.literal(4), z.literal(6)]),
  /** Canonical `network/len` (a bare IP as its host prefix). */
  sourceIpAddress: z.string().nullable(),
  destinationIpAddress: z.string().nullable(),
  /** `N` or `N:M`. */
  sourcePort: z.string().nullable(),
  destinationPort: z.string().nullable(),
  action: z.enum(FIREWALL_ACTIONS),
  enabled: z.boolean(),
  shared: z.boolean(),
};

export const FirewallRuleCreated = defineEvent('FirewallRuleCreated', z.object({ ...resourceBaseFields, ...ruleFields }));
export const FirewallRuleUpdated = defineEvent(
  'FirewallRuleUpdated',
  z.object({
    id: idSchema,
    changes: z.object({ ...resourceBasePatchFields, ...z.object(ruleFields).partial().shape }),
    updatedAt: timestampSchema,
  }),
);
export const FirewallRuleDeleted = defineEvent('FirewallRuleDeleted', z.object({ id: idSchema, deletedAt: timestampSchema }));
export const firewallRuleEvents = [FirewallRuleCreated, FirewallRuleUpdated, FirewallRuleDeleted] as const;

const policyFields = { firewallRules: z.array(idSchema), audited: z.boolean(), shared: z.boolean() };
export const FirewallPolicyCreated = defineEvent('FirewallPolicyCreated', z.object({ ...resourceBaseFields, ...policyFields }));
/** Any change, rule list included, un-audits the policy (Neutron's audited flag). */
export const FirewallPolicyUpdated = defineEvent(
  'FirewallPolicyUpdated',
  z.object({
    id: idSchema,
    changes: z.object({ ...resourceBasePatchFields, ...z.object(policyFields).partial().shape }),
    updatedAt: timestampSchema,
  }),
);
export const FirewallPolicyDeleted = defineEvent('FirewallPolicyDeleted', z.object({ id: idSchema, deletedAt: timestampSchema }));
export const firewallPolicyEvents = [FirewallPolicyCreated, FirewallPolicyUpdated, FirewallPolicyDeleted] as const;

const groupFields = {
  ingressFirewallPolicyId: idSchema.nullable(),
  egressFirewallPolicyId: idSchema.nullable(),
  ports: z.array(idSchema),
  adminStateUp: z.boolean(),
  shared: z.boolean(),
};
export const FirewallGroupCreated = defineEvent(
  'FirewallGroupCreated',
  z.object({ ...resourceBaseFields, ...groupFields, isDefault: z.boolean(), status: z.enum(FIREWALL_GROUP_STATUSES) }),
);
export const FirewallGroupUpdated = defineEvent(
  'FirewallGroupUpdated',
  z.object({
    id: idSchema,
    changes: z.object({
      ...resourceBasePatchFields,
      ...z.object(groupFields).partial().shape,
      status: z.enum(FIREWALL_GROUP_STATUSES).optional(),
    }),
    updatedAt: timestampSchema,
  }),
);
/** What the dataplane reported (ACTIVE once applied, ERROR when it could not apply it), or PENDING_UPDATE after a policy or rule change. */
export const FirewallGroupStatusChanged = defineEvent(
  'FirewallGroupStatusChanged',
  z.object({ id: idSchema, status: z.enum(FIREWALL_GROUP_STATUSES), updatedAt: timestampSchema }),
);
export const FirewallGroupDeleted = defineEvent(
  'FirewallGroupDeleted',
  z.object({ id: idSchema, project: z.string(), isDefault: z.boolean(), deletedAt: timestampSchema }),
);
export const firewallGroupEvents = [FirewallGroupCreated, FirewallGroupUpdated, FirewallGroupStatusChanged, FirewallGroupDeleted] as const;

export const firewallEvents = [...firewallRuleEvents, ...firewallPolicyEvents, ...firewallGroupEvents] as const;

export type FirewallRuleEvent = EventOf<(typeof firewallRuleEvents)[number]>;
export type FirewallPolicyEvent = EventOf<(typeof firewallPolicyEvents)[number]>;
export type FirewallGroupEvent = EventOf<(typeof firewallGroupEvents)[number]>;
export type FirewallProtocol = (typeof FIREWALL_PROTOCOLS)[number];
export type FirewallAction = (typeof FIREWALL_ACTIONS)[number];
export type FirewallGroupStatus = (typeof FIREWALL_GROUP_STATUSES)[number];
