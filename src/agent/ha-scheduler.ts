import type { Logger } from 'pino';
import { DeviceOwner, type Port } from '../domain/port/index.js';
import type { Router } from '../domain/router/index.js';
import { addHaPort, allocateHaVrid, ensureHaNetwork } from '../app/routing/ha.js';
import type { Services } from '../app/services.js';
import { compareStrings } from '../projections/desired-state/ip.js';
import { routerPortIds, type ResourceDoc } from '../projections/topology/index.js';
import { agentMetadata } from './registration.js';
import { NO_ZONE_FACTS, pickHost, type ZoneFacts } from './zone-choice.js';

/**
 * Where HA routers run (Neutron's L3 HA scheduler): each HA router with ports on up to
 * `maxAgents` live hosts, the hosts with the fewest HA routers first, ties broken by name, so
 * every agent computes the same answer. A router with availability_zone_hints goes only to hosts
 * in those zones, and its hosts spread over distinct zones first (Neutron's
 * AZLeastRoutersScheduler). A host stays a router's host when its agent dies (its
 * keepalived is simply gone; the standby takes over without the control plane), so a returning
 * host finds its router again and joins as standby; no new host is added while a dead one still
 * counts, as Neutron does not reschedule HA routers on agent failure.
 */
export interface HaSchedule {
  readonly router: Router;
  readonly needsVrid: boolean;
  readonly addHosts: readonly string[];
}

export function hostsOfHaRouter(ports: readonly ResourceDoc<Port>[], routerId: string): string[] {
  return ports
    .filter((p) => p.doc.deviceOwner === DeviceOwner.routerHaInterface && p.doc.deviceId === routerId && p.doc.bindingHost !== '')
    .map((p) => p.doc.bindingHost)
    .sort(compareStrings);
}

export function planHaRouters(
  ports: readonly ResourceDoc<Port>[],
  routers: readonly ResourceDoc<Router>[],
  liveHosts: readonly string[],
  maxAgents: number,
  zones: ZoneFacts = NO_ZONE_FACTS,
): HaSchedule[] {
  const load = new Map(liveHosts.map((h) => [h, 0]));
  for (const p of ports) {
    if (p.doc.deviceOwner === DeviceOwner.routerHaInterface && load.has(p.doc.bindingHost)) {
      load.set(p.doc.bindingHost, (load.get(p.doc.bindingHost) ?? 0) + 1);
    }
  }
  const out: HaSchedule[] = [];
  for (const r of [...routers].sort((a, b) => compareStrings(a.id, b.id))) {
    if (!r.doc.ha || routerPortIds(r.doc).length === 0) continue;
    const hosting = new Set(hostsOfHaRouter(ports, r.id));
    const addHosts: string[] = [];
    const serving = new Set(hosting);
    for (let n = hosting.size; n < maxAgents; n++) {
      const h = pickHost(load, serving, r.doc.availabilityZoneHints ?? [], zones);
      if (h === null) break;
      addHosts.push(h);
      serving.add(h);
      load.set(h, (load.get(h) ?? 0) + 1);
    }
    const needsVrid = !r.doc.haVrid;
    if (needsVrid || addHosts.length > 0) out.push({ router: r.doc, needsVrid, addHosts });
  }
  return out;
}

/** Carries the plan out; returns how many things changed (non-zero: read the topology again). */
export async function scheduleHaRouters(
  s: Services,
  host: string,
  ports: readonly ResourceDoc<Port>[],
  routers: readonly ResourceDoc<Router>[],
  liveHosts: readonly string[],
  log: Logger,
  zones: ZoneFacts = NO_ZONE_FACTS,
): Promise<number> {
  const plan = planHaRouters(ports, routers, liveHosts, s.config.NETLEDGER_MAX_L3_AGENTS_PER_ROUTER, zones);
  let changed = 0;
  const metadata = agentMetadata(host);
  for (const item of plan) {
    const networkId = await ensureHaNetwork(s, metadata, item.router.project);
    if (typeof networkId !== 'string') {
      log.warn({ routerId: item.router.id, error: networkId }, 'could not create the HA network');
      continue;
    }
    if (item.needsVrid) {
      const out = await allocateHaVrid(s, metadata, item.router.id, networkId);
      if (out.ok) changed += 1;
      else log.warn({ routerId: item.router.id, error: out.error }, 'could not allocate a VRRP id');
    }
    for (const h of item.addHosts) {
      const out = await addHaPort(s, metadata, item.router, h);
      if (out.ok) changed += 1;
      else if (out.error.code !== 'PortAlreadyExists')
        log.warn({ routerId: item.router.id, host: h, error: out.error }, 'could not add an HA port');
    }
    log.info({ routerId: item.router.id, hosts: item.addHosts, vrid: item.needsVrid }, 'scheduled HA router');
  }
  return changed;
}
