import type { Queryable } from '../db/sql.js';
import { DEFAULT_AVAILABILITY_ZONE } from '../domain/agent/index.js';
import { listAgents } from '../projections/agents-projection.js';

/**
 * The zones a network's or router's hints may name: those some agent has registered in, running
 * or not (Neutron's validate_availability_zones looks at every agent row). Every agent here is
 * DHCP and L3 agent at once, so one set serves networks and routers.
 */
export async function knownAvailabilityZones(q: Queryable): Promise<string[]> {
  const zones = new Set((await listAgents(q)).map((a) => a.availabilityZone ?? DEFAULT_AVAILABILITY_ZONE));
  return [...zones].sort();
}

/** The facts a create with hints needs: none without hints (no read). */
export async function availabilityZoneFacts(
  q: Queryable,
  hints: readonly string[] | undefined,
): Promise<{ knownAvailabilityZones?: string[] }> {
  return hints && hints.length > 0 ? { knownAvailabilityZones: await knownAvailabilityZones(q) } : {};
}
