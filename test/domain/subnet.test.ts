import { describe, expect, it } from 'vitest';
import {
  isAutoAddressSubnet,
  subnetDecider,
  subnetEvents,
  type CreateSubnet,
  type SubnetEvent,
  type UpdateSubnet,
} from '../../src/domain/subnet/index.js';
import { spec } from '../support/spec.js';

const NET = '11111111-1111-4111-8111-111111111111';
const SUB = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const PORT = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc';
const T0 = '2024-01-01T00:00:00.000Z';
const T1 = '2024-01-01T00:01:00.000Z';

const create = (extra: Partial<CreateSubnet> = {}): CreateSubnet => ({
  type: 'CreateSubnet',
  id: SUB,
  project: 'p1',
  networkId: NET,
  now: T0,
  ipVersion: 4,
  cidr: '10.0.0.0/24',
  ...extra,
});

const subnet = spec(subnetDecider);

/** The SubnetCreated data a create command decides, or the error code. */
function decided(extra: Partial<CreateSubnet>) {
  const result = subnet.given([]).when(create(extra)).result;
  if (!Array.isArray(result)) throw new Error(`expected events, got ${JSON.stringify(result)}`);
  const event = result[0] as SubnetEvent;
  if (event.type !== 'SubnetCreated') throw new Error('expected SubnetCreated');
  return event.data;
}

const created: SubnetEvent = {
  type: 'SubnetCreated',
  data: {
    id: SUB,
    project: 'p1',
    name: '',
    description: '',
    tags: [],
    networkId: NET,
    ipVersion: 4,
    cidr: '10.0.0.0/24',
    gatewayIp: '10.0.0.1',
    allocationPools: [{ start: '10.0.0.2', end: '10.0.0.254' }],
    enableDhcp: true,
    dnsNameservers: [],
    hostRoutes: [],
    ipv6RaMode: null,
    ipv6AddressMode: null,
    createdAt: T0,
  },
};

