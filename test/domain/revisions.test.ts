import { describe, expect, it } from 'vitest';
import { floatingIpDecider, type CreateFloatingIp } from '../../src/domain/floating-ip/index.js';
import { networkDecider, type NetworkEvent } from '../../src/domain/network/index.js';
import { subnetDecider, type CreateSubnet } from '../../src/domain/subnet/index.js';
import { spec } from '../support/spec.js';
import { networkCreated as created } from './network-fixtures.js';

const NET = '11111111-1111-4111-8111-111111111111';
const SUB = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const OTHER_SUB = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const FIP = 'dddddddd-dddd-4ddd-8ddd-dddddddddddd';
const FIP_PORT = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee';
const T0 = '2024-01-01T00:00:00.000Z';
const T1 = '2024-01-01T00:01:00.000Z';

const networkCreated = created();
const subnetAdded: NetworkEvent = { type: 'NetworkSubnetAdded', data: { id: NET, subnetId: SUB, cidr: '10.0.0.0/24', updatedAt: T0 } };

const network = spec(networkDecider);

describe("updating a subnet raises its network's revision (Neutron)", () => {
  it('given a network holding the subnet, when the subnet is updated, then NetworkSubnetUpdated raises the revision by one', () => {
    const given = network.given([networkCreated, subnetAdded]);
    const events = given
      .when({ type: 'NoteSubnetUpdated', id: NET, subnetId: SUB, now: T1 })
      .then([{ type: 'NetworkSubnetUpdated', data: { id: NET, subnetId: SUB, updatedAt: T1 } }]);
    const after = network.given([networkCreated, subnetAdded, ...events]).state;
    expect(after.revision).toBe(given.state.revision + 1);
    expect(after.status === 'live' && after.resource.updatedAt).toBe(T1);
  });

  it('given a subnet that is not (or no longer) on the network, then nothing', () => {
    network.given([networkCreated, subnetAdded]).when({ type: 'NoteSubnetUpdated', id: NET, subnetId: OTHER_SUB, now: T1 }).thenNothing();
  });

  it('given a deleted network, then NetworkNotFound', () => {
    network
      .given([networkCreated, { type: 'NetworkDeleted', data: { id: NET, subnetIds: [], deletedAt: T1 } }])
      .when({ type: 'NoteSubnetUpdated', id: NET, subnetId: SUB, now: T1 })
      .thenError('NetworkNotFound');
  });
});

describe('initial revisions as Neutron shows them', () => {
  it('a new subnet is at revision 0, its first update at 1', () => {
    const create: CreateSubnet = {
      type: 'CreateSubnet',
      id: SUB,
      project: 'p1',
      networkId: NET,
      now: T0,
      ipVersion: 4,
      cidr: '10.0.0.0/24',
    };
    const subnet = spec(subnetDecider);
    const created = subnet
      .given([])
      .when(create)
      .then((e) => expect(e).toHaveLength(1));
    expect(subnet.given(created).state.revision).toBe(0);
    subnet
      .given(created)
      .when({ type: 'UpdateSubnet', id: SUB, now: T1, changes: { name: 'x' }, expectedRevision: 1 })
      .thenError('RevisionNumberConstraintFailed');
    const updated = subnet
      .given(created)
      .when({ type: 'UpdateSubnet', id: SUB, now: T1, changes: { name: 'x' }, expectedRevision: 0 })
      .then((e) => expect(e).toHaveLength(1));
    expect(subnet.given([...created, ...updated]).state.revision).toBe(1);
  });

  it('a new floating IP is at revision 0', () => {
    const create: CreateFloatingIp = {
      type: 'CreateFloatingIp',
      id: FIP,
      project: 'p1',
      isAdmin: false,
      gatewayIps: ['203.0.113.1'],
      network: { id: NET, external: true },
      allocation: { kind: 'allocated', address: '203.0.113.20', subnetId: SUB, portId: FIP_PORT },
      now: T0,
    };
    const fip = spec(floatingIpDecider);
    const created = fip
      .given([])
      .when(create)
      .then((e) => expect(e).toHaveLength(1));
    expect(fip.given(created).state.revision).toBe(0);
  });

  it('a new network stays at revision 1, a subnet added raises it to 2', () => {
    expect(network.given([networkCreated]).state.revision).toBe(1);
    expect(network.given([networkCreated, subnetAdded]).state.revision).toBe(2);
  });
});
