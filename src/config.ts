import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { agentModeSchema } from './domain/agent/modes.js';

/**
 * The default data directory is the checkout's `.data`, wherever the command is started from: a
 * CLI run from another directory then finds the server's embedded database instead of creating one.
 */
const DEFAULT_DATA_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '.data');

const schema = z.object({
  DATABASE_URL: z.string().url('must be a postgres:// URL').optional(),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NETLEDGER_DATA_DIR: z.string().min(1).default(DEFAULT_DATA_DIR),
  EMBEDDED_PG_PORT: z.coerce.number().int().min(1024).max(65535).default(54329),
  NETLEDGER_VXLAN_RANGE: z
    .string()
    .regex(/^\d+:\d+$/, 'must be MIN:MAX, e.g. 1001:2000')
    .default('1:16777215'),
  // Neutron's network_vlan_ranges: the VLAN ids per physical network that an admin VLAN network
  // given only its physical network is allocated from, `physnet:MIN:MAX` comma separated (a
  // physnet may repeat for several ranges).
  NETLEDGER_VLAN_RANGES: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((r) => r.trim())
        .filter((r) => r.length > 0),
    )
    .refine(
      (list) => list.every((r) => /^[A-Za-z0-9_.-]+:\d+:\d+$/.test(r) && vlanRangeValid(r)),
      'comma-separated physnet:MIN:MAX with 1 <= MIN <= MAX <= 4094, e.g. physnet1:100:199',
    ),
  NETLEDGER_AGENT: z.enum(['auto', 'on', 'off']).default('auto'),
  NETLEDGER_HOST_NAME: z.string().min(1).default('local'),
  // The dataplane agent's namespaces are `<prefix>qrouter-…` / `<prefix>qdhcp-…`; bridges live in the host namespace.
  NETLEDGER_NS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only (never empty: it is what marks our namespaces)')
    .default('nl-'),
  // The server's own database role (least privilege). Unset: netledger creates `<database>_app`.
  NETLEDGER_APP_DATABASE_URL: z.string().url('must be a postgres:// URL').optional(),
  // The Ed25519 key (PEM) that signs log checkpoints; default <NETLEDGER_DATA_DIR>/audit-key.pem.
  NETLEDGER_AUDIT_KEY: z.string().min(1).optional(),
  // The AES key (base64, 32 bytes) that seals VPN pre-shared keys; default <NETLEDGER_DATA_DIR>/secret-key.
  NETLEDGER_SECRET_KEY: z.string().min(1).optional(),
  NETLEDGER_AUDIT_CHECKPOINT_SECONDS: z.coerce.number().min(1).default(300),
  NETLEDGER_HOST_NS: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only')
    .default('nl-host'),
  // This host's VXLAN tunnel endpoint (an IPv4 address in the host namespace); unset: no overlay, one host.
  NETLEDGER_UNDERLAY_IP: z
    .string()
    .regex(/^\d{1,3}(\.\d{1,3}){3}$/, 'an IPv4 address')
    .optional(),
  // Neutron's physical_interface_mappings: `physnet1:eth1,physnet2:eth2`, interfaces in the host namespace.
  NETLEDGER_PHYSICAL_INTERFACE_MAPPINGS: z
    .string()
    .default('')
    .refine(
      (v) =>
        v
          .split(',')
          .map((m) => m.trim())
          .filter(Boolean)
          .every((m) => /^[A-Za-z0-9_.-]+:[A-Za-z0-9_-]{1,15}$/.test(m)),
      'comma-separated physnet:interface pairs, e.g. physnet1:eth1',
    )
    .transform(
      (v) =>
        Object.fromEntries(
          v
            .split(',')
            .map((m) => m.trim())
            .filter(Boolean)
            .map((m) => [m.slice(0, m.lastIndexOf(':')), m.slice(m.lastIndexOf(':') + 1)]),
        ) as Record<string, string>,
    ),
  // Neutron's L3 agent_mode: legacy (whole routers), dvr (compute host), dvr_snat (network node).
  NETLEDGER_AGENT_MODE: agentModeSchema.default('legacy'),
  // Neutron's agent_down_time: an agent silent this long is dead and its routers and DHCP move.
  NETLEDGER_AGENT_DOWN_SECONDS: z.coerce.number().min(1).default(90),
  // The availability zone this host's agent registers in (Neutron's [AGENT] availability_zone).
  NETLEDGER_AVAILABILITY_ZONE: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,255}$/, 'letters, digits, ".", "_", ":" or "-"')
    .default('nova'),
  // How many DHCP agents serve each network, each with its own DHCP port (Neutron's dhcp_agents_per_network).
  NETLEDGER_DHCP_AGENTS_PER_NETWORK: z.coerce.number().int().min(1).max(16).default(1),
  // How many L3 agents an HA router is scheduled on (Neutron's max_l3_agents_per_router).
  NETLEDGER_MAX_L3_AGENTS_PER_ROUTER: z.coerce.number().int().min(1).max(16).default(2),
  // Limits that keep one misbehaving client from taking the server down (see README, "Limits").
  NETLEDGER_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  NETLEDGER_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  NETLEDGER_KEEPALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
  NETLEDGER_MAX_CONNECTIONS: z.coerce.number().int().min(1).default(2048),
  NETLEDGER_WS_MAX_CONNECTIONS: z.coerce.number().int().min(1).default(1024),
  NETLEDGER_WS_MAX_SUBSCRIPTIONS: z.coerce.number().int().min(1).default(100),
  NETLEDGER_WS_MAX_MESSAGE_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1 << 20),
  NETLEDGER_WS_AUTH_TIMEOUT_MS: z.coerce.number().int().min(100).default(3_000),
  NETLEDGER_SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).default(10_000),
  // Browser origins allowed to call the API (CORS), comma separated, each exactly scheme://host[:port].
  NETLEDGER_CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim())
        .filter((o) => o.length > 0),
    )
    .refine((list) => list.every(isOrigin), 'comma-separated origins like https://app.example.com (scheme://host[:port], no path)'),
  // GET /metrics (Prometheus, no token) on the API's listener; `off` when that listener is public.
  NETLEDGER_METRICS: z.enum(['on', 'off']).default('on'),
});

