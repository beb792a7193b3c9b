import path from 'node:path';
import { z } from 'zod';

const schema = z.object({
  DATABASE_URL: z.string().url('must be a postgres:// URL').optional(),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NETLEDGER_DATA_DIR: z.string().min(1).default('.data'),
  EMBEDDED_PG_PORT: z.coerce.number().int().min(1024).max(65535).default(54329),
  NETLEDGER_VXLAN_RANGE: z
    .string()
    .regex(/^\d+:\d+$/, 'must be MIN:MAX, e.g. 1001:2000')
    .default('1:16777215'),
  NETLEDGER_AGENT: z.enum(['auto', 'on', 'off']).default('auto'),
  NETLEDGER_HOST_NAME: z.string().min(1).default('local'),
  // The dataplane agent's namespaces are `<prefix>qrouter-…` / `<prefix>qdhcp-…`; bridges live in the host namespace.
  NETLEDGER_NS_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only (never empty: it is what marks our namespaces)').default('nl-'),
  // The server's own database role (least privilege). Unset: netledger creates `<database>_app`.
  NETLEDGER_APP_DATABASE_URL: z.string().url('must be a postgres:// URL').optional(),
  // The Ed25519 key (PEM) that signs log checkpoints; default <NETLEDGER_DATA_DIR>/audit-key.pem.
  NETLEDGER_AUDIT_KEY: z.string().min(1).optional(),
  // The AES key (base64, 32 bytes) that seals VPN pre-shared keys; default <NETLEDGER_DATA_DIR>/secret-key.
  NETLEDGER_SECRET_KEY: z.string().min(1).optional(),
  NETLEDGER_AUDIT_CHECKPOINT_SECONDS: z.coerce.number().min(1).default(300),
  NETLEDGER_HOST_NS: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only').default('nl-host'),
  // Limits that keep one misbehaving client from taking the server down (see README, "Limits").
  NETLEDGER_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  NETLEDGER_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  NETLEDGER_KEEPALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
  NETLEDGER_MAX_CONNECTIONS: z.coerce.number().int().min(1).default(2048),
  NETLEDGER_WS_MAX_CONNECTIONS: z.coerce.number().int().min(1).default(1024),
  NETLEDGER_WS_MAX_SUBSCRIPTIONS: z.coerce.number().int().min(1).default(100),
  NETLEDGER_WS_MAX_MESSAGE_BYTES: z.coerce.number().int().min(1024).default(1 << 20),
  NETLEDGER_WS_AUTH_TIMEOUT_MS: z.coerce.number().int().min(100).default(3_000),
  NETLEDGER_SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).default(10_000),
  // Browser origins allowed to call the API (CORS), comma separated, each exactly scheme://host[:port].
  NETLEDGER_CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((o) => o.trim()).filter((o) => o.length > 0))
    .refine((list) => list.every(isOrigin), 'comma-separated origins like https://app.example.com (scheme://host[:port], no path)'),
  // GET /metrics (Prometheus, no token) on the API's listener; `off` when that listener is public.
  NETLEDGER_METRICS: z.enum(['on', 'off']).default('on'),
});

function isOrigin(value: string): boolean {
  try {
    return new URL(value).origin === value;
  } catch {
    return false;
  }
}

export type Config = z.infer<typeof schema> & { dataDir: string; vxlanRange: { min: number; max: number } };

export class ConfigError extends Error {}

/** Reads the environment once; a bad value stops start-up with one line naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`invalid configuration: ${issue.path.join('.')}=${JSON.stringify(env[String(issue.path[0])] ?? '')}: ${issue.message}`);
  }
  const [min, max] = parsed.data.NETLEDGER_VXLAN_RANGE.split(':').map(Number) as [number, number];
  if (min < 1 || max > 16777215 || min > max) {
    throw new ConfigError(`invalid configuration: NETLEDGER_VXLAN_RANGE=${parsed.data.NETLEDGER_VXLAN_RANGE}: must satisfy 1 <= MIN <= MAX <= 16777215`);
  }
  return { ...parsed.data, dataDir: path.resolve(parsed.data.NETLEDGER_DATA_DIR), vxlanRange: { min, max } };
}