describe('subnet create', () => {
  it('creates a /24 with the default gateway, pool and DHCP', () => {
    subnet
      .given([])
      .when(create({ cidr: '10.0.0.1/24' }))
      .then([created]);
    expect(subnetEvents.find((d) => d.type === 'SubnetCreated')!.schema.safeParse(created.data).success).toBe(true);
  });

  it('rejects bad CIDRs and a version mismatch with InvalidInput', () => {
    for (const cidr of ['10.0.0.0/33', 'not-a-cidr', '300.1.1.0/24', '0.0.0.0/0'])
      subnet.given([]).when(create({ cidr })).thenError('InvalidInput');
    subnet
      .given([])
      .when(create({ ipVersion: 6 }))
      .thenError('InvalidInput');
    subnet
      .given([])
      .when(create({ ipVersion: 4, cidr: '2001:db8::/64' }))
      .thenError('InvalidInput');
  });

  it('defaults pools around the gateway (facts table)', () => {
    expect(decided({ cidr: '10.0.0.0/29' }).allocationPools).toEqual([{ start: '10.0.0.2', end: '10.0.0.6' }]);
    expect(decided({ cidr: '10.0.0.0/30' }).allocationPools).toEqual([{ start: '10.0.0.2', end: '10.0.0.2' }]);
    expect(decided({ gatewayIp: '10.0.0.254' }).allocationPools).toEqual([{ start: '10.0.0.1', end: '10.0.0.253' }]);
    expect(decided({ gatewayIp: '10.0.0.50' }).allocationPools).toEqual([
      { start: '10.0.0.1', end: '10.0.0.49' },
      { start: '10.0.0.51', end: '10.0.0.254' },
    ]);
    const noGateway = decided({ gatewayIp: null });
    expect(noGateway.gatewayIp).toBeNull();
    expect(noGateway.allocationPools).toEqual([{ start: '10.0.0.1', end: '10.0.0.254' }]);
  });

  it('gives IPv6 the network address as gateway and ::1 onwards as pool', () => {
    const v6 = decided({ ipVersion: 6, cidr: '2001:db8::/64' });
    expect(v6.gatewayIp).toBe('2001:db8::');
    expect(v6.allocationPools).toEqual([{ start: '2001:db8::1', end: '2001:db8::ffff:ffff:ffff:ffff' }]);
  });

  it('refuses a gateway on the network or broadcast address, or of the other family', () => {
    subnet
      .given([])
      .when(create({ gatewayIp: '10.0.0.0' }))
      .thenError('InvalidInput');
    subnet
      .given([])
      .when(create({ gatewayIp: '10.0.0.255' }))
      .thenError('InvalidInput');
    subnet
      .given([])
      .when(create({ gatewayIp: '2001:db8::1' }))
      .thenError('InvalidInput');
    subnet
      .given([])
      .when(create({ gatewayIp: 'nope' }))
      .thenError('InputValidationError');
  });

  it('validates given pools', () => {
    expect(decided({ allocationPools: [{ start: '10.0.0.100', end: '10.0.0.200' }] }).allocationPools).toEqual([
      { start: '10.0.0.100', end: '10.0.0.200' },
    ]);
    subnet
      .given([])
      .when(create({ allocationPools: [{ start: '10.0.0.1', end: '10.0.0.20' }] }))
      .thenError('GatewayConflictWithAllocationPools');
    subnet
      .given([])
      .when(create({ allocationPools: [{ start: '10.0.0.2', end: '10.0.1.20' }] }))
      .thenError('OutOfBoundsAllocationPool');
    subnet
      .given([])
      .when(
        create({
          allocationPools: [
            { start: '10.0.0.2', end: '10.0.0.20' },
            { start: '10.0.0.10', end: '10.0.0.30' },
          ],
        }),
      )
      .thenError('OverlappingAllocationPools');
    subnet
      .given([])
      .when(create({ allocationPools: [{ start: '10.0.0.30', end: '10.0.0.20' }] }))
      .thenError('InvalidAllocationPool');
  });

  it('refuses /31 and /32 with DHCP, accepts /31 without DHCP and without gateway', () => {
    subnet
      .given([])
      .when(create({ cidr: '10.0.0.0/31' }))
      .thenError('InvalidInput');
    subnet
      .given([])
      .when(create({ cidr: '10.0.0.0/32' }))
      .thenError('InvalidInput');
    subnet
      .given([])
      .when(create({ cidr: '10.0.0.0/31', enableDhcp: false }))
      .thenError('InvalidInput');
    const p2p = decided({ cidr: '10.0.0.0/31', enableDhcp: false, gatewayIp: null });
    expect(p2p.allocationPools).toEqual([{ start: '10.0.0.0', end: '10.0.0.1' }]);
  });

  it('refuses IPv6 prefixes longer than /126 with DHCP', () => {
    subnet
      .given([])
      .when(create({ ipVersion: 6, cidr: '2001:db8::/127' }))
      .thenError('InvalidInput');
    expect(decided({ ipVersion: 6, cidr: '2001:db8::/126' }).cidr).toBe('2001:db8::/126');
    expect(decided({ ipVersion: 6, cidr: '2001:db8::/127', enableDhcp: false }).cidr).toBe('2001:db8::/127');
  });

  it('refuses multicast and loopback ranges with DHCP', () => {
    subnet
      .given([])
      .when(create({ cidr: '224.0.0.0/24' }))
      .thenError('InvalidInput');
    subnet
      .given([])
      .when(create({ cidr: '127.0.0.0/24' }))
      .thenError('InvalidInput');
  });

  it('limits DNS nameservers to 5 of the same family', () => {
    const six = ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4', '1.1.1.5', '1.1.1.6'];
    subnet
      .given([])
      .when(create({ dnsNameservers: six }))
      .thenError('DNSNameServersExhausted');
    expect(decided({ dnsNameservers: six.slice(0, 5) }).dnsNameservers).toEqual(six.slice(0, 5));
    subnet
      .given([])
      .when(create({ dnsNameservers: ['2001:db8::53'] }))
      .thenError('InvalidInput');
    subnet
      .given([])
      .when(create({ dnsNameservers: ['1.1.1.1', '1.1.1.1'] }))
      .thenError('InvalidInput');
  });

  it('limits host routes to 20 and checks their family', () => {
    const routes = Array.from({ length: 21 }, (_, i) => ({ destination: `192.168.${i}.0/24`, nexthop: '10.0.0.254' }));
    subnet
      .given([])
      .when(create({ hostRoutes: routes }))
      .thenError('HostRoutesExhausted');
    expect(decided({ hostRoutes: routes.slice(0, 20) }).hostRoutes).toHaveLength(20);
    expect(decided({ hostRoutes: [{ destination: '0.0.0.0/0', nexthop: '10.0.0.254' }] }).hostRoutes).toEqual([
      { destination: '0.0.0.0/0', nexthop: '10.0.0.254' },
    ]);
    expect(decided({ hostRoutes: [{ destination: '192.168.1.7/24', nexthop: '10.0.0.254' }] }).hostRoutes[0]?.destination).toBe(
      '192.168.1.0/24',
    );
    subnet
      .given([])
      .when(create({ hostRoutes: [{ destination: '2001:db8::/64', nexthop: '10.0.0.254' }] }))
      .thenError('InvalidInput');
  });

  describe('IPv6 modes', () => {
    const v6 = (extra: Partial<CreateSubnet>) => create({ ipVersion: 6, cidr: '2001:db8::/64', ...extra });
    it('accepts slaac on a /64', () => {
      subnet
        .given([])
        .when(v6({ ipv6RaMode: 'slaac', ipv6AddressMode: 'slaac' }))
        .then((e) => expect(e).toHaveLength(1));
    });
    it('refuses modes on IPv4', () => {
      subnet
        .given([])
        .when(create({ ipv6AddressMode: 'slaac' }))
        .thenError('InvalidInput');
    });
    it('refuses different ra and address modes', () => {
      subnet
        .given([])
        .when(v6({ ipv6RaMode: 'slaac', ipv6AddressMode: 'dhcpv6-stateful' }))
        .thenError('InvalidInput');
    });
    it('refuses modes with DHCP off', () => {
      subnet
        .given([])
        .when(v6({ ipv6AddressMode: 'dhcpv6-stateful', enableDhcp: false }))
        .thenError('InvalidInput');
    });
    it('requires a /64 for slaac and dhcpv6-stateless, not for stateful', () => {
      subnet
        .given([])
        .when(v6({ cidr: '2001:db8::/80', ipv6AddressMode: 'slaac' }))
        .thenError('InvalidInput');
      subnet
        .given([])
        .when(v6({ cidr: '2001:db8::/80', ipv6RaMode: 'dhcpv6-stateless' }))
        .thenError('InvalidInput');
      subnet
        .given([])
        .when(v6({ cidr: '2001:db8::/80', ipv6AddressMode: 'dhcpv6-stateful' }))
        .then((e) => expect(e).toHaveLength(1));
    });
    // Neutron's matrix: either attribute alone, or both equal; any two different values are refused.
    const modes = [null, 'slaac', 'dhcpv6-stateful', 'dhcpv6-stateless'] as const;
    for (const ra of modes) {
      for (const address of modes) {
        const valid = ra === null || address === null || ra === address;
        it(`ipv6_ra_mode ${ra ?? 'unset'} with ipv6_address_mode ${address ?? 'unset'}: ${valid ? 'accepted' : 'refused'}`, () => {
          const when = subnet.given([]).when(v6({ ipv6RaMode: ra, ipv6AddressMode: address }));
          if (valid) when.then((e) => expect(e).toHaveLength(1));
          else {
            when.thenError('InvalidInput', (e) =>
              expect(e.message).toBe(
                `Invalid input for operation: ipv6_ra_mode set to '${ra}' with ipv6_address_mode set to '${address}' is not valid. If both attributes are set, they must be the same value.`,
              ),
            );
          }
        });
      }
    }
    it('names the attribute set on IPv4, and says why DHCP off is refused', () => {
      subnet
        .given([])
        .when(create({ ipv6RaMode: 'slaac' }))
        .thenError('InvalidInput', (e) =>
          expect(e.message).toBe('Invalid input for operation: ipv6_ra_mode is not valid when ip_version is 4.'),
        );
      subnet
        .given([])
        .when(create({ ipv6AddressMode: 'dhcpv6-stateful' }))
        .thenError('InvalidInput', (e) =>
          expect(e.message).toBe('Invalid input for operation: ipv6_address_mode is not valid when ip_version is 4.'),
        );
      subnet
        .given([])
        .when(v6({ ipv6RaMode: 'slaac', enableDhcp: false }))
        .thenError('InvalidInput', (e) =>
          expect(e.message).toBe(
            'Invalid input for operation: ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False.',
          ),
        );
      subnet
        .given([])
        .when(v6({ cidr: '2001:db8::/96', ipv6RaMode: 'slaac' }))
        .thenError('InvalidInput', (e) =>
          expect(e.message).toMatch(/OpenStack uses the EUI-64 address format, which requires the prefix to be \/64/),
        );
    });
    it('treats a subnet with only an RA mode of slaac or dhcpv6-stateless as automatically addressed', () => {
      expect(isAutoAddressSubnet({ ipv6RaMode: 'slaac', ipv6AddressMode: null })).toBe(true);
      expect(isAutoAddressSubnet({ ipv6RaMode: 'dhcpv6-stateless', ipv6AddressMode: null })).toBe(true);
      expect(isAutoAddressSubnet({ ipv6RaMode: 'dhcpv6-stateful', ipv6AddressMode: null })).toBe(false);
      expect(isAutoAddressSubnet({ ipv6RaMode: null, ipv6AddressMode: 'slaac' })).toBe(true);
      expect(isAutoAddressSubnet({ ipv6RaMode: null, ipv6AddressMode: null })).toBe(false);
    });
  });

  it('is idempotent for the same create and refuses a different one', () => {
    subnet.given([created]).when(create()).thenNothing();
    subnet
      .given([created])
      .when(create({ cidr: '10.0.1.0/24' }))
      .thenError('SubnetAlreadyExists');
  });
});

