import { describe, expect, it } from 'vitest';
import {
  DeviceOwner,
  MAX_FIXED_IPS_PER_PORT,
  candidateSubnets,
  isNetworkOwned,
  isServicePort,
  portDecider,
  portEvents,
  takesLowestFreeAddress,
  type CreatePort,
  type PortEvent,
  type UpdatePort,
} from '../../src/domain/port/index.js';
import type { SubnetFacts } from '../../src/domain/subnet/index.js';
import { spec } from '../support/spec.js';
import { NET, V4, PORT, SG, T0, T1, MAC, v4, network, create } from './port-fixtures.js';

const V4B = 'abababab-abab-4bab-8bab-abababababab';
const V6 = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const SLAAC = 'dddddddd-dddd-4ddd-8ddd-dddddddddddd';

const v4b: SubnetFacts = {
  ...v4,
  id: V4B,
  cidr: '10.0.1.0/24',
  gatewayIp: '10.0.1.1',
  allocationPools: [{ start: '10.0.1.2', end: '10.0.1.254' }],
};
const v6: SubnetFacts = {
  ...v4,
  id: V6,
  ipVersion: 6,
  cidr: '2001:db8::/64',
  gatewayIp: '2001:db8::',
  allocationPools: [{ start: '2001:db8::1', end: '2001:db8::ffff:ffff:ffff:ffff' }],
  ipv6AddressMode: 'dhcpv6-stateful',
  ipv6RaMode: 'dhcpv6-stateful',
};
const slaac: SubnetFacts = {
  ...v6,
  id: SLAAC,
  cidr: '2001:db8:1::/64',
  gatewayIp: '2001:db8:1::',
  allocationPools: [{ start: '2001:db8:1::1', end: '2001:db8:1::ffff:ffff:ffff:ffff' }],
  ipv6AddressMode: 'slaac',
  ipv6RaMode: 'slaac',
};
const EUI = '2001:db8:1:0:f816:3eff:fe11:2233';

const created: PortEvent = {
  type: 'PortCreated',
  data: {
    id: PORT,
    project: 'p1',
    name: '',
    description: '',
    tags: [],
    networkId: NET,
    macAddress: MAC,
    fixedIps: [{ subnetId: V4, ipAddress: '10.0.0.57' }],
    deviceOwner: '',
    deviceId: '',
    adminStateUp: true,
    bindingHost: '',
    securityGroups: [SG],
    portSecurityEnabled: true,
    allowedAddressPairs: [],
    status: 'DOWN',
    createdAt: T0,
  },
};

const port = spec(portDecider);

function createdData(extra: Partial<CreatePort>) {
  const result = port.given([]).when(create(extra)).result;
  if (!Array.isArray(result)) throw new Error(`expected events, got ${JSON.stringify(result)}`);
  const e = result[0] as PortEvent;
  if (e.type !== 'PortCreated') throw new Error('expected PortCreated');
  return e.data;
}

