import { domainError, type DomainError } from '../errors.js';
import type { Router } from './state.js';

/**
 * Legacy ↔ distributed conversion moves every part of a router between hosts (one qrouter on
 * one host, or one per compute host): Neutron allows it only while the router is administratively
 * down (`_validate_router_migration`), so no traffic is in flight through either shape. The
 * router's current state counts, not the same update's: set adminStateUp false first.
 */
export function checkDistributedMigration(router: Router, distributed: boolean | undefined): DomainError | null {
  if (distributed === undefined || distributed === router.distributed || !router.adminStateUp) return null;
  return domainError(
    'RouterMigrationRequiresAdminDown',
    `Cannot change the 'distributed' attribute of active router ${router.id}. Please set router admin_state_up to False prior to upgrade.`,
    { field: ['distributed'], details: { routerId: router.id } },
  );
}
