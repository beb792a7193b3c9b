import path from 'node:path';
import type { AgentConfig } from '../../agent/config.js';
import type { Config } from '../../config.js';

/** The agent's naming from the environment: NETLEDGER_NS_PREFIX, NETLEDGER_HOST_NS; state under the data dir. */
export function agentConfigFrom(config: Config): Partial<AgentConfig> {
  return {
    namespacePrefix: config.NETLEDGER_NS_PREFIX,
    hostNamespace: config.NETLEDGER_HOST_NS,
    stateDir: path.join(config.dataDir, 'dataplane'),
  };
}

/** NETLEDGER_AGENT: `on`, or `auto` when we may create namespaces (root). */
export function localAgentWanted(config: Config): boolean {
  return config.NETLEDGER_AGENT === 'on' || (config.NETLEDGER_AGENT === 'auto' && process.getuid?.() === 0);
}
