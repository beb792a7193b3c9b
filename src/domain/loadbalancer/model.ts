import { z } from 'zod';

/** Octavia's vocabulary, as zod enums so events and commands share one definition. */
export const ListenerProtocolSchema = z.enum(['TCP', 'HTTP', 'HTTPS']);
export type ListenerProtocol = z.infer<typeof ListenerProtocolSchema>;
export const PoolProtocolSchema = z.enum(['TCP', 'HTTP', 'HTTPS']);
export type PoolProtocol = z.infer<typeof PoolProtocolSchema>;
export const LbAlgorithmSchema = z.enum(['ROUND_ROBIN', 'LEAST_CONNECTIONS', 'SOURCE_IP']);
export type LbAlgorithm = z.infer<typeof LbAlgorithmSchema>;
export const SessionPersistenceTypeSchema = z.enum(['SOURCE_IP', 'HTTP_COOKIE', 'APP_COOKIE']);
export type SessionPersistenceType = z.infer<typeof SessionPersistenceTypeSchema>;
export const SessionPersistenceSchema = z.object({
  type: SessionPersistenceTypeSchema,
  cookieName: z.string().nullable(),
});
export interface SessionPersistence {
  readonly type: SessionPersistenceType;
  readonly cookieName?: string | null;
}
export const HealthMonitorTypeSchema = z.enum(['PING', 'TCP', 'HTTP', 'HTTPS']);
export type HealthMonitorType = z.infer<typeof HealthMonitorTypeSchema>;
export const HttpMethodSchema = z.enum(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'TRACE', 'OPTIONS', 'CONNECT', 'PATCH']);
export type HttpMethod = z.infer<typeof HttpMethodSchema>;
/** What the dataplane can observe about a member (OFFLINE is derived from admin state, never observed). */
export const MemberHealthSchema = z.enum(['ONLINE', 'ERROR', 'DRAINING', 'NO_MONITOR']);
export type MemberHealth = z.infer<typeof MemberHealthSchema>;

export const PROVISIONING_STATUSES = ['PENDING_CREATE', 'PENDING_UPDATE', 'PENDING_DELETE', 'ACTIVE', 'ERROR', 'DELETED'] as const;
export type ProvisioningStatus = (typeof PROVISIONING_STATUSES)[number];
export const OPERATING_STATUSES = ['ONLINE', 'OFFLINE', 'DEGRADED', 'ERROR', 'NO_MONITOR', 'DRAINING'] as const;
export type OperatingStatus = (typeof OPERATING_STATUSES)[number];

/** The only provider this control plane drives (Octavia's `provider` is fixed here). */
export const LOADBALANCER_PROVIDER = 'netledger';

export const LISTENER_DEFAULTS = {
  connectionLimit: -1,
  timeoutClientData: 50000,
  timeoutMemberConnect: 5000,
  timeoutMemberData: 50000,
  timeoutTcpInspect: 0,
} as const;
/** Octavia's constants.MIN_TIMEOUT / MAX_TIMEOUT (milliseconds, 24 h). */
export const TIMEOUT_RANGE = { min: 0, max: 86_400_000 } as const;
export const MAX_INT = 2_147_483_647;

export const MEMBER_DEFAULTS = { weight: 1, backup: false, adminStateUp: true } as const;
export const HEALTH_MONITOR_HTTP_DEFAULTS = { httpMethod: 'GET', urlPath: '/', expectedCodes: '200' } as const;
export const HEALTH_MONITOR_DEFAULT_MAX_RETRIES_DOWN = 3;

/**
 * Octavia's VALID_LISTENER_POOL_PROTOCOL_MAP restricted to our protocols. It is looser than the
 * neutron-lbaas rule in the reference (TCP↔TCP only): Octavia lets a TCP listener front HTTP and
 * HTTPS pools and an HTTPS (passthrough) listener front TCP pools, since both are layer-4 there.
 */
export const LISTENER_POOL_PROTOCOLS: Readonly<Record<ListenerProtocol, readonly PoolProtocol[]>> = {
  TCP: ['TCP', 'HTTP', 'HTTPS'],
  HTTP: ['HTTP'],
  HTTPS: ['HTTPS', 'TCP'],
};
