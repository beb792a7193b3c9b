import type { Lifecycle } from '../../domain/common/index.js';
import type { Subnet } from '../../domain/subnet/index.js';
import type { Tx } from '../command-runtime.js';
import { isUuid } from '../networking/facts.js';
import type { Services } from '../services.js';
import { isOwnerOrAdmin, type Principal } from '../../domain/policy/index.js';

/** Loads a resource the actor may change; another project's resource is simply not found (null). */
export async function loadOwn<R extends { project: string }>(s: Services, tx: Tx, actor: Principal, streamType: string, id: string) {
  if (!isUuid(id)) return null;
  const loaded = await s.aggregates.load<Lifecycle<R>>(tx, `${streamType}-${id}`);
  if (loaded.state.status === 'live' && !isOwnerOrAdmin(actor, loaded.state.resource)) return null;
  return loaded;
}

/**
 * Locks a resource's read-model row for the rest of the transaction: `update` by commands whose
 * checks a concurrent `share` holder could invalidate, `share` by those that only rely on it.
 * Answers whether the row exists.
 */
export async function lockRow(tx: Tx, id: string, mode: 'share' | 'update'): Promise<boolean> {
  if (!isUuid(id)) return false;
  const rows =
    mode === 'update'
      ? await tx`select 1 from rm_resources where id = ${id} for update`
      : await tx`select 1 from rm_resources where id = ${id} for share`;
  return rows.length > 0;
}

/** Fixed IPs with the CIDR of their subnet, as the router decider takes them. */
export function withCidrs(fixedIps: readonly { subnetId: string; ipAddress: string }[], subnets: readonly Subnet[]) {
  return fixedIps.flatMap((f) => {
    const subnet = subnets.find((x) => x.id === f.subnetId);
    return subnet ? [{ subnetId: f.subnetId, ipAddress: f.ipAddress, cidr: subnet.cidr }] : [];
  });
}
