import { DEFAULT_AGENT_MODE } from '../../domain/agent/modes.js';
import { listAgents } from '../agents-projection.js';
import type { TopologyDvrHost } from '../desired-state/topology.js';
import type { TopologyFragment, TopologySource } from './source.js';

/** Every registered host's agent mode and DVR MAC: who builds which part of a distributed router. */
export async function dvrHostTopologyPart(source: TopologySource): Promise<TopologyFragment> {
  const dvrHosts: TopologyDvrHost[] = (await listAgents(source.q)).map((a) => ({
    host: a.host,
    agentMode: a.agentMode ?? DEFAULT_AGENT_MODE,
    dvrHostMac: a.dvrHostMac ?? null,
  }));
  return { dvrHosts };
}