describe('port create', () => {
  it('creates a DOWN port with the candidate address and the default group', () => {
    port.given([]).when(create()).then([created]);
    expect(portEvents.find((d) => d.type === 'PortCreated')!.schema.safeParse(created.data).success).toBe(true);
  });

  it('answers NetworkNotFound for a missing or foreign private network', () => {
    port
      .given([])
      .when(create({ network: null }))
      .thenError('NetworkNotFound');
    port
      .given([])
      .when(create({ network: { ...network, project: 'p2' } }))
      .thenError('NetworkNotFound');
    port
      .given([])
      .when(create({ network: { ...network, project: 'p2' }, asAdmin: true }))
      .then((e) => expect(e).toHaveLength(1));
  });

  it('lets other projects plug into a shared network but not pick its addresses; refuses foreign external networks', () => {
    port
      .given([])
      .when(create({ network: { ...network, project: 'p2', shared: true } }))
      .then((e) => expect(e).toHaveLength(1));
    port
      .given([])
      .when(create({ network: { ...network, project: 'p2', shared: true }, fixedIps: [{ ipAddress: '10.0.0.9' }] }))
      .thenError('PolicyNotAuthorized');
    port
      .given([])
      .when(create({ network: { ...network, project: 'p2', external: true } }))
      .thenError('PolicyNotAuthorized');
  });

  describe('MAC', () => {
    it('uses the requested MAC, normalised, over the generated one', () => {
      expect(createdData({ macAddress: 'FA-16-3E-AA-BB-CC' }).macAddress).toBe('fa:16:3e:aa:bb:cc');
    });
    it('rejects malformed and multicast MACs', () => {
      port
        .given([])
        .when(create({ macAddress: 'fa:16:3e:aa:bb' }))
        .thenError('InputValidationError');
      port
        .given([])
        .when(create({ macAddress: '01:00:5e:00:00:01' }))
        .thenError('InputValidationError');
      port
        .given([])
        .when(create({ generatedMac: undefined }))
        .thenError('InvalidInput');
    });
    it('answers MacAddressInUse when the MAC is taken on the network', () => {
      port
        .given([])
        .when(create({ macTaken: true }))
        .thenError('MacAddressInUse');
    });
  });

  describe('default allocation (7.3)', () => {
    it('takes one IPv4 address from the first IPv4 subnet that has one', () => {
      const data = createdData({ subnets: [v4, v4b], addressCandidates: { [V4]: null, [V4B]: ['10.0.1.7'] } });
      expect(data.fixedIps).toEqual([{ subnetId: V4B, ipAddress: '10.0.1.7' }]);
      expect(createdData({ subnets: [v4, v4b], addressCandidates: { [V4]: ['10.0.0.3'], [V4B]: ['10.0.1.7'] } }).fixedIps).toEqual([
        { subnetId: V4, ipAddress: '10.0.0.3' },
      ]);
    });

    it('fails with IpAddressGenerationFailure when every IPv4 pool is empty', () => {
      const err = port
        .given([])
        .when(create({ subnets: [v4, v4b], addressCandidates: { [V4]: null, [V4B]: null } }))
        .thenError('IpAddressGenerationFailure');
      expect(err.message).toBe(`No more IP addresses available on network ${NET}.`);
      port
        .given([])
        .when(create({ addressCandidates: {} }))
        .thenError('IpAddressGenerationFailure');
    });

    it('adds one DHCPv6-stateful address and the EUI-64 on every SLAAC subnet', () => {
      const data = createdData({ subnets: [v4, v6, slaac], addressCandidates: { [V4]: ['10.0.0.5'], [V6]: ['2001:db8::5'] } });
      expect(data.fixedIps).toEqual([
        { subnetId: V4, ipAddress: '10.0.0.5' },
        { subnetId: V6, ipAddress: '2001:db8::5' },
        { subnetId: SLAAC, ipAddress: EUI },
      ]);
    });

    it('gives router ports no automatic SLAAC address', () => {
      const data = createdData({ subnets: [v4, slaac], deviceOwner: DeviceOwner.routerInterface });
      expect(data.fixedIps).toEqual([{ subnetId: V4, ipAddress: '10.0.0.57' }]);
    });

    it('gives a port on a network without subnets no address, and fixedIps [] none at all', () => {
      expect(createdData({ subnets: [] }).fixedIps).toEqual([]);
      expect(createdData({ fixedIps: [] }).fixedIps).toEqual([]);
    });

    it('tells the application which subnets need a candidate', () => {
      const base = { networkId: NET, deviceOwner: '', macAddress: MAC, current: [] };
      expect(candidateSubnets({ ...base, subnets: [v4, v4b, v6, slaac], requests: undefined })).toEqual([V4, V4B, V6]);
      expect(
        candidateSubnets({
          ...base,
          subnets: [v4, v4b, slaac],
          requests: [{ subnetId: V4B }, { ipAddress: '10.0.0.9' }, { subnetId: SLAAC }],
        }),
      ).toEqual([V4B]);
    });
  });

  describe('requested fixed IPs', () => {
    it('takes an exact address, even outside the pool or the gateway', () => {
      expect(createdData({ fixedIps: [{ ipAddress: '10.0.0.1' }] }).fixedIps).toEqual([{ subnetId: V4, ipAddress: '10.0.0.1' }]);
      expect(createdData({ fixedIps: [{ subnetId: V4, ipAddress: '10.0.0.200' }] }).fixedIps).toEqual([
        { subnetId: V4, ipAddress: '10.0.0.200' },
      ]);
    });

    it('takes any address of a named subnet from its candidate', () => {
      expect(
        createdData({ subnets: [v4, v4b], fixedIps: [{ subnetId: V4B }], addressCandidates: { [V4B]: ['10.0.1.9'] } }).fixedIps,
      ).toEqual([{ subnetId: V4B, ipAddress: '10.0.1.9' }]);
      port
        .given([])
        .when(create({ subnets: [v4, v4b], fixedIps: [{ subnetId: V4B }], addressCandidates: { [V4B]: null } }))
        .thenError('IpAddressGenerationFailure');
    });

    it('InvalidIpForSubnet: outside the named subnet, network or broadcast address', () => {
      port
        .given([])
        .when(create({ fixedIps: [{ subnetId: V4, ipAddress: '10.0.1.5' }], subnets: [v4, v4b] }))
        .thenError('InvalidIpForSubnet');
      port
        .given([])
        .when(create({ fixedIps: [{ ipAddress: '10.0.0.0' }] }))
        .thenError('InvalidIpForSubnet');
      port
        .given([])
        .when(create({ fixedIps: [{ ipAddress: '10.0.0.255' }] }))
        .thenError('InvalidIpForSubnet');
    });

    it('InvalidIpForNetwork: in no subnet of the network', () => {
      port
        .given([])
        .when(create({ fixedIps: [{ ipAddress: '192.168.0.5' }] }))
        .thenError('InvalidIpForNetwork');
    });

    it('allows the IPv6 subnet-router anycast address only to router ports', () => {
      port
        .given([])
        .when(create({ subnets: [v6], fixedIps: [{ ipAddress: '2001:db8::' }] }))
        .thenError('InvalidIpForSubnet');
      expect(
        createdData({ subnets: [v6], fixedIps: [{ ipAddress: '2001:db8::' }], deviceOwner: DeviceOwner.routerInterface }).fixedIps,
      ).toEqual([{ subnetId: V6, ipAddress: '2001:db8::' }]);
    });

    it('refuses a chosen address on a SLAAC subnet unless it is the EUI-64 or a router port', () => {
      port
        .given([])
        .when(create({ subnets: [slaac], fixedIps: [{ ipAddress: '2001:db8:1::5' }] }))
        .thenError('AllocationOnAutoAddressSubnet');
      expect(createdData({ subnets: [slaac], fixedIps: [{ ipAddress: EUI }] }).fixedIps).toEqual([{ subnetId: SLAAC, ipAddress: EUI }]);
      expect(createdData({ subnets: [slaac], fixedIps: [{ subnetId: SLAAC }] }).fixedIps).toEqual([{ subnetId: SLAAC, ipAddress: EUI }]);
      expect(
        createdData({ subnets: [slaac], fixedIps: [{ ipAddress: '2001:db8:1::' }], deviceOwner: DeviceOwner.routerInterface }).fixedIps,
      ).toHaveLength(1);
    });

    it('refuses an unknown subnet, malformed address, empty entry and more entries than any list may hold', () => {
      port
        .given([])
        .when(create({ fixedIps: [{ subnetId: V4B }] }))
        .thenError('InvalidInput');
      port
        .given([])
        .when(create({ fixedIps: [{ ipAddress: '10.0.0' }] }))
        .thenError('InputValidationError');
      port
        .given([])
        .when(create({ fixedIps: [{}] }))
        .thenError('InvalidInput');
      const tooMany = Array.from({ length: MAX_FIXED_IPS_PER_PORT + 1 }, () => ({ subnetId: V4 }));
      port
        .given([])
        .when(create({ fixedIps: tooMany }))
        .thenError('InvalidInput');
    });

    it('refuses duplicates within the request', () => {
      port
        .given([])
        .when(create({ fixedIps: [{ ipAddress: '10.0.0.9' }, { ipAddress: '10.0.0.09'.replace('09', '9') }] }))
        .thenError('InvalidInput');
      port
        .given([])
        .when(create({ subnets: [slaac], fixedIps: [{ ipAddress: EUI }, { subnetId: SLAAC }] }))
        .thenError('InvalidInput');
    });

    it('does not use a candidate that the same request names explicitly', () => {
      port
        .given([])
        .when(create({ fixedIps: [{ ipAddress: '10.0.0.57' }, { subnetId: V4 }] }))
        .thenError('IpAddressGenerationFailure');
    });

    it('answers IpAddressAlreadyAllocated for a taken requested address', () => {
      const err = port
        .given([])
        .when(create({ fixedIps: [{ ipAddress: '10.0.0.9' }], takenAddresses: ['10.0.0.9'] }))
        .thenError('IpAddressAlreadyAllocated');
      expect(err.message).toContain('10.0.0.9');
    });
  });

  describe('security', () => {
    it('gives network-owned ports no default group', () => {
      expect(createdData({ deviceOwner: DeviceOwner.dhcp }).securityGroups).toEqual([]);
      expect(createdData({ securityGroups: [] }).securityGroups).toEqual([]);
    });

    it('inherits port security from the network; off means no default group', () => {
      const data = createdData({ network: { ...network, portSecurityEnabled: false } });
      expect(data.portSecurityEnabled).toBe(false);
      expect(data.securityGroups).toEqual([]);
    });

    it('refuses groups or address pairs with port security off', () => {
      port
        .given([])
        .when(create({ portSecurityEnabled: false, securityGroups: [SG] }))
        .thenError('PortSecurityPortHasSecurityGroup');
      port
        .given([])
        .when(create({ portSecurityEnabled: false, securityGroups: [], allowedAddressPairs: [{ ipAddress: '10.0.0.100' }] }))
        .thenError('AddressPairAndPortSecurityRequired');
    });

    it('SecurityGroupConflict: stateful and stateless groups on one port, at create and update', () => {
      const STATELESS = 'efefefef-efef-4efe-8efe-efefefefefef';
      const mixed = { [SG]: true, [STATELESS]: false };
      port
        .given([])
        .when(create({ securityGroups: [SG, STATELESS], securityGroupStateful: mixed }))
        .thenError('SecurityGroupConflict');
      expect(createdData({ securityGroups: [STATELESS], securityGroupStateful: { [STATELESS]: false } }).securityGroups).toEqual([
        STATELESS,
      ]);
      const update: UpdatePort = { type: 'UpdatePort', id: PORT, now: T1, changes: { securityGroups: [SG, STATELESS] } };
      port
        .given([created])
        .when({ ...update, securityGroupStateful: mixed })
        .thenError('SecurityGroupConflict');
      port
        .given([created])
        .when({ ...update, securityGroupStateful: { [SG]: false, [STATELESS]: false } })
        .then((e) => expect(e).toHaveLength(1));
    });

    it('normalises address pairs, defaulting the MAC to the port', () => {
      expect(
        createdData({ allowedAddressPairs: [{ ipAddress: '10.0.0.100' }, { ipAddress: '10.1.0.7/16', macAddress: 'FA:16:3E:00:00:01' }] })
          .allowedAddressPairs,
      ).toEqual([
        { ipAddress: '10.0.0.100', macAddress: MAC },
        { ipAddress: '10.1.0.0/16', macAddress: 'fa:16:3e:00:00:01' },
      ]);
    });

    it('limits address pairs to 10, refuses duplicates and junk', () => {
      const pairs = Array.from({ length: 11 }, (_, i) => ({ ipAddress: `10.0.0.${100 + i}` }));
      port
        .given([])
        .when(create({ allowedAddressPairs: pairs }))
        .thenError('AllowedAddressPairExhausted');
      port
        .given([])
        .when(create({ allowedAddressPairs: [{ ipAddress: '10.0.0.100' }, { ipAddress: '10.0.0.100', macAddress: MAC }] }))
        .thenError('DuplicateAddressPairInRequest');
      port
        .given([])
        .when(create({ allowedAddressPairs: [{ ipAddress: 'nope' }] }))
        .thenError('InputValidationError');
    });
  });

  it('is idempotent for a retried create (new generated MAC and candidate) and refuses a different one', () => {
    port
      .given([created])
      .when(create({ generatedMac: 'fa:16:3e:99:99:99', addressCandidates: { [V4]: ['10.0.0.99'] } }))
      .thenNothing();
    port
      .given([created])
      .when(create({ name: 'other' }))
      .thenError('PortAlreadyExists');
  });
});

