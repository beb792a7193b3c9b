import { describe, expect, it } from 'vitest';
import type { AddRouterInterface, RouterCommand, RouterEvent } from '../../src/domain/router/index.js';
import { routerDecider } from '../../src/domain/router/index.js';
import { spec } from '../support/spec.js';
import { expectValidRouterEvents, routerCreated } from './router-fixtures.js';

const id = (n: number) => `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;
const ROUTER = id(1);
const NET_A = id(10);
const NET_B = id(11);
const EXT_NET = id(12);
const SUB_A = id(20);
const SUB_B = id(21);
const SUB_V6 = id(22);
const EXT_SUB = id(23);
const SUB_C = id(24);
const PORT_A = id(30);
const PORT_B = id(31);
const GW_PORT = id(32);
const PORT_V6 = id(33);
const T0 = '2025-01-01T00:00:00.000Z';
const T1 = '2025-01-01T00:01:00.000Z';

const given = (events: readonly RouterEvent[] = []) => spec(routerDecider).given(events);

const created = routerCreated({ id: ROUTER, createdAt: T0 });
const ifaceA: RouterEvent = {
  type: 'RouterInterfaceAdded',
  data: { id: ROUTER, portId: PORT_A, subnetId: SUB_A, networkId: NET_A, ip: '10.0.0.1', cidr: '10.0.0.0/24', updatedAt: T0 },
};
const gateway: RouterEvent = {
  type: 'RouterGatewaySet',
  data: {
    id: ROUTER,
    networkId: EXT_NET,
    portId: GW_PORT,
    enableSnat: true,
    externalFixedIps: [{ subnetId: EXT_SUB, ipAddress: '203.0.113.10', cidr: '203.0.113.0/24' }],
    updatedAt: T0,
  },
};
const routeViaA: RouterEvent = {
  type: 'RouterRoutesChanged',
  data: { id: ROUTER, routes: [{ destination: '192.168.0.0/16', nexthop: '10.0.0.254' }], updatedAt: T0 },
};

const createCmd: RouterCommand = { type: 'CreateRouter', id: ROUTER, project: 'p1', name: 'r1', isAdmin: false, now: T0 };
const bySubnet = (subnet: Partial<Extract<AddRouterInterface, { by: 'subnet' }>['subnet']> = {}, newPortId = PORT_B): RouterCommand => ({
  type: 'AddRouterInterface',
  id: ROUTER,
  by: 'subnet',
  subnet: { id: SUB_B, networkId: NET_B, cidr: '10.1.0.0/24', gatewayIp: '10.1.0.1', ...subnet },
  newPortId,
  now: T1,
});
const byPort = (port: Partial<Extract<AddRouterInterface, { by: 'port' }>['port']> = {}): RouterCommand => ({
  type: 'AddRouterInterface',
  id: ROUTER,
  by: 'port',
  port: {
    id: PORT_B,
    networkId: NET_B,
    deviceId: '',
    fixedIps: [{ subnetId: SUB_B, ipAddress: '10.1.0.7', cidr: '10.1.0.0/24' }],
    ...port,
  },
  now: T1,
});
const setGateway = (extra: Partial<Extract<RouterCommand, { type: 'SetRouterGateway' }>> = {}): RouterCommand => ({
  type: 'SetRouterGateway',
  id: ROUTER,
  network: { id: EXT_NET, external: true },
  gatewayPort: { id: GW_PORT, fixedIps: [{ subnetId: EXT_SUB, ipAddress: '203.0.113.10', cidr: '203.0.113.0/24' }] },
  floatingIpsUseGateway: false,
  isAdmin: false,
  now: T1,
  ...extra,
});
const removeIface = (extra: Partial<Extract<RouterCommand, { type: 'RemoveRouterInterface' }>>): RouterCommand => ({
  type: 'RemoveRouterInterface',
  id: ROUTER,
  subnetIdsUsedByFloatingIps: [],
  now: T1,
  ...extra,
});

describe('router create', () => {
  it('creates with Neutron defaults', () => {
    expectValidRouterEvents(given().when(createCmd).then([created]));
  });
  it('is idempotent for the same router and conflicts for a different one', () => {
    given([created]).when(createCmd).thenNothing();
    given([created])
      .when({ ...createCmd, name: 'other' })
      .thenError('RouterAlreadyExists');
  });
  it('keeps ha and distributed for admins', () => {
    given()
      .when({ ...createCmd, ha: true })
      .thenError('PolicyNotAuthorized');
    given()
      .when({ ...createCmd, ha: true, isAdmin: true })
      .then((events) => expect(events[0]).toMatchObject({ type: 'RouterCreated', data: { ha: true } }));
  });
});

describe('router create with externalGatewayInfo', () => {
  const gatewayFacts = {
    network: { id: EXT_NET, external: true },
    gatewayPort: { id: GW_PORT, fixedIps: [{ subnetId: EXT_SUB, ipAddress: '203.0.113.10', cidr: '203.0.113.0/24' }] },
  };
  const withGateway = (
    extra: Partial<Extract<RouterCommand, { type: 'CreateRouter' }>['gateway']> = {},
    isAdmin = false,
  ): RouterCommand => ({
    ...createCmd,
    isAdmin,
    gateway: { ...gatewayFacts, ...extra },
  });

  it('creates the router and sets its gateway in one decision, with the events setRouterGateway gives', () => {
    expectValidRouterEvents(
      given()
        .when(withGateway())
        .then([created, { ...gateway, data: { ...gateway.data, updatedAt: T0 } }]),
    );
    given()
      .when(withGateway({ enableSnat: false }, true))
      .then((events) => expect(events[1]).toMatchObject({ type: 'RouterGatewaySet', data: { enableSnat: false } }));
  });

  it("refuses with setRouterGateway's errors and creates nothing", () => {
    given()
      .when(withGateway({ network: { id: NET_A, external: false } }))
      .thenError('BadRequest', (e) => expect(e.message).toMatch(/not an external network/));
    given()
      .when(withGateway({ enableSnat: false }))
      .thenError('PolicyNotAuthorized', (e) => expect(e.message).toMatch(/enable_snat/));
    given()
      .when(withGateway({ externalFixedIpsRequested: true }))
      .thenError('PolicyNotAuthorized');
    given()
      .when(withGateway({ gatewayPort: { id: GW_PORT, fixedIps: [] } }))
      .thenError('BadRequest', (e) => expect(e.message).toMatch(/No IP address/));
  });

  it('is idempotent for a repeated create naming the same gateway network, and conflicts for another', () => {
    const set: RouterEvent = { ...gateway, data: { ...gateway.data, updatedAt: T0 } };
    given([created, set]).when(withGateway()).thenNothing();
    given([created, set])
      .when(withGateway({ network: { id: NET_B, external: true } }))
      .thenError('RouterAlreadyExists');
    given([created]).when(withGateway()).thenError('RouterAlreadyExists');
  });
});

describe('router update', () => {
  it('records only the named attributes', () => {
    given([created])
      .when({ type: 'UpdateRouter', id: ROUTER, changes: { name: 'renamed', adminStateUp: false }, isAdmin: false, now: T1 })
      .then([{ type: 'RouterUpdated', data: { id: ROUTER, changes: { name: 'renamed', adminStateUp: false }, updatedAt: T1 } }]);
  });
  it('revises even when nothing is named', () => {
    given([created])
      .when({ type: 'UpdateRouter', id: ROUTER, changes: {}, isAdmin: false, now: T1 })
      .then([{ type: 'RouterUpdated', data: { id: ROUTER, changes: {}, updatedAt: T1 } }]);
  });
  it('refuses a stale expected revision', () => {
    given([created, ifaceA])
      .when({ type: 'UpdateRouter', id: ROUTER, changes: { name: 'x' }, expectedRevision: 1, isAdmin: false, now: T1 })
      .thenError('RevisionNumberConstraintFailed', (e) => expect(e.message).toBe('Constrained to 1, but current revision is 2'));
    given([created, ifaceA])
      .when({ type: 'UpdateRouter', id: ROUTER, changes: { name: 'x' }, expectedRevision: 2, isAdmin: false, now: T1 })
      .then((e) => expect(e).toHaveLength(1));
  });
  it('answers RouterNotFound for a missing or deleted router', () => {
    given().when({ type: 'UpdateRouter', id: ROUTER, changes: {}, isAdmin: false, now: T1 }).thenError('RouterNotFound');
    const deleted: RouterEvent = { type: 'RouterDeleted', data: { id: ROUTER, gatewayPortId: null, deletedAt: T1 } };
    given([created, deleted]).when({ type: 'UpdateRouter', id: ROUTER, changes: {}, isAdmin: false, now: T1 }).thenError('RouterNotFound');
    given([created, deleted]).when(createCmd).thenError('RouterNotFound');
  });
});

describe('router extra routes', () => {
  const routes = (list: { destination: string; nexthop: string }[], maxRoutes?: number, name?: string): RouterCommand => ({
    type: 'UpdateRouter',
    id: ROUTER,
    changes: name === undefined ? { routes: list } : { routes: list, name },
    isAdmin: false,
    now: T1,
    ...(maxRoutes === undefined ? {} : { maxRoutes }),
  });
  it('accepts nexthops on attached subnets and on the gateway subnet, normalised', () => {
    expectValidRouterEvents(
      given([created, ifaceA, gateway])
        .when(
          routes([
            { destination: '192.168.1.7/16', nexthop: '10.0.0.254' },
            { destination: '172.16.0.0/12', nexthop: '203.0.113.1' },
          ]),
        )
        .then([
          {
            type: 'RouterRoutesChanged',
            data: {
              id: ROUTER,
              routes: [
                { destination: '192.168.0.0/16', nexthop: '10.0.0.254' },
                { destination: '172.16.0.0/12', nexthop: '203.0.113.1' },
              ],
              updatedAt: T1,
            },
          },
        ]),
    );
  });
  it('emits both events when attributes and routes change together', () => {
    given([created, ifaceA])
      .when(routes([], undefined, 'n'))
      .then((events) => expect(events.map((e) => e.type)).toEqual(['RouterUpdated', 'RouterRoutesChanged']));
  });
  it('refuses a nexthop that is not on an attached subnet', () => {
    given([created, ifaceA])
      .when(routes([{ destination: '192.168.0.0/16', nexthop: '10.9.0.1' }]))
      .thenError('InvalidRoutes');
    given([created])
      .when(routes([{ destination: '192.168.0.0/16', nexthop: '10.0.0.254' }]))
      .thenError('InvalidRoutes');
  });
  it("refuses the router's own address as nexthop", () => {
    given([created, ifaceA])
      .when(routes([{ destination: '192.168.0.0/16', nexthop: '10.0.0.1' }]))
      .thenError('InvalidRoutes');
  });
  it('refuses malformed routes', () => {
    given([created, ifaceA])
      .when(routes([{ destination: 'nope', nexthop: '10.0.0.9' }]))
      .thenError('InvalidInput');
    given([created, ifaceA])
      .when(routes([{ destination: '192.168.0.0/16', nexthop: '10.0.0' }]))
      .thenError('InputValidationError');
  });
  it('allows 30 routes and refuses 31', () => {
    const n = (count: number) => Array.from({ length: count }, (_, i) => ({ destination: `192.168.${i}.0/24`, nexthop: '10.0.0.254' }));
    given([created, ifaceA])
      .when(routes(n(30)))
      .then((e) => expect(e).toHaveLength(1));
    given([created, ifaceA])
      .when(routes(n(31)))
      .thenError('RoutesExhausted');
    given([created, ifaceA])
      .when(routes(n(3), 2))
      .thenError('RoutesExhausted');
  });
});

describe('router gateway', () => {
  it('sets a gateway on an external network with SNAT on by default', () => {
    expectValidRouterEvents(
      given([created])
        .when(setGateway())
        .then([{ ...gateway, data: { ...gateway.data, updatedAt: T1 } } as RouterEvent]),
    );
  });
  it('refuses a network that is not external', () => {
    given([created])
      .when(setGateway({ network: { id: NET_A, external: false } }))
      .thenError('BadRequest');
  });
  it('lets only admins set enableSnat or external fixed IPs', () => {
    given([created])
      .when(setGateway({ enableSnat: true }))
      .thenError('PolicyNotAuthorized');
    given([created])
      .when(setGateway({ externalFixedIpsRequested: true }))
      .thenError('PolicyNotAuthorized');
    given([created])
      .when(setGateway({ enableSnat: false, externalFixedIpsRequested: true, isAdmin: true }))
      .then((events) => expect(events[0]).toMatchObject({ data: { enableSnat: false } }));
  });
  it('keeps the current enableSnat when the update does not name it', () => {
    const noSnat = { ...gateway, data: { ...gateway.data, enableSnat: false } } as RouterEvent;
    given([created, noSnat])
      .when(setGateway())
      .then((events) => expect(events[0]).toMatchObject({ data: { enableSnat: false } }));
  });
  it('refuses an external subnet that overlaps an attached one', () => {
    given([created, ifaceA])
      .when(setGateway({ gatewayPort: { id: GW_PORT, fixedIps: [{ subnetId: EXT_SUB, ipAddress: '10.0.0.50', cidr: '10.0.0.0/16' }] } }))
      .thenError('BadRequest', (e) => expect(e.message).toMatch(/overlaps/));
  });
  it('refuses to move the gateway to another network while floating IPs use it', () => {
    given([created, gateway])
      .when(setGateway({ network: { id: NET_B, external: true }, floatingIpsUseGateway: true }))
      .thenError('RouterExternalGatewayInUseByFloatingIp');
  });
  it('clears the gateway unless floating IPs use it', () => {
    given([created, gateway])
      .when({ type: 'ClearRouterGateway', id: ROUTER, floatingIpsUseGateway: false, now: T1 })
      .then([{ type: 'RouterGatewayCleared', data: { id: ROUTER, networkId: EXT_NET, portId: GW_PORT, updatedAt: T1 } }]);
    given([created, gateway])
      .when({ type: 'ClearRouterGateway', id: ROUTER, floatingIpsUseGateway: true, now: T1 })
      .thenError('RouterExternalGatewayInUseByFloatingIp');
    given([created]).when({ type: 'ClearRouterGateway', id: ROUTER, floatingIpsUseGateway: false, now: T1 }).thenNothing();
  });
});

describe('router interfaces', () => {
  it('attaches a subnet through its gateway IP', () => {
    expectValidRouterEvents(
      given([created, ifaceA])
        .when(bySubnet())
        .then([
          {
            type: 'RouterInterfaceAdded',
            data: { id: ROUTER, portId: PORT_B, subnetId: SUB_B, networkId: NET_B, ip: '10.1.0.1', cidr: '10.1.0.0/24', updatedAt: T1 },
          },
        ]),
    );
  });
  it('refuses a subnet without a gateway', () => {
    given([created])
      .when(bySubnet({ gatewayIp: null }))
      .thenError('BadRequest', (e) => expect(e.message).toContain('Subnet for router interface must have a gateway IP'));
  });
  it('refuses the same subnet twice, also when it is the gateway subnet', () => {
    given([created, ifaceA])
      .when(bySubnet({ id: SUB_A, networkId: NET_A, cidr: '10.0.0.0/24', gatewayIp: '10.0.0.1' }))
      .thenError('BadRequest', (e) => expect(e.message).toContain('Router already has a port on subnet'));
    given([created, gateway])
      .when(bySubnet({ id: EXT_SUB, networkId: EXT_NET, cidr: '203.0.113.0/24', gatewayIp: '203.0.113.1' }))
      .thenError('BadRequest', (e) => expect(e.message).toContain('Router already has a port on subnet'));
  });
  it('refuses a subnet overlapping an attached one', () => {
    given([created, ifaceA])
      .when(bySubnet({ cidr: '10.0.0.0/16', gatewayIp: '10.0.0.1' }))
      .thenError('BadRequest', (e) => expect(e.message).toMatch(/overlaps with cidr 10\.0\.0\.0\/24/));
  });
  it('attaches a free port with its fixed IPs', () => {
    given([created])
      .when(byPort())
      .then([
        {
          type: 'RouterInterfaceAdded',
          data: { id: ROUTER, portId: PORT_B, subnetId: SUB_B, networkId: NET_B, ip: '10.1.0.7', cidr: '10.1.0.0/24', updatedAt: T1 },
        },
      ]);
  });
  it('refuses facts whose address is not on the subnet', () => {
    given([created])
      .when(byPort({ fixedIps: [{ subnetId: SUB_B, ipAddress: '10.9.0.7', cidr: '10.1.0.0/24' }] }))
      .thenError('InvalidIpForSubnet');
  });
  it('refuses a port in use, without fixed IPs, or with two IPv4 subnets', () => {
    given([created])
      .when(byPort({ deviceId: 'some-vm' }))
      .thenError('PortInUse');
    given([created])
      .when(byPort({ fixedIps: [] }))
      .thenError('BadRequest', (e) => expect(e.message).toMatch(/at least one fixed IP/));
    given([created])
      .when(
        byPort({
          fixedIps: [
            { subnetId: SUB_B, ipAddress: '10.1.0.7', cidr: '10.1.0.0/24' },
            { subnetId: SUB_C, ipAddress: '10.2.0.7', cidr: '10.2.0.0/24' },
          ],
        }),
      )
      .thenError('BadRequest', (e) => expect(e.message).toContain('Cannot have multiple IPv4 subnets on router port'));
  });
  it('allows one IPv4 and several IPv6 addresses on one port', () => {
    given([created])
      .when(
        byPort({
          fixedIps: [
            { subnetId: SUB_B, ipAddress: '10.1.0.7', cidr: '10.1.0.0/24' },
            { subnetId: SUB_V6, ipAddress: '2001:db8::1', cidr: '2001:db8::/64' },
          ],
        }),
      )
      .then((events) => expect(events.map((e) => e.type)).toEqual(['RouterInterfaceAdded', 'RouterInterfaceAdded']));
  });
  it('joins a second IPv6 subnet of a network to the router port that has IPv6 there; IPv4 subnets get ports of their own', () => {
    const v6: RouterEvent = {
      type: 'RouterInterfaceAdded',
      data: { id: ROUTER, portId: PORT_V6, subnetId: SUB_V6, networkId: NET_B, ip: '2001:db8::', cidr: '2001:db8::/64', updatedAt: T0 },
    };
    const v4: RouterEvent = {
      type: 'RouterInterfaceAdded',
      data: { id: ROUTER, portId: PORT_B, subnetId: SUB_B, networkId: NET_B, ip: '10.1.0.1', cidr: '10.1.0.0/24', updatedAt: T0 },
    };
    const second = { id: id(25), networkId: NET_B, cidr: '2001:db8:1::/64', gatewayIp: '2001:db8:1::' };
    const joined = given([created, v4, v6])
      .when(bySubnet(second, id(34)))
      .then([
        {
          type: 'RouterInterfaceAdded',
          data: {
            id: ROUTER,
            portId: PORT_V6,
            subnetId: id(25),
            networkId: NET_B,
            ip: '2001:db8:1::',
            cidr: '2001:db8:1::/64',
            updatedAt: T1,
          },
        },
      ]);
    expectValidRouterEvents(joined);
    // the first IPv6 subnet of a network gets a new port, even beside an IPv4 port there
    given([created, v4])
      .when(bySubnet({ id: SUB_V6, cidr: '2001:db8::/64', gatewayIp: '2001:db8::' }, PORT_V6))
      .then((e) => expect(e[0]).toMatchObject({ data: { portId: PORT_V6 } }));
    // an IPv6 subnet of another network does not join
    given([created, v6])
      .when(bySubnet({ ...second, networkId: NET_A }, id(34)))
      .then((e) => expect(e[0]).toMatchObject({ data: { portId: id(34) } }));
    // a second IPv4 subnet of the network gets its own port
    given([created, v4, v6])
      .when(bySubnet({ id: SUB_C, cidr: '10.1.1.0/24', gatewayIp: '10.1.1.1' }, id(34)))
      .then((e) => expect(e[0]).toMatchObject({ data: { portId: id(34), subnetId: SUB_C } }));
  });
  it('refuses a second IPv6 port on the same network attached by port', () => {
    const v6: RouterEvent = {
      type: 'RouterInterfaceAdded',
      data: { id: ROUTER, portId: PORT_V6, subnetId: SUB_V6, networkId: NET_B, ip: '2001:db8::', cidr: '2001:db8::/64', updatedAt: T0 },
    };
    given([created, v6])
      .when(byPort({ id: id(34), networkId: NET_B, fixedIps: [{ subnetId: id(25), ipAddress: '2001:db8:1::5', cidr: '2001:db8:1::/64' }] }))
      .thenError('BadRequest', (e) => expect(e.message).toMatch(/Cannot have multiple router ports with the same network id/));
  });
});

describe('router interface removal', () => {
  it('removes by subnet and by port', () => {
    const removed = [
      { type: 'RouterInterfaceRemoved', data: { id: ROUTER, portId: PORT_A, subnetId: SUB_A, networkId: NET_A, updatedAt: T1 } },
    ];
    expectValidRouterEvents(
      given([created, ifaceA])
        .when(removeIface({ subnetId: SUB_A }))
        .then(removed as RouterEvent[]),
    );
    given([created, ifaceA])
      .when(removeIface({ portId: PORT_A }))
      .then(removed as RouterEvent[]);
    given([created, ifaceA])
      .when(removeIface({ portId: PORT_A, subnetId: SUB_A }))
      .then(removed as RouterEvent[]);
  });
  it('answers 404s for unknown interfaces', () => {
    given([created, ifaceA])
      .when(removeIface({ portId: PORT_B }))
      .thenError('RouterInterfaceNotFound');
    given([created, ifaceA])
      .when(removeIface({ subnetId: SUB_B }))
      .thenError('RouterInterfaceNotFoundForSubnet');
    given([created, ifaceA])
      .when(removeIface({ portId: PORT_A, subnetId: SUB_B }))
      .thenError('SubnetMismatchForPort');
    given([created, ifaceA]).when(removeIface({})).thenError('BadRequest');
  });
  it('refuses while a floating IP depends on the subnet', () => {
    given([created, ifaceA])
      .when(removeIface({ subnetId: SUB_A, subnetIdsUsedByFloatingIps: [SUB_A] }))
      .thenError('RouterInterfaceInUseByFloatingIP');
    given([created, ifaceA])
      .when(removeIface({ subnetId: SUB_A, subnetIdsUsedByFloatingIps: [SUB_B] }))
      .then((e) => expect(e).toHaveLength(1));
  });
  it('refuses while an extra route needs its nexthop there', () => {
    given([created, ifaceA, routeViaA])
      .when(removeIface({ subnetId: SUB_A }))
      .thenError('RouterInterfaceInUseByRoute');
  });
  it('the router is usable after removal: the subnet can be attached again', () => {
    const removed: RouterEvent = {
      type: 'RouterInterfaceRemoved',
      data: { id: ROUTER, portId: PORT_A, subnetId: SUB_A, networkId: NET_A, updatedAt: T1 },
    };
    given([created, ifaceA, removed])
      .when(bySubnet({ id: SUB_A, networkId: NET_A, cidr: '10.0.0.0/24', gatewayIp: '10.0.0.1' }))
      .then((e) => expect(e).toHaveLength(1));
  });
});

describe('router delete', () => {
  it('refuses while interfaces remain', () => {
    given([created, ifaceA]).when({ type: 'DeleteRouter', id: ROUTER, now: T1 }).thenError('RouterInUse');
  });
  it('deletes, taking the gateway port along', () => {
    expectValidRouterEvents(
      given([created, gateway])
        .when({ type: 'DeleteRouter', id: ROUTER, now: T1 })
        .then([{ type: 'RouterDeleted', data: { id: ROUTER, gatewayPortId: GW_PORT, deletedAt: T1 } }]),
    );
    given([created, gateway])
      .when({ type: 'DeleteRouter', id: ROUTER, expectedRevision: 1, now: T1 })
      .thenError('RevisionNumberConstraintFailed');
  });
  it('answers RouterNotFound after delete', () => {
    const deleted: RouterEvent = { type: 'RouterDeleted', data: { id: ROUTER, gatewayPortId: null, deletedAt: T1 } };
    given([created, deleted]).when({ type: 'DeleteRouter', id: ROUTER, now: T1 }).thenError('RouterNotFound');
  });
});
