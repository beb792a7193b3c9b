import { pipelined } from '../db/pipelined.js';
import type { Queryable } from '../db/sql.js';
import type { NetworkEvent } from '../domain/network/index.js';
import type { FixedIp, PortEvent } from '../domain/port/index.js';
import type { ProjectedEvent } from '../store/types.js';
import type { Projection } from './projection.js';

/** Addresses, MACs and segments in use: the rows whose uniqueness keeps concurrent creates honest. */
export class NetworkingProjection implements Projection {
  readonly name = 'networking';

  /** Every event's writes go down the connection one behind the other, in event order: one round trip. */
  async apply(q: Queryable, events: readonly ProjectedEvent[]): Promise<void> {
    const sent: Promise<unknown>[] = [];
    for (const raw of events) {
      if (raw.streamId.startsWith('port-')) sent.push(...this.port(q, { type: raw.type, data: raw.data } as PortEvent));
      else if (raw.streamId.startsWith('network-')) sent.push(...this.network(q, { type: raw.type, data: raw.data } as NetworkEvent));
    }
    await pipelined(sent);
  }

  private port(q: Queryable, e: PortEvent): Promise<unknown>[] {
    switch (e.type) {
      case 'PortCreated':
        return [
          ...claim(q, e.data.networkId, e.data.id, e.data.fixedIps),
          q`insert into rm_port_macs (network_id, mac_address, port_id) values (${e.data.networkId}, ${e.data.macAddress}, ${e.data.id})`.execute(),
        ];
      case 'PortUpdated':
        // A new MAC moves the port's row, so its uniqueness vetoes a racing port taking the same MAC.
        return e.data.changes.macAddress !== undefined
          ? [q`update rm_port_macs set mac_address = ${e.data.changes.macAddress} where port_id = ${e.data.id}`.execute()]
          : [];
      case 'FixedIpsChanged':
        return [...release(q, e.data.networkId, e.data.released), ...claim(q, e.data.networkId, e.data.id, e.data.allocated)];
      case 'PortDeleted':
        return [
          q`delete from rm_ip_allocations where port_id = ${e.data.id}`.execute(),
          q`delete from rm_port_macs where port_id = ${e.data.id}`.execute(),
        ];
      default:
        return [];
    }
  }

  private network(q: Queryable, e: NetworkEvent): Promise<unknown>[] {
    if (e.type === 'NetworkCreated') {
      const p = e.data.provider;
      // Local networks have no segment to collide on.
      if (p.networkType === 'local') return [];
      return [
        q`insert into rm_segments (network_type, physical_network, segmentation_id, network_id)
              values (${p.networkType}, ${p.physicalNetwork ?? ''}, ${p.segmentationId ?? 0}, ${e.data.id})`.execute(),
      ];
    }
    if (e.type === 'NetworkDeleted') return [q`delete from rm_segments where network_id = ${e.data.id}`.execute()];
    return [];
  }

  async reset(q: Queryable): Promise<void> {
    await q`truncate rm_ip_allocations, rm_port_macs, rm_segments`;
  }
}

function claim(q: Queryable, networkId: string, portId: string, ips: readonly FixedIp[]): Promise<unknown>[] {
  if (ips.length === 0) return [];
  const rows = ips.map((ip) => ({ network_id: networkId, ip_address: ip.ipAddress, subnet_id: ip.subnetId, port_id: portId }));
  return [
    q`insert into rm_ip_allocations (network_id, ip_address, subnet_id, port_id)
          select network_id, ip_address::inet, subnet_id, port_id
            from jsonb_to_recordset(${q.json(rows as never)}::jsonb) as x(network_id uuid, ip_address text, subnet_id uuid, port_id uuid)`.execute(),
  ];
}

function release(q: Queryable, networkId: string, ips: readonly FixedIp[]): Promise<unknown>[] {
  if (ips.length === 0) return [];
  return [
    q`delete from rm_ip_allocations where network_id = ${networkId} and ip_address = any(${ips.map((i) => i.ipAddress)}::inet[])`.execute(),
  ];
}
