import { DEFAULT_AVAILABILITY_ZONE } from '../domain/agent/index.js';
import { compareStrings } from '../projections/desired-state/ip.js';

/**
 * What zone-aware scheduling knows besides the ports and routers: the zone each host's agent
 * registered in, and the hints of the networks that have some (a router carries its own).
 */
export interface ZoneFacts {
  readonly hostZones: ReadonlyMap<string, string>;
  readonly networkHints: ReadonlyMap<string, readonly string[]>;
}

export const NO_ZONE_FACTS: ZoneFacts = { hostZones: new Map(), networkHints: new Map() };

/** The facts from the agents' registrations (a later entry of a host wins) and the networks' hints. */
export function zoneFactsOf(
  agents: readonly { readonly host: string; readonly availabilityZone: string }[],
  networkHints: ReadonlyMap<string, readonly string[]>,
): ZoneFacts {
  return { hostZones: new Map(agents.map((a) => [a.host, a.availabilityZone])), networkHints };
}

export function zoneOf(facts: ZoneFacts, host: string): string {
  return facts.hostZones.get(host) ?? DEFAULT_AVAILABILITY_ZONE;
}

/**
 * The host to give one more unit of a resource, as Neutron's AZ-aware schedulers choose: only
 * hosts in the resource's hinted zones (none: any zone), not already serving it (`serving`); the
 * zone serving it least first, so its agents spread over zones, then the host with the least
 * load, then the name, so every agent computes the same answer. Null: no host fits.
 */
export function pickHost(
  load: ReadonlyMap<string, number>,
  serving: ReadonlySet<string>,
  hints: readonly string[],
  facts: ZoneFacts,
): string | null {
  const zoneUse = new Map<string, number>();
  for (const h of serving) zoneUse.set(zoneOf(facts, h), (zoneUse.get(zoneOf(facts, h)) ?? 0) + 1);
  const use = (h: string) => zoneUse.get(zoneOf(facts, h)) ?? 0;
  const free = [...load]
    .filter(([h]) => !serving.has(h) && (hints.length === 0 || hints.includes(zoneOf(facts, h))))
    .sort((a, b) => use(a[0]) - use(b[0]) || a[1] - b[1] || compareStrings(a[0], b[0]));
  return free[0]?.[0] ?? null;
}