function vlanRangeValid(entry: string): boolean {
  const [, min, max] = entry.split(':').map(Number) as [number, number, number];
  return min >= 1 && max <= 4094 && min <= max;
}

/** NETLEDGER_VLAN_RANGES by physical network, in the order given. */
function vlanRangesOf(entries: readonly string[]): Record<string, { min: number; max: number }[]> {
  const out: Record<string, { min: number; max: number }[]> = {};
  for (const entry of entries) {
    const [physnet, min, max] = entry.split(':') as [string, string, string];
    (out[physnet] ??= []).push({ min: Number(min), max: Number(max) });
  }
  return out;
}

function isOrigin(value: string): boolean {
  try {
    return new URL(value).origin === value;
  } catch {
    return false;
  }
}

export type Config = z.infer<typeof schema> & {
  dataDir: string;
  vxlanRange: { min: number; max: number };
  vlanRanges: Readonly<Record<string, readonly { min: number; max: number }[]>>;
};

export class ConfigError extends Error {}

/** Reads the environment once; a bad value stops start-up with one line naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(
      `invalid configuration: ${issue.path.join('.')}=${JSON.stringify(env[String(issue.path[0])] ?? '')}: ${issue.message}`,
    );
  }
  const [min, max] = parsed.data.NETLEDGER_VXLAN_RANGE.split(':').map(Number) as [number, number];
  if (min < 1 || max > 16777215 || min > max) {
    throw new ConfigError(
      `invalid configuration: NETLEDGER_VXLAN_RANGE=${parsed.data.NETLEDGER_VXLAN_RANGE}: must satisfy 1 <= MIN <= MAX <= 16777215`,
    );
  }
  return {
    ...parsed.data,
    dataDir: path.resolve(parsed.data.NETLEDGER_DATA_DIR),
    vxlanRange: { min, max },
    vlanRanges: vlanRangesOf(parsed.data.NETLEDGER_VLAN_RANGES),
  };
}
