import type { TopologyVtep } from '../desired-state/topology.js';
import { agentsOf, type TopologyFragment, type TopologySource } from './source.js';

/**
 * Tunnel endpoints: every registered host that gave an underlay address, dead, stopped or alive
 * (in a host's slice, those its slice's ports are bound to).
 * A stopped agent leaves its dataplane running, and a dead host's compute ports stay bound to it
 * (their instances come back with it); its routers and DHCP ports are moved by the scheduler.
 */
export async function vtepTopologyPart(source: TopologySource): Promise<TopologyFragment> {
  const vteps: TopologyVtep[] = [];
  for (const a of await agentsOf(source)) {
    const address = a.underlayAddress ?? null;
    if (address !== null) vteps.push({ host: a.host, address });
  }
  return { vteps };
}
