import { z } from 'zod';
import { defineEvent, type EventOf } from '../event-definition.js';
import { idSchema, resourceBaseFields, resourceBasePatchFields, timestampSchema } from '../common/resource.js';

export const PORT_STATUSES = ['DOWN', 'ACTIVE', 'BUILD', 'ERROR'] as const;
export type PortStatus = (typeof PORT_STATUSES)[number];

export const fixedIpSchema = z.object({ subnetId: idSchema, ipAddress: z.string() });
export type FixedIp = z.infer<typeof fixedIpSchema>;

export const addressPairSchema = z.object({ ipAddress: z.string(), macAddress: z.string() });
export type AddressPair = z.infer<typeof addressPairSchema>;

export const PortCreated = defineEvent(
  'PortCreated',
  z.object({
    ...resourceBaseFields,
    networkId: idSchema,
    macAddress: z.string(),
    fixedIps: z.array(fixedIpSchema),
    deviceOwner: z.string(),
    deviceId: z.string(),
    adminStateUp: z.boolean(),
    bindingHost: z.string(),
    securityGroups: z.array(z.string()),
    portSecurityEnabled: z.boolean(),
    allowedAddressPairs: z.array(addressPairSchema),
    status: z.enum(PORT_STATUSES),
  }),
);

export const PortUpdated = defineEvent(
  'PortUpdated',
  z.object({
    id: idSchema,
    changes: z.object({
      ...resourceBasePatchFields,
      macAddress: z.string().optional(),
      adminStateUp: z.boolean().optional(),
      deviceOwner: z.string().optional(),
      deviceId: z.string().optional(),
      bindingHost: z.string().optional(),
      securityGroups: z.array(z.string()).optional(),
      portSecurityEnabled: z.boolean().optional(),
      allowedAddressPairs: z.array(addressPairSchema).optional(),
    }),
    updatedAt: timestampSchema,
  }),
);

/** The port's full new address list, and the difference, so the IP read model can free and claim. */
export const FixedIpsChanged = defineEvent(
  'FixedIpsChanged',
  z.object({
    id: idSchema,
    networkId: idSchema,
    fixedIps: z.array(fixedIpSchema),
    allocated: z.array(fixedIpSchema),
    released: z.array(fixedIpSchema),
    updatedAt: timestampSchema,
  }),
);

export const PortStatusChanged = defineEvent(
  'PortStatusChanged',
  z.object({ id: idSchema, status: z.enum(PORT_STATUSES), reason: z.string().nullable(), updatedAt: timestampSchema }),
);

/** Carries what the port held, so read models can release addresses and the MAC. */
export const PortDeleted = defineEvent(
  'PortDeleted',
  z.object({
    id: idSchema,
    networkId: idSchema,
    macAddress: z.string(),
    fixedIps: z.array(fixedIpSchema),
    deviceOwner: z.string(),
    deviceId: z.string(),
    deletedAt: timestampSchema,
  }),
);

export const portEvents = [PortCreated, PortUpdated, FixedIpsChanged, PortStatusChanged, PortDeleted] as const;

export type PortEvent = EventOf<(typeof portEvents)[number]>;
export type PortCreatedData = z.infer<typeof PortCreated.schema>;
export type PortChanges = z.infer<typeof PortUpdated.schema>['changes'];
