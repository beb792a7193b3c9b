import { z } from 'zod';
import { availabilityZoneHintsSchema } from '../common/availability-zones.js';
import { idSchema, resourceBaseFields, resourceBasePatchFields, timestampSchema } from '../common/resource.js';
import { defineEvent, type EventOf } from '../event-definition.js';

/** Normalised: destination in canonical CIDR form, nexthop in canonical address form. */
export const routeSchema = z.object({ destination: z.string(), nexthop: z.string() });

/** One subnet a router is attached to; an IPv6 port may carry several, each its own interface. */
export const routerInterfaceSchema = z.object({
  portId: idSchema,
  subnetId: idSchema,
  networkId: idSchema,
  ip: z.string(),
  cidr: z.string(),
});

export const gatewayFixedIpSchema = z.object({ subnetId: idSchema, ipAddress: z.string(), cidr: z.string() });

export const RouterCreated = defineEvent(
  'RouterCreated',
  z.object({
    ...resourceBaseFields,
    adminStateUp: z.boolean(),
    ha: z.boolean(),
    distributed: z.boolean(),
    /** Present only when hints were given: a router created without them has none. */
    availabilityZoneHints: availabilityZoneHintsSchema,
  }),
);

/** Only the attributes the update named; routes have their own event. */
export const RouterUpdated = defineEvent(
  'RouterUpdated',
  z.object({
    id: idSchema,
    changes: z.object({
      ...resourceBasePatchFields,
      adminStateUp: z.boolean().optional(),
      ha: z.boolean().optional(),
      distributed: z.boolean().optional(),
    }),
    updatedAt: timestampSchema,
  }),
);

export const RouterRoutesChanged = defineEvent(
  'RouterRoutesChanged',
  z.object({ id: idSchema, routes: z.array(routeSchema), updatedAt: timestampSchema }),
);

/** Sets or replaces the external gateway; `portId` is the gateway port (device_owner network:router_gateway). */
export const RouterGatewaySet = defineEvent(
  'RouterGatewaySet',
  z.object({
    id: idSchema,
    networkId: idSchema,
    portId: idSchema,
    enableSnat: z.boolean(),
    externalFixedIps: z.array(gatewayFixedIpSchema).min(1),
    updatedAt: timestampSchema,
  }),
);

export const RouterGatewayCleared = defineEvent(
  'RouterGatewayCleared',
  z.object({ id: idSchema, networkId: idSchema, portId: idSchema, updatedAt: timestampSchema }),
);

export const RouterInterfaceAdded = defineEvent(
  'RouterInterfaceAdded',
  routerInterfaceSchema.extend({ id: idSchema, updatedAt: timestampSchema }),
);

export const RouterInterfaceRemoved = defineEvent(
  'RouterInterfaceRemoved',
  z.object({ id: idSchema, portId: idSchema, subnetId: idSchema, networkId: idSchema, updatedAt: timestampSchema }),
);

/** `gatewayPortId`: the gateway port that goes with the router, if it had one. */
export const RouterDeleted = defineEvent(
  'RouterDeleted',
  z.object({ id: idSchema, gatewayPortId: idSchema.nullable(), deletedAt: timestampSchema }),
);

/** L3 HA (reference 2.7): the router's VRRP id on its project's HA network, allocated once per router. */
export const RouterHaVridAllocated = defineEvent(
  'RouterHaVridAllocated',
  z.object({ id: idSchema, haNetworkId: idSchema, vrid: z.number().int().min(1).max(254), updatedAt: timestampSchema }),
);

export const haStateSchema = z.enum(['active', 'standby', 'unknown']);

/** A hosting agent's keepalived changed state (its notify script); Neutron's ha_state of the L3 agent binding. */
export const RouterHaStateChanged = defineEvent(
  'RouterHaStateChanged',
  z.object({ id: idSchema, host: z.string().min(1), haState: haStateSchema, updatedAt: timestampSchema }),
);

export const routerEvents = [
  RouterCreated,
  RouterUpdated,
  RouterRoutesChanged,
  RouterGatewaySet,
  RouterGatewayCleared,
  RouterInterfaceAdded,
  RouterInterfaceRemoved,
  RouterDeleted,
  RouterHaVridAllocated,
  RouterHaStateChanged,
] as const;

export type RouterEvent = EventOf<(typeof routerEvents)[number]>;
export type RouterChanges = z.infer<typeof RouterUpdated.schema>['changes'];
export type Route = z.infer<typeof routeSchema>;
export type RouterInterface = z.infer<typeof routerInterfaceSchema>;
export type GatewayFixedIp = z.infer<typeof gatewayFixedIpSchema>;
export type HaState = z.infer<typeof haStateSchema>;
