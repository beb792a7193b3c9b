import { describe, expect, it } from 'vitest';
import type { RouterEvent } from '../../src/domain/router/index.js';
import { routerDecider } from '../../src/domain/router/index.js';
import { spec } from '../support/spec.js';
import { expectValidRouterEvents, routerCreated } from './router-fixtures.js';

const id = (n: number) => `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;
const ROUTER = id(1);
const HA_NET = id(2);
const T0 = '2025-01-01T00:00:00.000Z';
const T1 = '2025-01-01T00:01:00.000Z';

const given = (events: readonly RouterEvent[] = []) => spec(routerDecider).given(events);

const created = (ha: boolean, adminStateUp = true): RouterEvent =>
  routerCreated({ id: ROUTER, name: 'r', adminStateUp, ha, createdAt: T0 });
const down: RouterEvent = { type: 'RouterUpdated', data: { id: ROUTER, changes: { adminStateUp: false }, updatedAt: T0 } };
const vrid1: RouterEvent = { type: 'RouterHaVridAllocated', data: { id: ROUTER, haNetworkId: HA_NET, vrid: 1, updatedAt: T0 } };

describe('HA <-> legacy conversion', () => {
  it('is refused while the router is up, with RouterMustBeDisabled', () => {
    given([created(false)])
      .when({ type: 'UpdateRouter', id: ROUTER, changes: { ha: true }, isAdmin: true, now: T1 })
      .thenError('RouterMustBeDisabled', (e) => expect(e.message).toContain('adminStateUp to false'));
    given([created(true)])
      .when({ type: 'UpdateRouter', id: ROUTER, changes: { ha: false }, isAdmin: true, now: T1 })
      .thenError('RouterMustBeDisabled');
  });
  it('is accepted once the router is down, and drops the VRRP id and the states', () => {
    const events = given([created(true), vrid1, down])
      .when({ type: 'UpdateRouter', id: ROUTER, changes: { ha: false }, isAdmin: true, now: T1 })
      .then([{ type: 'RouterUpdated', data: { id: ROUTER, changes: { ha: false }, updatedAt: T1 } }]);
    let s = routerDecider.initialState;
    for (const e of [created(true), vrid1, down, ...events]) s = routerDecider.evolve(s, e);
    expect(s.status === 'live' && s.resource.haVrid).toBeNull();
  });
  it('lets an update name the current ha value on a live router', () => {
    given([created(true)])
      .when({ type: 'UpdateRouter', id: ROUTER, changes: { ha: true }, isAdmin: true, now: T1 })
      .then((e) => expect(e).toHaveLength(1));
  });
});

describe('VRRP id allocation', () => {
  it('takes the lowest id the HA network has free', () => {
    expectValidRouterEvents(
      given([created(true)])
        .when({ type: 'AllocateHaVrid', id: ROUTER, haNetworkId: HA_NET, vridsInUse: [1, 2, 4], now: T1 })
        .then([{ type: 'RouterHaVridAllocated', data: { id: ROUTER, haNetworkId: HA_NET, vrid: 3, updatedAt: T1 } }]),
    );
  });
  it('allocates once', () => {
    given([created(true), vrid1])
      .when({ type: 'AllocateHaVrid', id: ROUTER, haNetworkId: HA_NET, vridsInUse: [], now: T1 })
      .thenNothing();
  });
  it('answers NoVRIDAvailable when all 254 are taken, and BadRequest for a legacy router', () => {
    const all = Array.from({ length: 254 }, (_, i) => i + 1);
    given([created(true)])
      .when({ type: 'AllocateHaVrid', id: ROUTER, haNetworkId: HA_NET, vridsInUse: all, now: T1 })
      .thenError('NoVRIDAvailable');
    given([created(false)])
      .when({ type: 'AllocateHaVrid', id: ROUTER, haNetworkId: HA_NET, vridsInUse: [], now: T1 })
      .thenError('BadRequest');
  });
});

describe('HA state reports', () => {
  it('records transitions per host and ignores repeats', () => {
    const changed: RouterEvent = { type: 'RouterHaStateChanged', data: { id: ROUTER, host: 'h1', haState: 'active', updatedAt: T1 } };
    expectValidRouterEvents(
      given([created(true)])
        .when({ type: 'ReportHaState', id: ROUTER, host: 'h1', haState: 'active', now: T1 })
        .then([changed]),
    );
    given([created(true), changed])
      .when({ type: 'ReportHaState', id: ROUTER, host: 'h1', haState: 'active', now: T1 })
      .thenNothing();
    given([created(true), changed])
      .when({ type: 'ReportHaState', id: ROUTER, host: 'h2', haState: 'active', now: T1 })
      .then((e) => expect(e).toHaveLength(1));
  });
});
