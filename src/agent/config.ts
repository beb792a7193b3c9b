import path from 'node:path';
import type { Config } from '../config.js';
import { AGENT_DOWN_MS, DEFAULT_AVAILABILITY_ZONE, HEARTBEAT_INTERVAL_MS } from '../domain/agent/index.js';
import { DEFAULT_COMPILE_OPTIONS, type CompileOptions } from '../projections/desired-state/index.js';
import { assertSafeName, dhcpNamespace, fipNamespace, routerNamespace, snatNamespace } from '../projections/desired-state/names.js';
import type { UnitKey } from '../projections/desired-state/index.js';

export interface AgentConfig extends CompileOptions {
  /** Full resync (every key re-observed) roughly this often. */
  readonly resyncIntervalMs: number;
  /** ± fraction of the resync interval, so many agents don't probe in step. */
  readonly resyncJitter: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** Keys applied side by side within a pass. */
  readonly applyConcurrency: number;
  /** How long to wait for a started dnsmasq to write its pid file. */
  readonly daemonStartTimeoutMs: number;
  /** An agent not heard from this long is dead: its routers and DHCP ports are rescheduled. */
  readonly agentDownMs: number;
  /** A heartbeat is recorded at most this often while nothing else changes (keep well under agentDownMs). */
  readonly heartbeatIntervalMs: number;
  /** The availability zone the agent registers in (Neutron's availability_zone, default nova). */
  readonly availabilityZone: string;
}

export const DEFAULT_AGENT_CONFIG: AgentConfig = {
  ...DEFAULT_COMPILE_OPTIONS,
  resyncIntervalMs: 60_000,
  resyncJitter: 0.2,
  backoffBaseMs: 250,
  backoffMaxMs: 30_000,
  applyConcurrency: 4,
  daemonStartTimeoutMs: 5_000,
  agentDownMs: AGENT_DOWN_MS,
  heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
  availabilityZone: DEFAULT_AVAILABILITY_ZONE,
};

export function agentConfig(overrides: Partial<AgentConfig> = {}): AgentConfig {
  const config = { ...DEFAULT_AGENT_CONFIG, ...overrides };
  assertSafeName('namespace prefix', config.namespacePrefix);
  assertSafeName('host namespace', config.hostNamespace);
  if (!config.stateDir.startsWith('/')) throw new Error('stateDir must be absolute');
  return config;
}

export function idOfKey(key: UnitKey): string {
  return key.slice(key.indexOf(':') + 1);
}

/** The namespaces whose kernel state decides whether `key` is converged. */
export function namespacesOfKey(config: AgentConfig, key: UnitKey): string[] {
  if (key === 'host') return [config.hostNamespace];
  if (key.startsWith('network:')) return [config.hostNamespace, dhcpNamespace(config, idOfKey(key))];
  if (key.startsWith('snat:')) return [config.hostNamespace, snatNamespace(config, idOfKey(key))];
  if (key.startsWith('fip:')) return [config.hostNamespace, fipNamespace(config, idOfKey(key))];
  return [config.hostNamespace, routerNamespace(config, idOfKey(key))];
}

/** The agent's naming from the environment (NETLEDGER_NS_PREFIX, NETLEDGER_HOST_NS), its underlay, its mode and
 * agent_down_time; state under the data dir. */
export function agentConfigFrom(config: Config): Partial<AgentConfig> {
  return {
    namespacePrefix: config.NETLEDGER_NS_PREFIX,
    hostNamespace: config.NETLEDGER_HOST_NS,
    stateDir: path.join(config.dataDir, 'dataplane'),
    underlayAddress: config.NETLEDGER_UNDERLAY_IP ?? null,
    physicalInterfaces: config.NETLEDGER_PHYSICAL_INTERFACE_MAPPINGS,
    agentMode: config.NETLEDGER_AGENT_MODE,
    agentDownMs: config.NETLEDGER_AGENT_DOWN_SECONDS * 1000,
    heartbeatIntervalMs: Math.min(HEARTBEAT_INTERVAL_MS, (config.NETLEDGER_AGENT_DOWN_SECONDS * 1000) / 3),
    availabilityZone: config.NETLEDGER_AVAILABILITY_ZONE,
  };
}

/** NETLEDGER_AGENT: `on`, or `auto` when we may create namespaces (root). */
export function localAgentWanted(config: Config): boolean {
  return config.NETLEDGER_AGENT === 'on' || (config.NETLEDGER_AGENT === 'auto' && process.getuid?.() === 0);
}
