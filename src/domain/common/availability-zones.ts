import { z } from 'zod';
import { domainError, invalidField, type DomainError } from '../errors.js';

/**
 * Neutron's availability_zone_hints of networks and routers: where the user wants its DHCP or its
 * L3 agents. Given on create only (allow_put is false in both extensions) and stored as given.
 */
export const availabilityZoneHintsSchema = z.array(z.string()).optional();

/** Neutron stores the hints as a JSON list in a 255-character column (AZ_HINTS_DB_LEN). */
const MAX_HINTS_JSON_LENGTH = 255;

const FIELD = ['availabilityZoneHints'];

/**
 * The hints, when every one names a zone some agent has registered in (`knownZones`, looked up by
 * the application); Neutron answers the first zone it cannot find with AvailabilityZoneNotFound.
 */
export function checkAvailabilityZoneHints(
  hints: readonly string[] | undefined,
  knownZones: readonly string[] | undefined,
): readonly string[] | DomainError {
  if (hints === undefined || hints.length === 0) return [];
  const duplicate = hints.find((h, i) => hints.indexOf(h) !== i);
  if (duplicate !== undefined) return invalidField(FIELD, `Duplicate items in the list: '${duplicate}'`);
  if (JSON.stringify(hints).length > MAX_HINTS_JSON_LENGTH) return invalidField(FIELD, 'Too many availability_zone_hints specified');
  const known = new Set(knownZones ?? []);
  const missing = hints.find((h) => !known.has(h));
  if (missing !== undefined) {
    return domainError('AvailabilityZoneNotFound', `AvailabilityZone ${missing} could not be found.`, {
      field: FIELD,
      details: { availabilityZone: missing },
    });
  }
  return hints;
}

/** Hints as a command or a state carries them (absent: none), compared as lists. */
export function sameHints(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((h, i) => h === y[i]);
}

/** What a zone is listed for (Neutron's `resource`): networks (DHCP agents) and routers (L3 agents). */
export const AVAILABILITY_ZONE_RESOURCES = ['network', 'router'] as const;
export type AvailabilityZoneResource = (typeof AVAILABILITY_ZONE_RESOURCES)[number];

/** Neutron's zone `state`. */
export const AVAILABILITY_ZONE_STATES = ['available', 'unavailable'] as const;
export type AvailabilityZoneState = (typeof AVAILABILITY_ZONE_STATES)[number];
