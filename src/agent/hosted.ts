import type { Queryable } from '../db/sql.js';
import { DeviceOwner } from '../domain/port/index.js';

export interface HostedResources {
  /** Routers with a port bound to the host (all of a router's ports go to one host). */
  readonly routerIds: readonly string[];
  /** Networks whose DHCP port is bound to the host. */
  readonly dhcpNetworkIds: readonly string[];
}

/** What the scheduler placed on `host`, read from the ports' bindingHost (the one record of where). */
export async function hostedResources(q: Queryable, host: string): Promise<HostedResources> {
  const rows = await q<{ owner: string; device_id: string; network_id: string }[]>`
    select doc->>'deviceOwner' as owner, doc->>'deviceId' as device_id, doc->>'networkId' as network_id
    from rm_resources where kind = 'port' and doc->>'bindingHost' = ${host}
      and (doc->>'deviceOwner' = ${DeviceOwner.dhcp} or doc->>'deviceOwner' like 'network:router%')`;
  const routerIds = new Set<string>();
  const dhcpNetworkIds = new Set<string>();
  for (const r of rows) {
    if (r.owner === DeviceOwner.dhcp) dhcpNetworkIds.add(r.network_id);
    else if (r.device_id) routerIds.add(r.device_id);
  }
  return { routerIds: [...routerIds].sort(), dhcpNetworkIds: [...dhcpNetworkIds].sort() };
}

/** The router ports a scheduler binds (a distributed router's interfaces never are). */
const BOUND_ROUTER_OWNERS: string[] = [
  DeviceOwner.routerInterface,
  DeviceOwner.routerGateway,
  DeviceOwner.routerHaInterface,
  DeviceOwner.routerCentralizedSnat,
];

/**
 * The hosts serving each of `ids`, read from the ports' bindingHost: a network's DHCP ports, or
 * every port a router owns (interfaces, gateway, HA and SNAT ports). Ids serving nowhere are absent.
 */
export async function hostsServing(q: Queryable, kind: 'network' | 'router', ids: readonly string[]): Promise<Map<string, string[]>> {
  const rows =
    kind === 'network'
      ? await q<{ id: string; hosts: string[] }[]>`
          select network_id as id, array_agg(distinct doc->>'bindingHost' order by doc->>'bindingHost') as hosts from rm_resources
           where kind = 'port' and network_id = any(${ids as string[]}::uuid[]) and doc->>'deviceOwner' = ${DeviceOwner.dhcp}
             and doc->>'bindingHost' <> '' group by network_id`
      : await q<{ id: string; hosts: string[] }[]>`
          select doc->>'deviceId' as id, array_agg(distinct doc->>'bindingHost' order by doc->>'bindingHost') as hosts from rm_resources
           where kind = 'port' and doc->>'deviceOwner' = any(${BOUND_ROUTER_OWNERS}::text[]) and doc->>'deviceId' = any(${ids as string[]}::text[])
             and doc->>'bindingHost' <> '' group by doc->>'deviceId'`;
  return new Map(rows.map((r) => [String(r.id), r.hosts]));
}