describe('port update', () => {
  const update = (changes: UpdatePort['changes'], extra: Partial<UpdatePort> = {}): UpdatePort => ({
    type: 'UpdatePort',
    id: PORT,
    now: T1,
    changes,
    subnets: [v4, v4b, slaac],
    ...extra,
  });

  it('records plain changes in one PortUpdated', () => {
    port
      .given([created])
      .when(update({ name: 'vm', adminStateUp: false, bindingHost: 'h1' }))
      .then([{ type: 'PortUpdated', data: { id: PORT, changes: { name: 'vm', adminStateUp: false, bindingHost: 'h1' }, updatedAt: T1 } }]);
    port
      .given([created])
      .when(update({}))
      .then([{ type: 'PortUpdated', data: { id: PORT, changes: {}, updatedAt: T1 } }]);
  });

  it('changes fixed IPs, listing what was released and allocated', () => {
    port
      .given([created])
      .when(update({ fixedIps: [{ ipAddress: '10.0.0.9' }, { subnetId: V4B }] }, { addressCandidates: { [V4B]: ['10.0.1.20'] } }))
      .then([
        {
          type: 'FixedIpsChanged',
          data: {
            id: PORT,
            networkId: NET,
            fixedIps: [
              { subnetId: V4, ipAddress: '10.0.0.9' },
              { subnetId: V4B, ipAddress: '10.0.1.20' },
            ],
            allocated: [
              { subnetId: V4, ipAddress: '10.0.0.9' },
              { subnetId: V4B, ipAddress: '10.0.1.20' },
            ],
            released: [{ subnetId: V4, ipAddress: '10.0.0.57' }],
            updatedAt: T1,
          },
        },
      ]);
  });

  it('keeps a current address named by address or by its subnet, without consulting taken addresses', () => {
    const keepByIp = port
      .given([created])
      .when(update({ fixedIps: [{ ipAddress: '10.0.0.57' }] }, { takenAddresses: ['10.0.0.57'] }))
      .then((e) => e);
    expect(keepByIp[0]?.type === 'FixedIpsChanged' && keepByIp[0].data).toMatchObject({ allocated: [], released: [] });
    const keepBySubnet = port
      .given([created])
      .when(update({ fixedIps: [{ subnetId: V4 }] }))
      .then((e) => e);
    expect(keepBySubnet[0]?.type === 'FixedIpsChanged' && keepBySubnet[0].data.fixedIps).toEqual([
      { subnetId: V4, ipAddress: '10.0.0.57' },
    ]);
  });

  it('emits both events when plain fields and addresses change together', () => {
    port
      .given([created])
      .when(update({ name: 'n', fixedIps: [] }))
      .then((events) => expect(events.map((e) => e.type)).toEqual(['PortUpdated', 'FixedIpsChanged']));
  });

  it('keeps EUI-64 addresses a new list does not mention', () => {
    const withSlaac: PortEvent = {
      ...created,
      data: {
        ...(created.data as Extract<PortEvent, { type: 'PortCreated' }>['data']),
        fixedIps: [
          { subnetId: V4, ipAddress: '10.0.0.57' },
          { subnetId: SLAAC, ipAddress: EUI },
        ],
      },
    } as PortEvent;
    port
      .given([withSlaac])
      .when(update({ fixedIps: [{ ipAddress: '10.0.0.8' }] }))
      .then((events) => {
        const e = events[0];
        expect(e?.type === 'FixedIpsChanged' && e.data.fixedIps).toEqual([
          { subnetId: V4, ipAddress: '10.0.0.8' },
          { subnetId: SLAAC, ipAddress: EUI },
        ]);
      });
  });

  it('applies the allocation rules to new addresses', () => {
    port
      .given([created])
      .when(update({ fixedIps: [{ ipAddress: '10.0.0.9' }] }, { takenAddresses: ['10.0.0.9'] }))
      .thenError('IpAddressAlreadyAllocated');
    port
      .given([created])
      .when(update({ fixedIps: [{ ipAddress: '10.0.0.255' }] }))
      .thenError('InvalidIpForSubnet');
    port
      .given([created])
      .when(update({ fixedIps: [{ ipAddress: '172.16.0.1' }] }))
      .thenError('InvalidIpForNetwork');
    port
      .given([created])
      .when(update({ fixedIps: [{ subnetId: V4B }] }, { addressCandidates: {} }))
      .thenError('IpAddressGenerationFailure');
  });

  it('enforces port security rules against the resulting port', () => {
    port
      .given([created])
      .when(update({ portSecurityEnabled: false }))
      .thenError('PortSecurityPortHasSecurityGroup');
    port
      .given([created])
      .when(update({ portSecurityEnabled: false, securityGroups: [] }))
      .then((e) => expect(e).toHaveLength(1));
    port
      .given([created])
      .when(update({ allowedAddressPairs: [{ ipAddress: '10.0.0.100' }] }))
      .then((e) => expect(e).toHaveLength(1));
    const insecure: PortEvent = {
      type: 'PortUpdated',
      data: { id: PORT, changes: { portSecurityEnabled: false, securityGroups: [] }, updatedAt: T1 },
    };
    port
      .given([created, insecure])
      .when(update({ allowedAddressPairs: [{ ipAddress: '10.0.0.100' }] }))
      .thenError('AddressPairAndPortSecurityRequired');
    port
      .given([created, insecure])
      .when(update({ securityGroups: [SG] }))
      .thenError('PortSecurityPortHasSecurityGroup');
  });

  it('checks expectedRevision and existence', () => {
    port
      .given([created])
      .when(update({ name: 'x' }, { expectedRevision: 7 }))
      .thenError('RevisionNumberConstraintFailed');
    port
      .given([])
      .when(update({ name: 'x' }))
      .thenError('PortNotFound');
  });

  it('folds FixedIpsChanged into state', () => {
    const moved: PortEvent = {
      type: 'FixedIpsChanged',
      data: { id: PORT, networkId: NET, fixedIps: [], allocated: [], released: [{ subnetId: V4, ipAddress: '10.0.0.57' }], updatedAt: T1 },
    };
    const s = port.given([created, moved]).state;
    expect(s.revision).toBe(2);
    expect(s.status === 'live' && s.resource.fixedIps).toEqual([]);
  });
});

