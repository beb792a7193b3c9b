import type { Decision } from '../decider.js';
import { domainError, type DomainError } from '../errors.js';
import type { AllocateHaVrid, ReportHaState, UpdateRouter } from './commands.js';
import type { RouterEvent } from './events.js';
import type { Router } from './state.js';

/** VRRP ids are 1..255; Neutron allocates 1..254 per HA network (MAX_VRID). */
export const MAX_VRID = 254;

/**
 * Neutron refuses to convert a router between HA and legacy while it is up ("Please set router
 * admin_state_up to False prior to upgrade"): the hosts would otherwise run both at once.
 */
export function checkHaConversion(c: UpdateRouter, router: Router): DomainError | null {
  const { ha } = c.changes;
  if (ha === undefined || ha === router.ha) return null;
  if (!router.adminStateUp) return null;
  return domainError(
    'RouterMustBeDisabled',
    `Cannot change the HA attribute of router ${router.id} while it is up: set adminStateUp to false first.`,
    { details: { routerId: router.id } },
  );
}

export function allocateVrid(c: AllocateHaVrid, router: Router): Decision<RouterEvent> {
  if (!router.ha) return domainError('BadRequest', `Router ${router.id} is not an HA router`, { details: { routerId: router.id } });
  // Idempotent: a racing scheduler that already allocated is not an error.
  if (router.haVrid) return [];
  const used = new Set(c.vridsInUse);
  for (let vrid = 1; vrid <= MAX_VRID; vrid++) {
    if (used.has(vrid)) continue;
    return [{ type: 'RouterHaVridAllocated', data: { id: router.id, haNetworkId: c.haNetworkId, vrid, updatedAt: c.now } }];
  }
  return domainError('NoVRIDAvailable', `No more VRIDs on HA network ${c.haNetworkId}`, { details: { haNetworkId: c.haNetworkId } });
}

export function reportHaState(c: ReportHaState, router: Router): Decision<RouterEvent> {
  if (!router.ha || router.haStates?.[c.host] === c.haState) return [];
  return [{ type: 'RouterHaStateChanged', data: { id: router.id, host: c.host, haState: c.haState, updatedAt: c.now } }];
}
