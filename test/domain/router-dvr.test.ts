import { describe, expect, it } from 'vitest';
import type { RouterEvent } from '../../src/domain/router/index.js';
import { routerDecider } from '../../src/domain/router/index.js';
import { spec } from '../support/spec.js';
import { routerCreated } from './router-fixtures.js';

const ROUTER = '00000000-0000-4000-8000-000000000001';
const T0 = '2025-01-01T00:00:00.000Z';
const T1 = '2025-01-01T00:01:00.000Z';

const created = (distributed: boolean, adminStateUp = true): RouterEvent =>
  routerCreated({ id: ROUTER, adminStateUp, distributed, createdAt: T0 });
const update = (changes: { distributed?: boolean; adminStateUp?: boolean; name?: string }) =>
  ({ type: 'UpdateRouter', id: ROUTER, changes, isAdmin: true, now: T1 }) as const;

describe('legacy ↔ distributed conversion', () => {
  it('is refused while the router is up, whichever way, even in the update that takes it down', () => {
    for (const from of [false, true]) {
      spec(routerDecider)
        .given([created(from)])
        .when(update({ distributed: !from }))
        .thenError('RouterMigrationRequiresAdminDown', (e) => expect(e.field).toEqual(['distributed']));
      spec(routerDecider)
        .given([created(from)])
        .when(update({ distributed: !from, adminStateUp: false }))
        .thenError('RouterMigrationRequiresAdminDown');
    }
  });

  it('is allowed once the router is down, and an unchanged flag never counts as a conversion', () => {
    spec(routerDecider)
      .given([created(false, false)])
      .when(update({ distributed: true }))
      .then([{ type: 'RouterUpdated', data: { id: ROUTER, changes: { distributed: true }, updatedAt: T1 } }]);
    spec(routerDecider)
      .given([created(false), { type: 'RouterUpdated', data: { id: ROUTER, changes: { adminStateUp: false }, updatedAt: T1 } }])
      .when(update({ distributed: true, adminStateUp: true }))
      .then([{ type: 'RouterUpdated', data: { id: ROUTER, changes: { adminStateUp: true, distributed: true }, updatedAt: T1 } }]);
    spec(routerDecider)
      .given([created(true)])
      .when(update({ distributed: true, name: 'same' }))
      .then([{ type: 'RouterUpdated', data: { id: ROUTER, changes: { name: 'same', distributed: true }, updatedAt: T1 } }]);
  });

  it('stays admin-only', () => {
    spec(routerDecider)
      .given([created(false, false)])
      .when({ ...update({ distributed: true }), isAdmin: false })
      .thenError('PolicyNotAuthorized');
  });
});
