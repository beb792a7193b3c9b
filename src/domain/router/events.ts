import { z } from 'zod';
import { defineEvent, type EventOf } from '../event-definition.js';

export const routeSchema = z.object({ destination: z.string(), nexthop: z.string() });

/** One subnet a router is attached to; an IPv6 port may carry several, each its own interface. */
export const routerInterfaceSchema = z.object({
  portId: z.uuid(),
  subnetId: z.uuid(),
  networkId: z.uuid(),
  ip: z.string(),
  cidr: z.string(),
});

export const gatewayFixedIpSchema = z.object({ subnetId: z.uuid(), ipAddress: z.string(), cidr: z.string() });

export const RouterCreated = defineEvent(
  'RouterCreated',
  z.object({
    id: z.uuid(),
    project: z.string(),
    name: z.string(),
    description: z.string(),
    tags: z.array(z.string()),
    adminStateUp: z.boolean(),
    ha: z.boolean(),
    distributed: z.boolean(),
    createdAt: z.string(),
  }),
);

/** Only the attributes the update named; routes have their own event. */
export const RouterUpdated = defineEvent(
  'RouterUpdated',
  z.object({
    id: z.uuid(),
    name: z.string().optional(),
    description: z.string().optional(),
    tags: z.array(z.string()).optional(),
    adminStateUp: z.boolean().optional(),
    ha: z.boolean().optional(),
    distributed: z.boolean().optional(),
    updatedAt: z.string(),
  }),
);

export const RouterRoutesChanged = defineEvent(
  'RouterRoutesChanged',
  z.object({ id: z.uuid(), routes: z.array(routeSchema), updatedAt: z.string() }),
);

/** Sets or replaces the external gateway; `portId` is the gateway port (device_owner network:router_gateway). */
export const RouterGatewaySet = defineEvent(
  'RouterGatewaySet',
  z.object({
    id: z.uuid(),
    networkId: z.uuid(),
    portId: z.uuid(),
    enableSnat: z.boolean(),
    externalFixedIps: z.array(gatewayFixedIpSchema).min(1),
    updatedAt: z.string(),
  }),
);

export const RouterGatewayCleared = defineEvent(
  'RouterGatewayCleared',
  z.object({ id: z.uuid(), networkId: z.uuid(), portId: z.uuid(), updatedAt: z.string() }),
);

export const RouterInterfaceAdded = defineEvent(
  'RouterInterfaceAdded',
  routerInterfaceSchema.extend({ id: z.uuid(), updatedAt: z.string() }),
);

export const RouterInterfaceRemoved = defineEvent(
  'RouterInterfaceRemoved',
  z.object({ id: z.uuid(), portId: z.uuid(), subnetId: z.uuid(), networkId: z.uuid(), updatedAt: z.string() }),
);

/** `gatewayPortId`: the gateway port that goes with the router, if it had one. */
export const RouterDeleted = defineEvent(
  'RouterDeleted',
  z.object({ id: z.uuid(), gatewayPortId: z.uuid().nullable(), deletedAt: z.string() }),
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
] as const;

export type RouterEvent = EventOf<(typeof routerEvents)[number]>;
export type Route = z.infer<typeof routeSchema>;
export type RouterInterface = z.infer<typeof routerInterfaceSchema>;
export type GatewayFixedIp = z.infer<typeof gatewayFixedIpSchema>;
