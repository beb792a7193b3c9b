import type { Queryable } from '../db/sql.js';
import type { FloatingIpEvent } from '../domain/floating-ip/index.js';
import type { SecurityGroupEvent } from '../domain/security-group/index.js';
import type { ProjectedEvent } from '../store/types.js';
import type { Projection } from './projection.js';

/** Default groups and floating IP associations: the rows whose uniqueness keeps concurrent commands honest. */
export class RoutingProjection implements Projection {
  readonly name = 'routing';

  async apply(q: Queryable, events: readonly ProjectedEvent[]): Promise<void> {
    for (const raw of events) {
      if (raw.streamId.startsWith('floatingip-')) await this.floatingIp(q, { type: raw.type, data: raw.data } as FloatingIpEvent);
      else if (raw.streamId.startsWith('securitygroup-'))
        await this.securityGroup(q, { type: raw.type, data: raw.data } as SecurityGroupEvent);
    }
  }

  private async floatingIp(q: Queryable, e: FloatingIpEvent): Promise<void> {
    switch (e.type) {
      case 'FloatingIpCreated': {
        const a = e.data.association;
        await q`insert into rm_floating_ips (floating_ip_id, floating_network_id, port_id, fixed_ip_address, router_id)
                values (${e.data.id}, ${e.data.floatingNetworkId}, ${a?.portId ?? null}, ${a?.fixedIpAddress ?? null}, ${a?.routerId ?? null})`;
        break;
      }
      case 'FloatingIpAssociated':
        await q`update rm_floating_ips set port_id = ${e.data.portId}, fixed_ip_address = ${e.data.fixedIpAddress}, router_id = ${e.data.routerId}
                 where floating_ip_id = ${e.data.id}`;
        break;
      case 'FloatingIpDisassociated':
        await q`update rm_floating_ips set port_id = null, fixed_ip_address = null, router_id = null where floating_ip_id = ${e.data.id}`;
        break;
      case 'FloatingIpDeleted':
        await q`delete from rm_floating_ips where floating_ip_id = ${e.data.id}`;
        break;
      default:
        break;
    }
  }

  private async securityGroup(q: Queryable, e: SecurityGroupEvent): Promise<void> {
    if (e.type === 'SecurityGroupCreated' && e.data.isDefault) {
      await q`insert into rm_default_security_groups (project_id, group_id) values (${e.data.project}, ${e.data.id})`;
    } else if (e.type === 'SecurityGroupDeleted' && e.data.isDefault) {
      await q`delete from rm_default_security_groups where group_id = ${e.data.id}`;
    }
  }

  async reset(q: Queryable): Promise<void> {
    await q`truncate rm_default_security_groups, rm_floating_ips`;
  }
}
