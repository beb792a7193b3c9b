import { listAgents } from '../agents-projection.js';
import type { TopologyVtep } from '../desired-state/topology.js';
import type { TopologyFragment, TopologySource } from './source.js';

/**
 * Tunnel endpoints: every registered host that gave an underlay address, dead, stopped or alive.
 * A stopped agent leaves its dataplane running, and a dead host's compute ports stay bound to it
 * (their instances come back with it); its routers and DHCP ports are moved by the scheduler.
 */
export async function vtepTopologyPart(source: TopologySource): Promise<TopologyFragment> {
  const vteps: TopologyVtep[] = [];
  for (const a of await listAgents(source.q)) {
    const address = a.underlayAddress ?? null;
    if (address !== null) vteps.push({ host: a.host, address });
  }
  return { vteps };
}
