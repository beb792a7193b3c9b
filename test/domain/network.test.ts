import { describe, expect, it } from 'vitest';
import { networkDecider, networkEvents, type CreateNetwork, type NetworkEvent } from '../../src/domain/network/index.js';
import { spec } from '../support/spec.js';
import { networkCreated } from './network-fixtures.js';

const NET = '11111111-1111-4111-8111-111111111111';
const SUB_A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const SUB_B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const T0 = '2024-01-01T00:00:00.000Z';
const T1 = '2024-01-01T00:01:00.000Z';
const PROJECT = 'p1';

const create = (extra: Partial<CreateNetwork> = {}): CreateNetwork => ({
  type: 'CreateNetwork',
  id: NET,
  project: PROJECT,
  now: T0,
  name: 'net',
  provider: { networkType: 'vxlan', segmentationId: 1001 },
  ...extra,
});

const created = networkCreated();

const subnetAdded = (subnetId: string, cidr: string): NetworkEvent => ({
  type: 'NetworkSubnetAdded',
  data: { id: NET, subnetId, cidr, updatedAt: T1 },
});

const network = spec(networkDecider);

describe('network create', () => {
  it('creates a VXLAN tenant network with MTU 1450 and Neutron defaults', () => {
    network.given([]).when(create()).then([created]);
  });

  it('events validate against their schemas', () => {
    const def = networkEvents.find((d) => d.type === 'NetworkCreated')!;
    expect(def.schema.safeParse(created.data).success).toBe(true);
  });

  it('defaults to vxlan when no provider is given', () => {
    network
      .given([])
      .when(create({ provider: { segmentationId: 7 } }))
      .then((events) =>
        expect(events[0]?.type === 'NetworkCreated' && events[0].data.provider).toEqual({
          networkType: 'vxlan',
          physicalNetwork: null,
          segmentationId: 7,
        }),
      );
  });

  it('gives flat and vlan networks MTU 1500', () => {
    network
      .given([])
      .when(create({ provider: { networkType: 'vlan', physicalNetwork: 'physnet1', segmentationId: 100 } }))
      .then((events) => expect(events[0]?.type === 'NetworkCreated' && events[0].data.mtu).toBe(1500));
    network
      .given([])
      .when(create({ provider: { networkType: 'flat', physicalNetwork: 'physnet1' } }))
      .then((events) => expect(events[0]?.type === 'NetworkCreated' && events[0].data.mtu).toBe(1500));
  });

  it('takes a given MTU but not above what the segment carries', () => {
    network
      .given([])
      .when(create({ mtu: 1400 }))
      .then((events) => expect(events[0]?.type === 'NetworkCreated' && events[0].data.mtu).toBe(1400));
    network
      .given([])
      .when(create({ mtu: 1500 }))
      .thenError('InputValidationError');
    network
      .given([])
      .when(create({ mtu: 60 }))
      .thenError('InputValidationError');
  });

  it('answers NoNetworkAvailable when no VXLAN id was left', () => {
    network
      .given([])
      .when(create({ provider: { networkType: 'vxlan' }, segmentationExhausted: true }))
      .thenError('NoNetworkAvailable');
  });

  it('checks provider attributes per type', () => {
    network
      .given([])
      .when(create({ provider: { networkType: 'vxlan' } }))
      .thenError('InvalidInput');
    network
      .given([])
      .when(create({ provider: { networkType: 'vxlan', segmentationId: 16_777_216 } }))
      .thenError('InvalidInput');
    network
      .given([])
      .when(create({ provider: { networkType: 'vxlan', segmentationId: 5, physicalNetwork: 'physnet1' } }))
      .thenError('InvalidInput');
    network
      .given([])
      .when(create({ provider: { networkType: 'vlan', segmentationId: 5 } }))
      .thenError('InvalidInput');
    network
      .given([])
      .when(create({ provider: { networkType: 'vlan', physicalNetwork: 'physnet1', segmentationId: 4095 } }))
      .thenError('InvalidInput');
    network
      .given([])
      .when(create({ provider: { networkType: 'flat', physicalNetwork: 'physnet1', segmentationId: 3 } }))
      .thenError('InvalidInput');
    network
      .given([])
      .when(create({ provider: { networkType: 'local', physicalNetwork: 'physnet1' } }))
      .thenError('InvalidInput');
  });

  it('reports a taken segment with the per-type error', () => {
    network
      .given([])
      .when(create({ segmentInUse: true }))
      .thenError('TunnelIdInUse');
    network
      .given([])
      .when(create({ provider: { networkType: 'vlan', physicalNetwork: 'p', segmentationId: 9 }, segmentInUse: true }))
      .thenError('VlanIdInUse');
    network
      .given([])
      .when(create({ provider: { networkType: 'flat', physicalNetwork: 'p' }, segmentInUse: true }))
      .thenError('FlatNetworkInUse');
  });

  it('is idempotent for a retried identical create, even with a newly allocated VNI', () => {
    network.given([created]).when(create()).thenNothing();
    network
      .given([created])
      .when(create({ provider: { networkType: 'vxlan', segmentationId: 2002 }, segmentationExhausted: false }))
      .thenNothing();
  });

  it('refuses a different create on the same id', () => {
    network
      .given([created])
      .when(create({ name: 'other' }))
      .thenError('NetworkAlreadyExists');
  });

  it('rejects an over-long name', () => {
    network
      .given([])
      .when(create({ name: 'x'.repeat(256) }))
      .thenError('InvalidInput');
  });
});

