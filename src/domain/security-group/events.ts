import { z } from 'zod';
import { idSchema, resourceBaseFields, resourceBasePatchFields, timestampSchema } from '../common/resource.js';
import { defineEvent, type EventOf } from '../event-definition.js';

/** A rule as stored: already normalised (see rules.ts), so readers never re-interpret input. */
export const securityGroupRuleSchema = z.object({
  id: idSchema,
  direction: z.enum(['ingress', 'egress']),
  ethertype: z.enum(['IPv4', 'IPv6']),
  /** null: any protocol. Otherwise a lower-case name from Neutron's map, or a number 0-255 as a string. */
  protocol: z.string().nullable(),
  /** For ICMP: the type and the code. */
  portRangeMin: z.number().int().nullable(),
  portRangeMax: z.number().int().nullable(),
  remoteIpPrefix: z.string().nullable(),
  remoteGroupId: idSchema.nullable(),
  description: z.string(),
});

export const SecurityGroupCreated = defineEvent(
  'SecurityGroupCreated',
  z.object({
    ...resourceBaseFields,
    stateful: z.boolean(),
    /** The project's `default` group. */
    isDefault: z.boolean(),
    rules: z.array(securityGroupRuleSchema),
  }),
);

export const SecurityGroupUpdated = defineEvent(
  'SecurityGroupUpdated',
  z.object({
    id: idSchema,
    changes: z.object({ ...resourceBasePatchFields, stateful: z.boolean().optional() }),
    updatedAt: timestampSchema,
  }),
);

export const SecurityGroupRuleAdded = defineEvent(
  'SecurityGroupRuleAdded',
  z.object({ id: idSchema, rule: securityGroupRuleSchema, updatedAt: timestampSchema }),
);

/** Carries the whole rule: the dataplane needs it to drop the matching conntrack entries. */
export const SecurityGroupRuleRemoved = defineEvent(
  'SecurityGroupRuleRemoved',
  z.object({
    id: idSchema,
    rule: securityGroupRuleSchema,
    /** Set when the rule went because its remote group was deleted, not by request. */
    remoteGroupDeleted: idSchema.optional(),
    updatedAt: timestampSchema,
  }),
);

export const SecurityGroupDeleted = defineEvent(
  'SecurityGroupDeleted',
  z.object({ id: idSchema, project: z.string(), isDefault: z.boolean(), deletedAt: timestampSchema }),
);

export const securityGroupEvents = [
  SecurityGroupCreated,
  SecurityGroupUpdated,
  SecurityGroupRuleAdded,
  SecurityGroupRuleRemoved,
  SecurityGroupDeleted,
] as const;

export type SecurityGroupEvent = EventOf<(typeof securityGroupEvents)[number]>;
export type SecurityGroupRule = z.infer<typeof securityGroupRuleSchema>;
export type SecurityGroupChanges = z.infer<typeof SecurityGroupUpdated.schema>['changes'];