describe('port status', () => {
  it('records status changes with a reason and ignores repeats', () => {
    port
      .given([created])
      .when({ type: 'SetPortStatus', id: PORT, now: T1, status: 'ACTIVE' })
      .then([{ type: 'PortStatusChanged', data: { id: PORT, status: 'ACTIVE', reason: null, updatedAt: T1 } }]);
    port.given([created]).when({ type: 'SetPortStatus', id: PORT, now: T1, status: 'DOWN' }).thenNothing();
    port
      .given([created])
      .when({ type: 'SetPortStatus', id: PORT, now: T1, status: 'ERROR', reason: 'bridge missing' })
      .then([{ type: 'PortStatusChanged', data: { id: PORT, status: 'ERROR', reason: 'bridge missing', updatedAt: T1 } }]);
    const active: PortEvent = { type: 'PortStatusChanged', data: { id: PORT, status: 'ACTIVE', reason: null, updatedAt: T1 } };
    expect(port.given([created, active]).state).toMatchObject({ status: 'live', resource: { status: 'ACTIVE' } });
  });
});

describe('port delete', () => {
  const deleted: PortEvent = {
    type: 'PortDeleted',
    data: {
      id: PORT,
      networkId: NET,
      macAddress: MAC,
      fixedIps: [{ subnetId: V4, ipAddress: '10.0.0.57' }],
      deviceOwner: '',
      deviceId: '',
      deletedAt: T1,
    },
  };

  it('deletes, carrying what it held, then answers PortNotFound', () => {
    port.given([created]).when({ type: 'DeletePort', id: PORT, now: T1 }).then([deleted]);
    port.given([created, deleted]).when({ type: 'DeletePort', id: PORT, now: T1 }).thenError('PortNotFound');
    port.given([created, deleted]).when({ type: 'SetPortStatus', id: PORT, now: T1, status: 'ACTIVE' }).thenError('PortNotFound');
  });

  it.each([DeviceOwner.routerInterface, DeviceOwner.routerGateway, DeviceOwner.floatingIp, DeviceOwner.octavia])(
    'refuses to delete a %s port unless its owner does',
    (owner) => {
      const service = createdData({ deviceOwner: owner, fixedIps: [] });
      const given: PortEvent[] = [{ type: 'PortCreated', data: service }];
      port.given(given).when({ type: 'DeletePort', id: PORT, now: T1 }).thenError('ServicePortInUse');
      port
        .given(given)
        .when({ type: 'DeletePort', id: PORT, now: T1, byOwner: true })
        .then((e) => expect(e[0]?.type).toBe('PortDeleted'));
    },
  );

  it('lets a DHCP port be deleted through the API', () => {
    const dhcp = createdData({ deviceOwner: DeviceOwner.dhcp });
    port
      .given([{ type: 'PortCreated', data: dhcp }])
      .when({ type: 'DeletePort', id: PORT, now: T1 })
      .then((e) => expect(e[0]?.type).toBe('PortDeleted'));
  });

  it('checks expectedRevision', () => {
    port.given([created]).when({ type: 'DeletePort', id: PORT, now: T1, expectedRevision: 2 }).thenError('RevisionNumberConstraintFailed');
  });
});

