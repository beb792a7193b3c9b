import { pipelined } from '../../db/pipelined.js';
import type { Lifecycle } from '../../domain/common/index.js';
import { decodeState } from '../../projections/json-state.js';
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

/**
 * lockNetworkForUse and the network's subnets (subnetsOf) in one round trip: the lock and the two
 * reads go down the connection together, sent at once in this order. Each read is a statement of
 * its own after the lock, so it sees whatever committed while the lock waited, as a read sent
 * after it would.
 */
export async function lockNetworkWithSubnets(
  tx: Tx,
  networkId: string,
  actor: Principal,
): Promise<{ network: Network | null; subnets: Subnet[] }> {
  if (!isUuid(networkId)) return { network: null, subnets: [] };
  const [locked, network, subnets] = await pipelined([
    tx`select 1 from rm_resources where id = ${networkId} and kind = 'network' for share`.execute(),
    tx<{ state: unknown }[]>`select state from rm_aggregates where stream_id = ${`network-${networkId}`}`.execute(),
    tx<{ stream_id: string; state: Lifecycle<Subnet> }[]>`
      select stream_id, state from rm_aggregates
       where stream_id in (select stream_id from rm_resources where kind = 'subnet' and network_id = ${networkId})`.execute(),
  ] as const);
  const state = locked.length > 0 && network[0] ? decodeState<Lifecycle<Network>>(network[0].state) : null;
  if (state?.status !== 'live' || !maySee(actor, 'network', state.resource)) return { network: null, subnets: [] };
  return { network: state.resource, subnets: inNetworkOrder(state.resource, subnets) };
}

/** The network's subnets in creation order (the order port allocation tries them). */
export async function subnetsOf(s: Services, tx: Tx, network: Network): Promise<Subnet[]> {
  if (network.subnets.length === 0) return [];
  const rows = await tx<{ stream_id: string; state: Lifecycle<Subnet> }[]>`
    select stream_id, state from rm_aggregates where stream_id = any(${network.subnets.map((r) => `subnet-${r.id}`)})`;
  return inNetworkOrder(network, rows);
}

/** The live subnets among `rows` that the network lists, in its order. */
function inNetworkOrder(network: Network, rows: readonly { state: Lifecycle<Subnet> }[]): Subnet[] {
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