describe('network update', () => {
  it('records the changes and bumps the revision even when nothing changes', () => {
    network
      .given([created])
      .when({ type: 'UpdateNetwork', id: NET, now: T1, changes: { name: 'renamed', adminStateUp: false, tags: ['a', 'a', 'b'] } })
      .then([
        { type: 'NetworkUpdated', data: { id: NET, changes: { name: 'renamed', adminStateUp: false, tags: ['a', 'b'] }, updatedAt: T1 } },
      ]);
    network
      .given([created])
      .when({ type: 'UpdateNetwork', id: NET, now: T1, changes: {} })
      .then([{ type: 'NetworkUpdated', data: { id: NET, changes: {}, updatedAt: T1 } }]);
  });

  it('folds the update into state', () => {
    const state = network.given([
      created,
      { type: 'NetworkUpdated', data: { id: NET, changes: { name: 'renamed', shared: true }, updatedAt: T1 } },
    ]).state;
    expect(state.status === 'live' && state.resource).toMatchObject({ name: 'renamed', shared: true, updatedAt: T1, mtu: 1450 });
    expect(state.revision).toBe(2);
  });

  it('checks expectedRevision', () => {
    network
      .given([created])
      .when({ type: 'UpdateNetwork', id: NET, now: T1, expectedRevision: 1, changes: { name: 'x' } })
      .then((e) => expect(e).toHaveLength(1));
    const err = network
      .given([created])
      .when({ type: 'UpdateNetwork', id: NET, now: T1, expectedRevision: 4, changes: { name: 'x' } })
      .thenError('RevisionNumberConstraintFailed');
    expect(err.message).toBe('Constrained to 4, but current revision is 1');
  });

  it('refuses an MTU too small for an IPv6 subnet on the network', () => {
    network
      .given([created, subnetAdded(SUB_A, '2001:db8::/64')])
      .when({ type: 'UpdateNetwork', id: NET, now: T1, changes: { mtu: 1200 } })
      .thenError('NetworkMTUSubnetConflict');
    network
      .given([created, subnetAdded(SUB_A, '10.0.0.0/24')])
      .when({ type: 'UpdateNetwork', id: NET, now: T1, changes: { mtu: 1200 } })
      .then((e) => expect(e).toHaveLength(1));
  });

  it('answers NetworkNotFound for a missing network', () => {
    network.given([]).when({ type: 'UpdateNetwork', id: NET, now: T1, changes: {} }).thenError('NetworkNotFound');
  });
});

describe('network delete', () => {
  it('refuses while non-network ports remain', () => {
    network.given([created]).when({ type: 'DeleteNetwork', id: NET, now: T1, portsInUse: 1 }).thenError('NetworkInUse');
  });

  it('deletes, naming its subnets, and then answers NetworkNotFound', () => {
    const events = [created, subnetAdded(SUB_A, '10.0.0.0/24')];
    network
      .given(events)
      .when({ type: 'DeleteNetwork', id: NET, now: T1, portsInUse: 0 })
      .then([{ type: 'NetworkDeleted', data: { id: NET, subnetIds: [SUB_A], deletedAt: T1 } }]);
    const deleted: NetworkEvent[] = [...events, { type: 'NetworkDeleted', data: { id: NET, subnetIds: [SUB_A], deletedAt: T1 } }];
    network.given(deleted).when({ type: 'DeleteNetwork', id: NET, now: T1, portsInUse: 0 }).thenError('NetworkNotFound');
    network.given(deleted).when({ type: 'UpdateNetwork', id: NET, now: T1, changes: {} }).thenError('NetworkNotFound');
    network.given(deleted).when(create()).thenError('NetworkNotFound');
  });

  it('checks expectedRevision on delete', () => {
    network
      .given([created])
      .when({ type: 'DeleteNetwork', id: NET, now: T1, portsInUse: 0, expectedRevision: 2 })
      .thenError('RevisionNumberConstraintFailed');
  });
});

