import { describe, expect, it } from 'vitest';
import { networkDecider, networkEvents, type CreateNetwork, type NetworkEvent } from '../../src/domain/network/index.js';
import { routerDecider, routerEvents, type CreateRouter, type RouterEvent } from '../../src/domain/router/index.js';
import { spec } from '../support/spec.js';
import { networkCreated as networkFixture } from './network-fixtures.js';
import { routerCreated as routerFixture } from './router-fixtures.js';

const NET = '11111111-1111-4111-8111-111111111111';
const ROUTER = '22222222-2222-4222-8222-222222222222';
const T0 = '2024-01-01T00:00:00.000Z';
const KNOWN = ['az-1', 'az-2', 'nova'];

const createNetwork = (extra: Partial<CreateNetwork> = {}): CreateNetwork => ({
  type: 'CreateNetwork',
  id: NET,
  project: 'p1',
  now: T0,
  name: 'net',
  provider: { networkType: 'vxlan', segmentationId: 1001 },
  ...extra,
});

const networkCreated = (hints?: string[]): NetworkEvent => networkFixture(hints ? { availabilityZoneHints: hints } : {});

const createRouter = (extra: Partial<CreateRouter> = {}): CreateRouter => ({
  type: 'CreateRouter',
  id: ROUTER,
  project: 'p1',
  name: 'r1',
  isAdmin: false,
  now: T0,
  ...extra,
});

const routerCreated = (hints?: string[]): RouterEvent =>
  routerFixture({ id: ROUTER, createdAt: T0, ...(hints ? { availabilityZoneHints: hints } : {}) });

const network = spec(networkDecider);
const router = spec(routerDecider);

describe('network availability_zone_hints', () => {
  it('records hints that name known zones, in the order given', () => {
    const events = network
      .given([])
      .when(createNetwork({ availabilityZoneHints: ['az-2', 'az-1'], knownAvailabilityZones: KNOWN }))
      .then([networkCreated(['az-2', 'az-1'])]);
    expect(networkEvents.find((d) => d.type === 'NetworkCreated')!.schema.safeParse(events[0]!.data).success).toBe(true);
    const state = network.given(events).state;
    expect(state.status === 'live' && state.resource.availabilityZoneHints).toEqual(['az-2', 'az-1']);
  });

  it('records nothing when no hints (or an empty list) are given: any zone', () => {
    network.given([]).when(createNetwork()).then([networkCreated()]);
    network
      .given([])
      .when(createNetwork({ availabilityZoneHints: [], knownAvailabilityZones: [] }))
      .then([networkCreated()]);
  });

  it('refuses a zone no agent registered in with AvailabilityZoneNotFound, naming it', () => {
    network
      .given([])
      .when(createNetwork({ availabilityZoneHints: ['az-1', 'az-9'], knownAvailabilityZones: KNOWN }))
      .thenError('AvailabilityZoneNotFound', (e) => {
        expect(e.message).toBe('AvailabilityZone az-9 could not be found.');
        expect(e.field).toEqual(['availabilityZoneHints']);
      });
  });

  it('refuses any hint when no agent has registered at all', () => {
    network
      .given([])
      .when(createNetwork({ availabilityZoneHints: ['nova'] }))
      .thenError('AvailabilityZoneNotFound');
  });

  it('refuses duplicate hints and hints longer than Neutron stores (255 characters of JSON)', () => {
    network
      .given([])
      .when(createNetwork({ availabilityZoneHints: ['az-1', 'az-1'], knownAvailabilityZones: KNOWN }))
      .thenError('InputValidationError', (e) => expect(e.field).toEqual(['availabilityZoneHints']));
    const long = Array.from({ length: 30 }, (_, i) => `zone-number-${i}`);
    network
      .given([])
      .when(createNetwork({ availabilityZoneHints: long, knownAvailabilityZones: long }))
      .thenError('InputValidationError');
  });

  it('a retried create with the same hints is a no-op; with other hints it is NetworkAlreadyExists', () => {
    const given = [networkCreated(['az-1'])];
    network
      .given(given)
      .when(createNetwork({ availabilityZoneHints: ['az-1'], knownAvailabilityZones: KNOWN }))
      .thenNothing();
    network
      .given(given)
      .when(createNetwork({ availabilityZoneHints: ['az-2'], knownAvailabilityZones: KNOWN }))
      .thenError('NetworkAlreadyExists');
    network.given(given).when(createNetwork()).thenError('NetworkAlreadyExists');
  });
});

describe('router availability_zone_hints', () => {
  it('records hints that name known zones', () => {
    const events = router
      .given([])
      .when(createRouter({ availabilityZoneHints: ['az-1'], knownAvailabilityZones: KNOWN }))
      .then([routerCreated(['az-1'])]);
    expect(routerEvents.find((d) => d.type === 'RouterCreated')!.schema.safeParse(events[0]!.data).success).toBe(true);
    const state = router.given(events).state;
    expect(state.status === 'live' && state.resource.availabilityZoneHints).toEqual(['az-1']);
  });

  it('records nothing without hints', () => {
    router.given([]).when(createRouter()).then([routerCreated()]);
  });

  it('refuses an unknown zone with AvailabilityZoneNotFound: no router is created', () => {
    router
      .given([])
      .when(createRouter({ availabilityZoneHints: ['az-9'], knownAvailabilityZones: KNOWN }))
      .thenError('AvailabilityZoneNotFound', (e) => expect(e.message).toBe('AvailabilityZone az-9 could not be found.'));
  });

  it('refuses duplicate hints', () => {
    router
      .given([])
      .when(createRouter({ availabilityZoneHints: ['nova', 'nova'], knownAvailabilityZones: KNOWN }))
      .thenError('InputValidationError');
  });

  it('a retried create compares the hints too', () => {
    const given = [routerCreated(['az-1'])];
    router
      .given(given)
      .when(createRouter({ availabilityZoneHints: ['az-1'], knownAvailabilityZones: KNOWN }))
      .thenNothing();
    router
      .given(given)
      .when(createRouter({ availabilityZoneHints: ['az-2'], knownAvailabilityZones: KNOWN }))
      .thenError('RouterAlreadyExists');
  });
});
