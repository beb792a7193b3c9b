import { z } from 'zod';
import { defineEvent, type EventOf } from '../event-definition.js';

export const ROLES = ['admin', 'member'] as const;
export type Role = (typeof ROLES)[number];

/** Neutron's defaults; -1 means unlimited. */
export const DEFAULT_QUOTAS = {
  network: 100,
  subnet: 100,
  port: 500,
  router: 10,
  floatingip: 50,
  security_group: 10,
  security_group_rule: 100,
  loadbalancer: 10,
  firewall_group: 10,
  firewall_policy: 10,
  firewall_rule: 100,
} as const;
export type QuotaResource = keyof typeof DEFAULT_QUOTAS;
export const QUOTA_RESOURCES = Object.keys(DEFAULT_QUOTAS) as QuotaResource[];

export const ProjectCreated = defineEvent(
  'ProjectCreated',
  z.object({ id: z.guid(), name: z.string().min(1).max(64), createdAt: z.string() }),
);
/** Only the SHA-256 of the secret is ever stored. */
export const TokenIssued = defineEvent(
  'TokenIssued',
  z.object({
    tokenId: z.guid(),
    name: z.string(),
    role: z.enum(ROLES),
    secretHash: z.string().regex(/^[0-9a-f]{64}$/),
    issuedAt: z.string(),
  }),
);
export const TokenRevoked = defineEvent('TokenRevoked', z.object({ tokenId: z.guid(), revokedAt: z.string() }));
export const QuotaSet = defineEvent(
  'QuotaSet',
  z.object({
    resource: z.enum(QUOTA_RESOURCES as [QuotaResource, ...QuotaResource[]]),
    limit: z.number().int().min(-1),
    setAt: z.string(),
  }),
);

/** Every limit of the project back to its default; `resources` names those that had another. */
export const QuotasReset = defineEvent(
  'QuotasReset',
  z.object({ resources: z.array(z.enum(QUOTA_RESOURCES as [QuotaResource, ...QuotaResource[]])), resetAt: z.string() }),
);

export const projectEvents = [ProjectCreated, TokenIssued, TokenRevoked, QuotaSet, QuotasReset] as const;
export type ProjectEvent = EventOf<(typeof projectEvents)[number]>;