describe('subnet update', () => {
  const update = (changes: UpdateSubnet['changes'], extra: Partial<UpdateSubnet> = {}): UpdateSubnet => ({
    type: 'UpdateSubnet',
    id: SUB,
    now: T1,
    changes,
    ...extra,
  });

  it('updates name, tags, DNS and routes, normalised', () => {
    subnet
      .given([created])
      .when(
        update({
          name: 'n',
          tags: ['x'],
          dnsNameservers: ['8.8.8.8'],
          hostRoutes: [{ destination: '192.168.0.9/24', nexthop: '10.0.0.9' }],
        }),
      )
      .then([
        {
          type: 'SubnetUpdated',
          data: {
            id: SUB,
            changes: {
              name: 'n',
              tags: ['x'],
              dnsNameservers: ['8.8.8.8'],
              hostRoutes: [{ destination: '192.168.0.0/24', nexthop: '10.0.0.9' }],
            },
            updatedAt: T1,
          },
        },
      ]);
  });

  it('moves the gateway only outside the pools', () => {
    subnet
      .given([created])
      .when(update({ gatewayIp: '10.0.0.5' }))
      .thenError('GatewayConflictWithAllocationPools');
    subnet
      .given([created])
      .when(update({ gatewayIp: '10.0.0.254', allocationPools: [{ start: '10.0.0.2', end: '10.0.0.253' }] }))
      .then([
        {
          type: 'SubnetUpdated',
          data: {
            id: SUB,
            changes: { gatewayIp: '10.0.0.254', allocationPools: [{ start: '10.0.0.2', end: '10.0.0.253' }] },
            updatedAt: T1,
          },
        },
      ]);
    subnet
      .given([created])
      .when(update({ gatewayIp: null }))
      .then((e) => expect(e).toHaveLength(1));
  });

  it('refuses to change a gateway a router port uses, but allows restating it', () => {
    const err = subnet
      .given([created])
      .when(update({ gatewayIp: '10.0.0.254', allocationPools: [{ start: '10.0.0.2', end: '10.0.0.200' }] }, { gatewayInUseBy: PORT }))
      .thenError('GatewayIpInUse');
    expect(err.message).toContain(PORT);
    subnet
      .given([created])
      .when(update({ gatewayIp: '10.0.0.1' }, { gatewayInUseBy: PORT }))
      .then((e) => expect(e).toHaveLength(1));
    subnet
      .given([created])
      .when(update({ name: 'x' }, { gatewayInUseBy: PORT }))
      .then((e) => expect(e).toHaveLength(1));
  });

  it('validates new pools against the current gateway', () => {
    subnet
      .given([created])
      .when(update({ allocationPools: [{ start: '10.0.0.1', end: '10.0.0.9' }] }))
      .thenError('GatewayConflictWithAllocationPools');
    subnet
      .given([created])
      .when(update({ allocationPools: [{ start: '10.0.0.9', end: '10.0.0.300' }] }))
      .thenError('InvalidAllocationPool');
  });

  it('checks DNS and route limits on update', () => {
    subnet
      .given([created])
      .when(update({ dnsNameservers: ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4', '1.1.1.5', '1.1.1.6'] }))
      .thenError('DNSNameServersExhausted');
    const routes = Array.from({ length: 21 }, (_, i) => ({ destination: `192.168.${i}.0/24`, nexthop: '10.0.0.254' }));
    subnet
      .given([created])
      .when(update({ hostRoutes: routes }))
      .thenError('HostRoutesExhausted');
  });

  it('refuses turning DHCP on for a /31 and off under IPv6 modes', () => {
    const p2p: SubnetEvent = {
      type: 'SubnetCreated',
      data: {
        ...created.data,
        cidr: '10.0.0.0/31',
        gatewayIp: null,
        enableDhcp: false,
        allocationPools: [{ start: '10.0.0.0', end: '10.0.0.1' }],
      } as typeof created.data,
    };
    subnet
      .given([p2p])
      .when(update({ enableDhcp: true }))
      .thenError('InvalidInput');
    const slaac: SubnetEvent = {
      type: 'SubnetCreated',
      data: {
        ...created.data,
        ipVersion: 6,
        cidr: '2001:db8::/64',
        gatewayIp: '2001:db8::',
        allocationPools: [],
        ipv6AddressMode: 'slaac',
        ipv6RaMode: 'slaac',
      } as typeof created.data,
    };
    subnet
      .given([slaac])
      .when(update({ enableDhcp: false }))
      .thenError('InvalidInput', (e) =>
        expect(e.message).toBe('Invalid input for operation: Cannot disable enable_dhcp with ipv6 attributes set.'),
      );
    subnet
      .given([created])
      .when(update({ enableDhcp: false }))
      .then((e) => expect(e).toHaveLength(1));
  });

  it('checks expectedRevision and existence', () => {
    subnet
      .given([created])
      .when(update({ name: 'x' }, { expectedRevision: 3 }))
      .thenError('RevisionNumberConstraintFailed');
    subnet
      .given([])
      .when(update({ name: 'x' }))
      .thenError('SubnetNotFound');
  });

  it('folds updates into state and bumps the revision', () => {
    const s = subnet.given([created, { type: 'SubnetUpdated', data: { id: SUB, changes: { gatewayIp: null }, updatedAt: T1 } }]).state;
    expect(s.revision).toBe(1); // created at revision 0, as Neutron shows a new subnet
    expect(s.status === 'live' && s.resource.gatewayIp).toBeNull();
  });
});

describe('subnet delete', () => {
  it('refuses while non-DHCP ports hold addresses', () => {
    subnet
      .given([created])
      .when({ type: 'DeleteSubnet', id: SUB, now: T1, portsWithAddresses: [PORT] })
      .thenError('SubnetInUse');
  });

  it('deletes and then answers SubnetNotFound', () => {
    const deleted: SubnetEvent = { type: 'SubnetDeleted', data: { id: SUB, networkId: NET, deletedAt: T1 } };
    subnet.given([created]).when({ type: 'DeleteSubnet', id: SUB, now: T1, portsWithAddresses: [] }).then([deleted]);
    subnet.given([created, deleted]).when({ type: 'DeleteSubnet', id: SUB, now: T1, portsWithAddresses: [] }).thenError('SubnetNotFound');
  });

  it('checks expectedRevision', () => {
    subnet
      .given([created])
      .when({ type: 'DeleteSubnet', id: SUB, now: T1, portsWithAddresses: [], expectedRevision: 1 })
      .thenError('RevisionNumberConstraintFailed');
  });
});
