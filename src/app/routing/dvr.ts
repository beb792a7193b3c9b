import { createHash } from 'node:crypto';
import { isDomainError, type DomainError } from '../../domain/errors.js';
import { DeviceOwner } from '../../domain/port/index.js';
import { platformPrincipal, type Principal } from '../../domain/policy/index.js';
import type { Router } from '../../domain/router/index.js';
import type { EventMetadata } from '../../store/types.js';
import type { PlannedAppend, Tx } from '../command-runtime.js';
import { createPort, planDeletePort } from '../networking/ports.js';
import type { ResourceDoc } from '../../projections/topology/index.js';
import type { Services } from '../services.js';

/**
 * The ports a distributed router needs besides its own (reference 2.8), ordinary ports made by
 * ordinary commands so the log says what happened and the addresses come from IPAM:
 *   - `network:router_centralized_snat`: one per IPv4 subnet the router is attached to, while it
 *     has a gateway: the sg- port in the snat namespace, the next hop of the compute hosts'
 *     north-south traffic without a floating IP. Bound with the gateway port (the scheduler).
 *   - `network:floatingip_agent_gateway`: one per host and external network while the host holds
 *     an instance with a floating IP there: the fg- port of the host's fip namespace.
 * The agents create them (agent/dvr-scheduler.ts); the router commands delete the sg- ports that lose their reason, in the same
 * transaction, so a subnet detached from the router can be deleted at once.
 */

/** The platform creates these ports: no project owns them (Neutron gives them an empty tenant). */
const DVR_ACTOR: Principal = { projectId: '', isAdmin: true };

function nameUuid(text: string): string {
  const h = createHash('sha1').update(`netledger-dvr:${text}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/**
 * Ids are never reused, and a subnet may lose its sg- port and get one again: the router's
 * revision (every change that deletes one moves it on) keeps the next one new, while two agents
 * planning from the same revision still make one port.
 */
export const snatPortIdOf = (routerId: string, routerRevision: number, subnetId: string): string =>
  nameUuid(`snat:${routerId}:${routerRevision}:${subnetId}`);

/** The router's sg- port on `subnetId`, bound where its gateway port is (`host`, may be ''). */
export function addSnatPort(
  s: Services,
  metadata: EventMetadata,
  router: ResourceDoc<Router>,
  subnet: { id: string; networkId: string },
  host: string,
) {
  return createPort(
    s,
    DVR_ACTOR,
    {
      id: snatPortIdOf(router.id, router.revision, subnet.id),
      networkId: subnet.networkId,
      fixedIps: [{ subnetId: subnet.id }],
      deviceOwner: DeviceOwner.routerCentralizedSnat,
      deviceId: router.id,
      bindingHost: host,
      portSecurityEnabled: false,
    },
    metadata,
  );
}

/**
 * `host`'s fg- port on the external network (Neutron's device_id is the agent; here the host).
 * Only the host's own agent makes it, one round at a time: a fresh id.
 */
export function addFipAgentGatewayPort(s: Services, metadata: EventMetadata, host: string, networkId: string) {
  return createPort(
    s,
    DVR_ACTOR,
    {
      networkId,
      deviceOwner: DeviceOwner.floatingIpAgentGateway,
      deviceId: host,
      bindingHost: host,
      portSecurityEnabled: false,
    },
    metadata,
  );
}

/** Deletes a DVR port the agents made and no longer need. */
export function deleteDvrPort(s: Services, metadata: EventMetadata, portId: string) {
  return s.runtime.execute(metadata, async (tx) => {
    const del = await planDeletePort(s, tx, platformPrincipal(''), portId, undefined, new Date().toISOString(), true);
    return isDomainError(del) ? del : { appends: [del], result: portId };
  });
}

/** The subnets a router in this state keeps sg- ports on: its IPv4 interface subnets, while distributed with a gateway. */
export function snatSubnetsOf(router: Router | null): Set<string> {
  if (!router || !router.distributed || !router.gateway) return new Set();
  return new Set(router.interfaces.filter((i) => !i.ip.includes(':')).map((i) => i.subnetId));
}

/** Deletes the router's sg- ports that `after` (the router once the command's events apply; null: deleted) no longer needs. */
export async function planDeleteStaleSnatPorts(
  s: Services,
  tx: Tx,
  routerId: string,
  after: Router | null,
  now: string,
): Promise<PlannedAppend[] | DomainError> {
  const keep = snatSubnetsOf(after);
  const ports = await tx<{ id: string; subnet_id: string | null }[]>`
    select id, doc->'fixedIps'->0->>'subnetId' as subnet_id from rm_resources
     where kind = 'port' and doc->>'deviceOwner' = ${DeviceOwner.routerCentralizedSnat} and doc->>'deviceId' = ${routerId} order by id`;
  const appends: PlannedAppend[] = [];
  for (const p of ports) {
    if (p.subnet_id !== null && keep.has(p.subnet_id)) continue;
    const del = await planDeletePort(s, tx, platformPrincipal(''), p.id, undefined, now, true);
    if (isDomainError(del)) return del;
    appends.push(del);
  }
  return appends;
}
