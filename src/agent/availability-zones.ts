import {
  AVAILABILITY_ZONE_RESOURCES,
  type AvailabilityZoneResource,
  type AvailabilityZoneState,
} from '../domain/common/availability-zones.js';
import { compareStrings } from '../projections/desired-state/ip.js';
import type { AgentProgress } from './applied.js';

/** One row of Neutron's GET /v2.0/availability_zones. */
export interface AvailabilityZoneRow {
  readonly name: string;
  readonly resource: AvailabilityZoneResource;
  readonly state: AvailabilityZoneState;
}

/**
 * The zones agents registered in, each once per resource it serves: every agent here is a DHCP
 * and an L3 agent at once, so each zone is listed for networks and for routers alike. A zone is
 * available while a live, enabled agent is in it (one the schedulers would give something).
 */
export function availabilityZoneRows(agents: readonly AgentProgress[]): AvailabilityZoneRow[] {
  const usable = new Map<string, boolean>();
  for (const a of agents) usable.set(a.availabilityZone, (usable.get(a.availabilityZone) ?? false) || (a.alive && a.adminStateUp));
  return [...usable]
    .sort((a, b) => compareStrings(a[0], b[0]))
    .flatMap(([name, up]) => AVAILABILITY_ZONE_RESOURCES.map((resource) => ({ name, resource, state: up ? 'available' : 'unavailable' })));
}

/** The zones of `hosts` as their agents registered them; hosts without an agent add none. */
export function zonesOfHosts(agents: readonly AgentProgress[], hosts: readonly string[]): string[] {
  const zoneOf = new Map(agents.map((a) => [a.host, a.availabilityZone]));
  const zones = new Set(hosts.flatMap((h) => (zoneOf.has(h) ? [zoneOf.get(h)!] : [])));
  return [...zones].sort(compareStrings);
}
