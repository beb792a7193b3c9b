import { createHash } from 'node:crypto';
import type { Lifecycle } from '../../domain/common/index.js';
import { isDomainError, type DomainError } from '../../domain/errors.js';
import { DeviceOwner, portStreamId, type PortState } from '../../domain/port/index.js';
import type { Principal } from '../../domain/policy/index.js';
import { routerDecider, routerStreamId, type HaState, type Router } from '../../domain/router/index.js';
import type { EventMetadata } from '../../store/types.js';
import type { PlannedAppend } from '../command-runtime.js';
import { createNetwork } from '../networking/networks.js';
import { createPort, planUpdatePort } from '../networking/ports.js';
import { createSubnet } from '../networking/subnets.js';
import { decideAppend } from '../plan.js';
import type { Services } from '../services.js';

/**
 * L3 HA on the control plane side (reference 2.7). Every object is an ordinary resource made by
 * ordinary commands, so the log says what happened and the dataplane needs nothing new to plumb it:
 *   - the project's HA network and subnet (169.254.192.0/18, no DHCP, no gateway), owned by no
 *     project, as Neutron's tenant-less HA network is, so the project's lists do not show them;
 *   - one `network:router_ha_interface` port per hosting agent, bound to that agent's host (the
 *     scheduling decision: the hosts of an HA router are the hosts of its HA ports);
 *   - the VRRP id, a router event (RouterHaVridAllocated) decided under a lock on the HA network.
 * Ids are name-based, so two agents scheduling at once create the same objects, not two of each.
 */

/** Neutron's l3_ha_net_cidr default. */
export const HA_CIDR = '169.254.192.0/18';

/** The platform creates HA objects: no project owns them. */
const HA_ACTOR: Principal = { projectId: '', isAdmin: true };

function nameUuid(text: string): string {
  const h = createHash('sha1').update(`netledger-ha:${text}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export const haNetworkIdOf = (project: string): string => nameUuid(`network:${project}`);
export const haSubnetIdOf = (project: string): string => nameUuid(`subnet:${project}`);
export const haPortIdOf = (routerId: string, host: string): string => nameUuid(`port:${routerId}:${host}`);

const exists = async (s: Services, kind: string, id: string): Promise<boolean> =>
  (await s.sql`select 1 from rm_resources where kind = ${kind} and id = ${id}`).length > 0;

/** Creates the project's HA network and subnet unless they exist. */
export async function ensureHaNetwork(s: Services, metadata: EventMetadata, project: string): Promise<string | DomainError> {
  const networkId = haNetworkIdOf(project);
  if (!(await exists(s, 'network', networkId))) {
    const out = await createNetwork(s, HA_ACTOR, { id: networkId, name: `HA network tenant ${project}` }, metadata);
    if (!out.ok && out.error.code !== 'NetworkAlreadyExists') return out.error;
  }
  const subnetId = haSubnetIdOf(project);
  if (!(await exists(s, 'subnet', subnetId))) {
    const out = await createSubnet(
      s,
      HA_ACTOR,
      {
        id: subnetId,
        networkId,
        name: `HA subnet tenant ${project}`,
        ipVersion: 4,
        cidr: HA_CIDR,
        gatewayIp: null,
        enableDhcp: false,
      },
      metadata,
    );
    if (!out.ok && out.error.code !== 'SubnetAlreadyExists') return out.error;
  }
  return networkId;
}

/** The router's VRRP id: the lowest free on the HA network, decided under that network's lock. */
export async function allocateHaVrid(s: Services, metadata: EventMetadata, routerId: string, haNetworkId: string) {
  return s.runtime.execute(metadata, async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtextextended(${`ha-vrid:${haNetworkId}`}, 0))`;
    const rows = await tx<{ vrid: number }[]>`
      select (doc->'haVrid'->>'vrid')::int as vrid from rm_resources
       where kind = 'router' and doc->'haVrid'->>'networkId' = ${haNetworkId} and id <> ${routerId}`;
    const loaded = await s.aggregates.load<Lifecycle<Router>>(tx, routerStreamId(routerId));
    const append = decideAppend(routerDecider, loaded, routerStreamId(routerId), {
      type: 'AllocateHaVrid',
      id: routerId,
      haNetworkId,
      vridsInUse: rows.map((r) => r.vrid),
      now: new Date().toISOString(),
    });
    return isDomainError(append) ? append : { appends: [append], result: routerId };
  });
}

/** Schedules the router on `host`: its HA port there (Neutron's "HA port tenant <project>"). */
export function addHaPort(s: Services, metadata: EventMetadata, router: Router, host: string) {
  return createPort(
    s,
    HA_ACTOR,
    {
      id: haPortIdOf(router.id, host),
      networkId: haNetworkIdOf(router.project),
      name: `HA port tenant ${router.project}`,
      deviceOwner: DeviceOwner.routerHaInterface,
      deviceId: router.id,
      bindingHost: host,
      portSecurityEnabled: false,
    },
    metadata,
  );
}

/**
 * A hosting agent's keepalived changed state. The new active host also takes the router's ports
 * (binding:host_id, as Neutron's update_routers_states does): the overlay's forwarding entries for
 * the gateway MACs follow the binding, so the other hosts send to the new active one.
 */
export async function reportHaState(s: Services, metadata: EventMetadata, host: string, routerId: string, haState: HaState) {
  return s.runtime.execute(metadata, async (tx) => {
    const now = new Date().toISOString();
    const loaded = await s.aggregates.load<Lifecycle<Router>>(tx, routerStreamId(routerId));
    const append = decideAppend(routerDecider, loaded, routerStreamId(routerId), {
      type: 'ReportHaState',
      id: routerId,
      host,
      haState,
      now,
    });
    if (isDomainError(append)) return append;
    const appends: PlannedAppend[] = [append];
    if (haState === 'active' && loaded.state.status === 'live') {
      const r = loaded.state.resource;
      const portIds = [...new Set([...(r.gateway ? [r.gateway.portId] : []), ...r.interfaces.map((i) => i.portId)])];
      for (const id of portIds) {
        const port = await s.aggregates.load<PortState>(tx, portStreamId(id));
        if (port.state.status !== 'live' || port.state.resource.bindingHost === host) continue;
        const planned = await planUpdatePort(s, tx, HA_ACTOR, id, { bindingHost: host }, undefined, now);
        if (!isDomainError(planned)) appends.push(planned.append);
      }
    }
    return { appends, result: routerId };
  });
}