describe('network subnets', () => {
  const add = (subnetId: string, cidr: string, project = PROJECT) => ({
    type: 'AddNetworkSubnet' as const,
    id: NET,
    subnetId,
    cidr,
    project,
    now: T1,
  });

  it('adds a subnet, raising the network revision', () => {
    network
      .given([created])
      .when(add(SUB_A, '10.0.0.5/24'))
      .then([subnetAdded(SUB_A, '10.0.0.0/24')]);
    expect(network.given([created, subnetAdded(SUB_A, '10.0.0.0/24')]).state.revision).toBe(2);
  });

  it.each(['10.0.0.0/24', '10.0.0.128/25', '10.0.0.0/16'])('refuses %s overlapping 10.0.0.0/24', (cidr) => {
    const err = network
      .given([created, subnetAdded(SUB_A, '10.0.0.0/24')])
      .when(add(SUB_B, cidr))
      .thenError('InvalidInput');
    expect(err.message).toMatch(
      /Requested subnet with cidr: .* for network: 11111111-1111-4111-8111-111111111111 overlaps with another subnet/,
    );
  });

  it('allows disjoint subnets and the other family', () => {
    network
      .given([created, subnetAdded(SUB_A, '10.0.0.0/24')])
      .when(add(SUB_B, '10.0.1.0/24'))
      .then([subnetAdded(SUB_B, '10.0.1.0/24')]);
    network
      .given([created, subnetAdded(SUB_A, '10.0.0.0/24')])
      .when(add(SUB_B, '2001:db8::/64'))
      .then([subnetAdded(SUB_B, '2001:db8::/64')]);
  });

  it('no longer counts a removed subnet for overlap', () => {
    const removed: NetworkEvent = { type: 'NetworkSubnetRemoved', data: { id: NET, subnetId: SUB_A, updatedAt: T1 } };
    network
      .given([created, subnetAdded(SUB_A, '10.0.0.0/24'), removed])
      .when(add(SUB_B, '10.0.0.0/24'))
      .then([subnetAdded(SUB_B, '10.0.0.0/24')]);
  });

  it('is idempotent for the same subnet and ignores removing an unknown one', () => {
    network
      .given([created, subnetAdded(SUB_A, '10.0.0.0/24')])
      .when(add(SUB_A, '10.0.0.0/24'))
      .thenNothing();
    network.given([created]).when({ type: 'RemoveNetworkSubnet', id: NET, subnetId: SUB_B, now: T1 }).thenNothing();
    network
      .given([created, subnetAdded(SUB_A, '10.0.0.0/24')])
      .when({ type: 'RemoveNetworkSubnet', id: NET, subnetId: SUB_A, now: T1 })
      .then([{ type: 'NetworkSubnetRemoved', data: { id: NET, subnetId: SUB_A, updatedAt: T1 } }]);
  });

  it('hides another project network, unless admin', () => {
    network
      .given([created])
      .when(add(SUB_A, '10.0.0.0/24', 'other'))
      .thenError('NetworkNotFound');
    network
      .given([created])
      .when({ ...add(SUB_A, '10.0.0.0/24', 'other'), asAdmin: true })
      .then([subnetAdded(SUB_A, '10.0.0.0/24')]);
  });

  it('refuses an IPv6 subnet on a network whose MTU is below 1280', () => {
    const lowMtu: NetworkEvent = { type: 'NetworkUpdated', data: { id: NET, changes: { mtu: 1000 }, updatedAt: T1 } };
    network.given([created, lowMtu]).when(add(SUB_A, '2001:db8::/64')).thenError('NetworkMTUSubnetConflict');
  });

  it('answers NetworkNotFound when the network does not exist', () => {
    network.given([]).when(add(SUB_A, '10.0.0.0/24')).thenError('NetworkNotFound');
  });
});
