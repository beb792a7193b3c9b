import { z } from 'zod';
import { defineEvent, type EventOf } from '../event-definition.js';
import { idSchema, resourceBaseFields, resourceBasePatchFields, timestampSchema } from '../common/resource.js';

export const IPV6_MODES = ['slaac', 'dhcpv6-stateful', 'dhcpv6-stateless'] as const;
export type Ipv6Mode = (typeof IPV6_MODES)[number];

export const allocationPoolSchema = z.object({ start: z.string(), end: z.string() });
export const hostRouteSchema = z.object({ destination: z.string(), nexthop: z.string() });
export type HostRoute = z.infer<typeof hostRouteSchema>;

export const SubnetCreated = defineEvent(
  'SubnetCreated',
  z.object({
    ...resourceBaseFields,
    networkId: idSchema,
    ipVersion: z.union([z.literal(4), z.literal(6)]),
    cidr: z.string(),
    gatewayIp: z.string().nullable(),
    allocationPools: z.array(allocationPoolSchema),
    enableDhcp: z.boolean(),
    dnsNameservers: z.array(z.string()),
    hostRoutes: z.array(hostRouteSchema),
    ipv6RaMode: z.enum(IPV6_MODES).nullable(),
    ipv6AddressMode: z.enum(IPV6_MODES).nullable(),
  }),
);

export const SubnetUpdated = defineEvent(
  'SubnetUpdated',
  z.object({
    id: idSchema,
    changes: z.object({
      ...resourceBasePatchFields,
      gatewayIp: z.string().nullable().optional(),
      allocationPools: z.array(allocationPoolSchema).optional(),
      enableDhcp: z.boolean().optional(),
      dnsNameservers: z.array(z.string()).optional(),
      hostRoutes: z.array(hostRouteSchema).optional(),
    }),
    updatedAt: timestampSchema,
  }),
);

export const SubnetDeleted = defineEvent('SubnetDeleted', z.object({ id: idSchema, networkId: idSchema, deletedAt: timestampSchema }));

export const subnetEvents = [SubnetCreated, SubnetUpdated, SubnetDeleted] as const;

export type SubnetEvent = EventOf<(typeof subnetEvents)[number]>;
export type SubnetCreatedData = z.infer<typeof SubnetCreated.schema>;
export type SubnetChanges = z.infer<typeof SubnetUpdated.schema>['changes'];
