import { DEFAULT_AGENT_MODE } from '../../domain/agent/modes.js';
import type { TopologyDvrHost } from '../desired-state/topology.js';
import { agentsOf, type TopologyFragment, type TopologySource } from './source.js';

/**
 * Every registered host's agent mode and DVR MAC: who builds which part of a distributed router
 * (a host's compile reads its own MAC only; its slice holds the hosts its ports are bound to).
 */
export async function dvrHostTopologyPart(source: TopologySource): Promise<TopologyFragment> {
  const dvrHosts: TopologyDvrHost[] = (await agentsOf(source)).map((a) => ({
    host: a.host,
    agentMode: a.agentMode ?? DEFAULT_AGENT_MODE,
    dvrHostMac: a.dvrHostMac ?? null,
  }));
  return { dvrHosts };
}