describe('subnet lifecycle on ports', () => {
  it('releases the addresses of a removed subnet', () => {
    port
      .given([created])
      .when({ type: 'ReleaseSubnetAddresses', id: PORT, now: T1, subnetId: V4 })
      .then([
        {
          type: 'FixedIpsChanged',
          data: {
            id: PORT,
            networkId: NET,
            fixedIps: [],
            allocated: [],
            released: [{ subnetId: V4, ipAddress: '10.0.0.57' }],
            updatedAt: T1,
          },
        },
      ]);
    port.given([created]).when({ type: 'ReleaseSubnetAddresses', id: PORT, now: T1, subnetId: V4B }).thenNothing();
  });

  it('adds the EUI-64 address when a SLAAC subnet appears, except on router ports', () => {
    port
      .given([created])
      .when({ type: 'AddAutoAddress', id: PORT, now: T1, subnet: slaac })
      .then([
        {
          type: 'FixedIpsChanged',
          data: {
            id: PORT,
            networkId: NET,
            fixedIps: [
              { subnetId: V4, ipAddress: '10.0.0.57' },
              { subnetId: SLAAC, ipAddress: EUI },
            ],
            allocated: [{ subnetId: SLAAC, ipAddress: EUI }],
            released: [],
            updatedAt: T1,
          },
        },
      ]);
    port.given([created]).when({ type: 'AddAutoAddress', id: PORT, now: T1, subnet: v6 }).thenNothing();
    const router = createdData({ deviceOwner: DeviceOwner.routerInterface });
    port
      .given([{ type: 'PortCreated', data: router }])
      .when({ type: 'AddAutoAddress', id: PORT, now: T1, subnet: slaac })
      .thenNothing();
  });
});

describe('device owners', () => {
  it('classifies owners', () => {
    expect(isNetworkOwned('network:dhcp')).toBe(true);
    expect(isNetworkOwned('compute:nova')).toBe(false);
    expect(isServicePort('network:router_interface')).toBe(true);
    expect(isServicePort('network:dhcp')).toBe(false);
    expect(takesLowestFreeAddress('network:dhcp')).toBe(true);
    expect(takesLowestFreeAddress('compute:nova')).toBe(false);
  });
});
