import type { Lifecycle } from '../../domain/common/index.js';
import type { Network } from '../../domain/network/index.js';
import { subnetFacts, type Subnet, type SubnetFacts } from '../../domain/subnet/index.js';
import type { Tx } from '../command-runtime.js';
import type { Services } from '../services.js';
import { maySee, type Principal } from '../../domain/policy/index.js';

/** A network the actor may use, locked for share so a concurrent delete waits for us (or we for it). */
export async function lockNetworkForUse(s: Services, tx: Tx, networkId: string, actor: Principal): Promise<Network | null> {
  if (!isUuid(networkId)) return null;
  const [row] = await tx`select 1 from rm_resources where id = ${networkId} and kind = 'network' for share`;
  if (!row) return null;
  const { state } = await s.aggregates.load<Lifecycle<Network>>(tx, `network-${networkId}`);
  if (state.status !== 'live') return null;
  const n = state.resource;
  return maySee(actor, 'network', n) ? n : null;
}

/** The network's subnets in creation order (the order port allocation tries them). */
export async function subnetsOf(s: Services, tx: Tx, network: Network): Promise<Subnet[]> {
  if (network.subnets.length === 0) return [];
  const rows = await tx<{ stream_id: string; state: Lifecycle<Subnet> }[]>`
    select stream_id, state from rm_aggregates where stream_id = any(${network.subnets.map((r) => `subnet-${r.id}`)})`;
  const byId = new Map(
    rows
      .filter((r) => r.state.status === 'live')
      .map((r) => [(r.state as { resource: Subnet }).resource.id, (r.state as { resource: Subnet }).resource]),
  );
  return network.subnets.map((r) => byId.get(r.id)).filter((x): x is Subnet => x !== undefined);
}

export const factsOf = (subnets: readonly Subnet[]): SubnetFacts[] => subnets.map(subnetFacts);

export function isUuid(v: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);
}
