import { z } from 'zod';
import { idSchema, resourceBaseFields, resourceBasePatchFields, timestampSchema } from '../common/resource.js';
import { defineEvent, type EventOf } from '../event-definition.js';

export const floatingIpStatusSchema = z.enum(['ACTIVE', 'DOWN', 'ERROR']);

/** Where a floating IP's traffic goes: a fixed IP of a port, reached through a router. */
export const associationSchema = z.object({ portId: idSchema, fixedIpAddress: z.string(), routerId: idSchema });

export const FloatingIpCreated = defineEvent(
  'FloatingIpCreated',
  z.object({
    ...resourceBaseFields,
    floatingNetworkId: idSchema,
    floatingSubnetId: idSchema,
    floatingIpAddress: z.string(),
    /** The hidden port (device_owner network:floatingip) that holds the address. */
    floatingPortId: idSchema,
    status: floatingIpStatusSchema,
    association: associationSchema.nullable(),
  }),
);

export const FloatingIpUpdated = defineEvent(
  'FloatingIpUpdated',
  z.object({ id: idSchema, changes: z.object(resourceBasePatchFields), updatedAt: timestampSchema }),
);

/** Also replaces a previous association: a floating IP moves between ports in one step. */
export const FloatingIpAssociated = defineEvent(
  'FloatingIpAssociated',
  associationSchema.extend({ id: idSchema, updatedAt: timestampSchema }),
);

/** `fixedIpRemoved`: an update of the port released the fixed IP it pointed at, with no successor. */
export const FloatingIpDisassociated = defineEvent(
  'FloatingIpDisassociated',
  associationSchema.extend({ id: idSchema, cause: z.enum(['request', 'portDeleted', 'fixedIpRemoved']), updatedAt: timestampSchema }),
);

/** Reported by the L3 agent once the NAT rules and address are (or failed to be) in place. */
export const FloatingIpStatusChanged = defineEvent(
  'FloatingIpStatusChanged',
  z.object({ id: idSchema, status: floatingIpStatusSchema, reason: z.string().nullable(), updatedAt: timestampSchema }),
);

export const FloatingIpDeleted = defineEvent(
  'FloatingIpDeleted',
  z.object({
    id: idSchema,
    floatingNetworkId: idSchema,
    floatingIpAddress: z.string(),
    floatingPortId: idSchema,
    association: associationSchema.nullable(),
    deletedAt: timestampSchema,
  }),
);

export const floatingIpEvents = [
  FloatingIpCreated,
  FloatingIpUpdated,
  FloatingIpAssociated,
  FloatingIpDisassociated,
  FloatingIpStatusChanged,
  FloatingIpDeleted,
] as const;

export type FloatingIpEvent = EventOf<(typeof floatingIpEvents)[number]>;
export type FloatingIpStatus = z.infer<typeof floatingIpStatusSchema>;
export type FloatingIpAssociation = z.infer<typeof associationSchema>;
