import { pipelined } from '../db/pipelined.js';
import type { Queryable } from '../db/sql.js';
import type { FloatingIpEvent } from '../domain/floating-ip/index.js';
import type { SecurityGroupEvent } from '../domain/security-group/index.js';
import type { ProjectedEvent } from '../store/types.js';
import type { Projection } from './projection.js';

/** Default groups and floating IP associations: the rows whose uniqueness keeps concurrent commands honest. */
export class RoutingProjection implements Projection {
  readonly name = 'routing';

  /** Every event's writes go down the connection one behind the other, in event order: one round trip. */
  async apply(q: Queryable, events: readonly ProjectedEvent[]): Promise<void> {
    const sent: Promise<unknown>[] = [];
    for (const raw of events) {
      if (raw.streamId.startsWith('floatingip-')) sent.push(...this.floatingIp(q, { type: raw.type, data: raw.data } as FloatingIpEvent));
      else if (raw.streamId.startsWith('securitygroup-'))
        sent.push(...this.securityGroup(q, { type: raw.type, data: raw.data } as SecurityGroupEvent));
    }
    await pipelined(sent);
  }

  private floatingIp(q: Queryable, e: FloatingIpEvent): Promise<unknown>[] {
    switch (e.type) {
      case 'FloatingIpCreated': {
        const a = e.data.association;
        return [
          q`insert into rm_floating_ips (floating_ip_id, floating_network_id, port_id, fixed_ip_address, router_id)
                values (${e.data.id}, ${e.data.floatingNetworkId}, ${a?.portId ?? null}, ${a?.fixedIpAddress ?? null}, ${a?.routerId ?? null})`.execute(),
        ];
      }
      case 'FloatingIpAssociated':
        return [
          q`update rm_floating_ips set port_id = ${e.data.portId}, fixed_ip_address = ${e.data.fixedIpAddress}, router_id = ${e.data.routerId}
                 where floating_ip_id = ${e.data.id}`.execute(),
        ];
      case 'FloatingIpDisassociated':
        return [
          q`update rm_floating_ips set port_id = null, fixed_ip_address = null, router_id = null where floating_ip_id = ${e.data.id}`.execute(),
        ];
      case 'FloatingIpDeleted':
        return [q`delete from rm_floating_ips where floating_ip_id = ${e.data.id}`.execute()];
      default:
        return [];
    }
  }

  private securityGroup(q: Queryable, e: SecurityGroupEvent): Promise<unknown>[] {
    if (e.type === 'SecurityGroupCreated' && e.data.isDefault) {
      return [q`insert into rm_default_security_groups (project_id, group_id) values (${e.data.project}, ${e.data.id})`.execute()];
    } else if (e.type === 'SecurityGroupDeleted' && e.data.isDefault) {
      return [q`delete from rm_default_security_groups where group_id = ${e.data.id}`.execute()];
    }
    return [];
  }

  async reset(q: Queryable): Promise<void> {
    await q`truncate rm_default_security_groups, rm_floating_ips`;
  }
}
