import { z } from 'zod';
import { defineEvent, type EventOf } from '../event-definition.js';
import { availabilityZoneHintsSchema } from '../common/availability-zones.js';
import { idSchema, resourceBaseFields, resourceBasePatchFields, timestampSchema } from '../common/resource.js';

export const NETWORK_TYPES = ['local', 'flat', 'vlan', 'vxlan'] as const;
export type NetworkType = (typeof NETWORK_TYPES)[number];

export const providerSchema = z.object({
  networkType: z.enum(NETWORK_TYPES),
  physicalNetwork: z.string().nullable(),
  segmentationId: z.number().int().nullable(),
});

export const NetworkCreated = defineEvent(
  'NetworkCreated',
  z.object({
    ...resourceBaseFields,
    adminStateUp: z.boolean(),
    shared: z.boolean(),
    external: z.boolean(),
    portSecurityEnabled: z.boolean(),
    mtu: z.number().int(),
    provider: providerSchema,
    /** Present only when hints were given: a network created without them has none. */
    availabilityZoneHints: availabilityZoneHintsSchema,
  }),
);

export const NetworkUpdated = defineEvent(
  'NetworkUpdated',
  z.object({
    id: idSchema,
    changes: z.object({
      ...resourceBasePatchFields,
      adminStateUp: z.boolean().optional(),
      shared: z.boolean().optional(),
      external: z.boolean().optional(),
      portSecurityEnabled: z.boolean().optional(),
      mtu: z.number().int().optional(),
    }),
    updatedAt: timestampSchema,
  }),
);

/** Subnets of the network at deletion time, so projections can cascade. */
export const NetworkDeleted = defineEvent(
  'NetworkDeleted',
  z.object({ id: idSchema, subnetIds: z.array(idSchema), deletedAt: timestampSchema }),
);

/** Appended to the network stream with each subnet create: it serialises overlap checks and raises the network revision, as Neutron does. */
export const NetworkSubnetAdded = defineEvent(
  'NetworkSubnetAdded',
  z.object({ id: idSchema, subnetId: idSchema, cidr: z.string(), updatedAt: timestampSchema }),
);

export const NetworkSubnetRemoved = defineEvent(
  'NetworkSubnetRemoved',
  z.object({ id: idSchema, subnetId: idSchema, updatedAt: timestampSchema }),
);

/** One of the network's subnets was updated: the network's revision rises with it, as in Neutron. */
export const NetworkSubnetUpdated = defineEvent(
  'NetworkSubnetUpdated',
  z.object({ id: idSchema, subnetId: idSchema, updatedAt: timestampSchema }),
);

export const networkEvents = [
  NetworkCreated,
  NetworkUpdated,
  NetworkDeleted,
  NetworkSubnetAdded,
  NetworkSubnetRemoved,
  NetworkSubnetUpdated,
] as const;

export type NetworkEvent = EventOf<(typeof networkEvents)[number]>;
export type NetworkCreatedData = z.infer<typeof NetworkCreated.schema>;
export type NetworkChanges = z.infer<typeof NetworkUpdated.schema>['changes'];
export type Provider = z.infer<typeof providerSchema>;
