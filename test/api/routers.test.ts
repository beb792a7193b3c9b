import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setQuota } from '../../src/app/tenancy.js';
import { CREATE_NETWORK, CREATE_PORT, CREATE_SUBNET, startTestApi, type TestApi } from '../support/api.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.close());

const ROUTER = `id uuid name revision status interfaces { portId subnetId networkId ipAddress }
  externalGatewayInfo { networkId portId enableSnat externalFixedIps { subnetId ipAddress } }`;
const FIP = 'id uuid floatingIpAddress floatingNetworkId floatingPortId status portId fixedIpAddress routerId';

const routerOp = (token: string, name: string, input: Record<string, unknown>) => api.mutate(token, name, input, `router { ${ROUTER} }`);
const fipOp = (token: string, name: string, input: Record<string, unknown>) => api.mutate(token, name, input, `floatingIp { ${FIP} }`);
const del = (token: string, name: string, id: string) => api.mutate(token, name, { id });

async function networkWithSubnet(token: string, name: string, cidr: string, extra: Record<string, unknown> = {}) {
  const n = await api.gql(token, CREATE_NETWORK, { input: { name, ...extra } });
  expect(n.createNetwork.__typename).toBe('CreateNetworkSuccess');
  const s = await api.gql(token, CREATE_SUBNET, { input: { networkId: n.createNetwork.network.id, ipVersion: 4, cidr } });
  expect(s.createSubnet.__typename).toBe('CreateSubnetSuccess');
  return { network: n.createNetwork.network, subnet: s.createSubnet.subnet };
}

async function port(token: string, networkId: string, extra: Record<string, unknown> = {}) {
  const p = await api.gql(token, CREATE_PORT, { input: { networkId, ...extra } });
  expect(p.createPort.__typename).toBe('CreatePortSuccess');
  return p.createPort.port;
}

async function portsOn(token: string, networkId: string, deviceOwner: string) {
  const r = await api.gql(
    token,
    `query($n: String, $o: String) { ports(filter: { networkId: $n }, portFilter: { deviceOwner: $o }) { totalCount edges { node { uuid deviceId deviceOwner fixedIps { ipAddress } securityGroupIds } } } }`,
    { n: networkId, o: deviceOwner },
  );
  return r.ports;
}

describe('routers and floating IPs over GraphQL', () => {
  it('runs the whole lifecycle, refusing every out-of-order step on the way', async () => {
    const t = await api.token('routing');
    const pub = await networkWithSubnet(api.adminToken, 'public', '203.0.113.0/24', { external: true });
    const priv = await networkWithSubnet(t, 'private', '10.10.0.0/24');
    const other = await networkWithSubnet(t, 'unrouted', '10.20.0.0/24');

    const created = await routerOp(t, 'createRouter', { name: 'r1' });
    expect(created.__typename).toBe('CreateRouterSuccess');
    const router = created.router;
    expect(router).toMatchObject({ name: 'r1', status: 'ACTIVE', interfaces: [], externalGatewayInfo: null, revision: 1 });

    // Gateway: external networks only; admin-only attributes refused for a member.
    expect((await routerOp(t, 'setRouterGateway', { id: router.id, networkId: priv.network.id })).code).toBe('BadRequest');
    expect((await routerOp(t, 'setRouterGateway', { id: router.id, networkId: pub.network.id, enableSnat: false })).code).toBe(
      'PolicyNotAuthorized',
    );
    expect(
      (
        await routerOp(t, 'setRouterGateway', {
          id: router.id,
          networkId: pub.network.id,
          externalFixedIps: [{ ipAddress: '203.0.113.9' }],
        })
      ).code,
    ).toBe('PolicyNotAuthorized');
    const gw = await routerOp(t, 'setRouterGateway', { id: router.id, networkId: pub.network.id });
    expect(gw.__typename).toBe('SetRouterGatewaySuccess');
    const info = gw.router.externalGatewayInfo;
    expect(info).toMatchObject({ networkId: pub.network.uuid, enableSnat: true, externalFixedIps: [{ subnetId: pub.subnet.uuid }] });
    expect(info.externalFixedIps[0].ipAddress).toMatch(/^203\.0\.113\.\d+$/);
    const gwPorts = await portsOn(api.adminToken, pub.network.uuid, 'network:router_gateway');
    expect(gwPorts.edges.map((e: any) => e.node)).toEqual([
      {
        uuid: info.portId,
        deviceId: router.uuid,
        deviceOwner: 'network:router_gateway',
        fixedIps: [{ ipAddress: info.externalFixedIps[0].ipAddress }],
        securityGroupIds: [],
      },
    ]);
    expect((await del(t, 'deletePort', info.portId)).code).toBe('PortNotFound'); // not the member's port
    expect((await del(api.adminToken, 'deletePort', info.portId)).code).toBe('ServicePortInUse');

    // Interface by subnet: a port with the gateway address, owned by the router.
    expect((await routerOp(t, 'addRouterInterface', { id: router.id })).code).toBe('BadRequest');
    expect((await routerOp(t, 'addRouterInterface', { id: router.id, subnetId: priv.subnet.id, portId: priv.subnet.id })).code).toBe(
      'BadRequest',
    );
    const added = await routerOp(t, 'addRouterInterface', { id: router.id, subnetId: priv.subnet.id });
    expect(added.__typename).toBe('AddRouterInterfaceSuccess');
    expect(added.router.interfaces).toEqual([
      { portId: expect.any(String), subnetId: priv.subnet.uuid, networkId: priv.network.uuid, ipAddress: '10.10.0.1' },
    ]);
    const ifPortId = added.router.interfaces[0].portId;
    const ifPorts = await portsOn(t, priv.network.uuid, 'network:router_interface');
    expect(ifPorts.edges.map((e: any) => e.node)).toEqual([
      {
        uuid: ifPortId,
        deviceId: router.uuid,
        deviceOwner: 'network:router_interface',
        fixedIps: [{ ipAddress: '10.10.0.1' }],
        securityGroupIds: [],
      },
    ]);
    expect((await routerOp(t, 'addRouterInterface', { id: router.id, subnetId: priv.subnet.id })).code).toBe('BadRequest');
    expect((await del(t, 'deletePort', ifPortId)).code).toBe('ServicePortInUse');
    expect((await del(t, 'deleteSubnet', priv.subnet.id)).code).toBe('SubnetInUse');
    expect((await del(t, 'deleteRouter', router.id)).code).toBe('RouterInUse');

    // Floating IPs: external networks only, DOWN, an address from the external subnet.
    const vm = await port(t, priv.network.id);
    const vm2 = await port(t, priv.network.id);
    const stray = await port(t, other.network.id);
    expect((await fipOp(t, 'createFloatingIp', { floatingNetworkId: priv.network.id })).code).toBe('BadRequest');
    const f1 = (await fipOp(t, 'createFloatingIp', { floatingNetworkId: pub.network.id })).floatingIp;
    expect(f1).toMatchObject({ status: 'DOWN', floatingNetworkId: pub.network.uuid, portId: null, routerId: null });
    expect(f1.floatingIpAddress).toMatch(/^203\.0\.113\.\d+$/);
    expect(f1.floatingIpAddress).not.toBe(info.externalFixedIps[0].ipAddress);
    const fipPorts = await portsOn(api.adminToken, pub.network.uuid, 'network:floatingip');
    expect(fipPorts.edges.map((e: any) => e.node)).toEqual([
      {
        uuid: f1.floatingPortId,
        deviceId: f1.uuid,
        deviceOwner: 'network:floatingip',
        fixedIps: [{ ipAddress: f1.floatingIpAddress }],
        securityGroupIds: [],
      },
    ]);

    // Association needs a router from the port's subnet to the floating network.
    expect((await fipOp(t, 'associateFloatingIp', { id: f1.id, portId: stray.id })).code).toBe('ExternalGatewayForFloatingIPNotFound');
    expect((await fipOp(t, 'associateFloatingIp', { id: f1.id, portId: info.portId })).code).toBe('PortNotFound');
    const assoc = await fipOp(t, 'associateFloatingIp', { id: f1.id, portId: vm.id });
    expect(assoc.floatingIp).toMatchObject({
      portId: vm.uuid,
      fixedIpAddress: vm.fixedIps[0].ipAddress,
      routerId: router.uuid,
      status: 'DOWN',
    });
    // Only an admin picks the address (Neutron's create_floatingip:floating_ip_address is admin-only).
    expect((await fipOp(t, 'createFloatingIp', { floatingNetworkId: pub.network.id, floatingIpAddress: '203.0.113.200' })).code).toBe(
      'PolicyNotAuthorized',
    );
    const f2 = (await fipOp(t, 'createFloatingIp', { floatingNetworkId: pub.network.id })).floatingIp;
    expect(
      (await fipOp(api.adminToken, 'createFloatingIp', { floatingNetworkId: pub.network.id, floatingIpAddress: f2.floatingIpAddress }))
        .code,
    ).toBe('IpAddressAlreadyAllocated');
    expect((await fipOp(t, 'associateFloatingIp', { id: f2.id, portId: vm.id })).code).toBe('FloatingIPPortAlreadyAssociated');

    // What the association depends on cannot go away.
    expect((await routerOp(t, 'removeRouterInterface', { id: router.id, subnetId: priv.subnet.id })).code).toBe(
      'RouterInterfaceInUseByFloatingIP',
    );
    expect((await routerOp(t, 'clearRouterGateway', { id: router.id })).code).toBe('RouterExternalGatewayInUseByFloatingIp');

    // Reassociate to another port, then free the first port's fixed IP for f2.
    const moved = await fipOp(t, 'associateFloatingIp', { id: f1.id, portId: vm2.id });
    expect(moved.floatingIp).toMatchObject({ portId: vm2.uuid, fixedIpAddress: vm2.fixedIps[0].ipAddress });
    expect((await fipOp(t, 'associateFloatingIp', { id: f2.id, portId: vm.id })).floatingIp.portId).toBe(vm.uuid);

    // Deleting a port lets go of its floating IP; disassociating by request does the same.
    expect((await del(t, 'deletePort', vm.id)).__typename).toBe('DeletePortSuccess');
    const f2After = await api.gql(
      t,
      `query($id: ID!) { node(id: $id) { ... on FloatingIp { portId fixedIpAddress routerId revision } } }`,
      { id: f2.id },
    );
    expect(f2After.node).toMatchObject({ portId: null, fixedIpAddress: null, routerId: null });
    expect((await fipOp(t, 'disassociateFloatingIp', { id: f1.id })).floatingIp).toMatchObject({ portId: null, routerId: null });

    // Now the teardown succeeds, in order.
    const removed = await routerOp(t, 'removeRouterInterface', { id: router.id, subnetId: priv.subnet.id });
    expect(removed.router.interfaces).toEqual([]);
    expect((await portsOn(t, priv.network.uuid, 'network:router_interface')).totalCount).toBe(0);
    expect((await routerOp(t, 'removeRouterInterface', { id: router.id, subnetId: priv.subnet.id })).code).toBe(
      'RouterInterfaceNotFoundForSubnet',
    );
    const cleared = await routerOp(t, 'clearRouterGateway', { id: router.id });
    expect(cleared.router.externalGatewayInfo).toBeNull();
    expect((await portsOn(api.adminToken, pub.network.uuid, 'network:router_gateway')).totalCount).toBe(0);
    expect((await del(t, 'deleteRouter', router.id)).__typename).toBe('DeleteRouterSuccess');
    expect((await del(t, 'deleteRouter', router.id)).code).toBe('RouterNotFound');
    // The external network is in use while floating IPs hold addresses on it.
    expect((await del(api.adminToken, 'deleteNetwork', pub.network.id)).code).toBe('NetworkInUse');
    for (const f of [f1, f2]) expect((await del(t, 'deleteFloatingIp', f.id)).__typename).toBe('DeleteFloatingIpSuccess');
    expect((await portsOn(api.adminToken, pub.network.uuid, 'network:floatingip')).totalCount).toBe(0);
    const again = await fipOp(api.adminToken, 'createFloatingIp', {
      floatingNetworkId: pub.network.id,
      floatingIpAddress: f2.floatingIpAddress,
    });
    expect(again.floatingIp.floatingIpAddress).toBe(f2.floatingIpAddress);
    expect((await del(api.adminToken, 'deleteFloatingIp', again.floatingIp.id)).__typename).toBe('DeleteFloatingIpSuccess');
    expect((await del(t, 'deletePort', vm2.id)).__typename).toBe('DeletePortSuccess');
    expect((await del(t, 'deleteSubnet', priv.subnet.id)).__typename).toBe('DeleteSubnetSuccess');
    expect((await del(api.adminToken, 'deleteNetwork', pub.network.id)).__typename).toBe('DeleteNetworkSuccess');
  });

  it('attaches an unbound port as an interface, creates associated floating IPs, and keeps routes to connected subnets', async () => {
    const t = await api.token('routing2');
    const pub = await networkWithSubnet(api.adminToken, 'public2', '198.51.100.0/24', { external: true });
    const priv = await networkWithSubnet(t, 'p2', '10.30.0.0/24');
    const router = (await routerOp(t, 'createRouter', { name: 'r2' })).router;
    const bound = await port(t, priv.network.id, { deviceId: 'vm-1' });
    expect((await routerOp(t, 'addRouterInterface', { id: router.id, portId: bound.id })).code).toBe('PortInUse');
    const free = await port(t, priv.network.id, { fixedIps: [{ ipAddress: '10.30.0.254' }] });
    const added = await routerOp(t, 'addRouterInterface', { id: router.id, portId: free.id });
    expect(added.router.interfaces).toEqual([
      { portId: free.uuid, subnetId: priv.subnet.uuid, networkId: priv.network.uuid, ipAddress: '10.30.0.254' },
    ]);
    const owned = await api.gql(t, `query($id: ID!) { node(id: $id) { ... on Port { deviceOwner deviceId } } }`, { id: free.id });
    expect(owned.node).toEqual({ deviceOwner: 'network:router_interface', deviceId: router.uuid });

    const routes = (r: unknown[]) => routerOp(t, 'updateRouter', { id: router.id, routes: r });
    expect((await routes([{ destination: '172.16.0.0/16', nexthop: '192.0.2.1' }])).code).toBe('InvalidRoutes');
    const withRoute = await routes([{ destination: '172.16.0.0/16', nexthop: '10.30.0.10' }]);
    expect(withRoute.__typename).toBe('UpdateRouterSuccess');
    expect((await routerOp(t, 'removeRouterInterface', { id: router.id, portId: free.id })).code).toBe('RouterInterfaceInUseByRoute');
    await routes([]);

    // A floating IP created with a port is associated at once; a gateway is needed first.
    const vm = await port(t, priv.network.id);
    expect((await fipOp(t, 'createFloatingIp', { floatingNetworkId: pub.network.id, portId: vm.id })).code).toBe(
      'ExternalGatewayForFloatingIPNotFound',
    );
    expect((await routerOp(t, 'setRouterGateway', { id: router.id, networkId: pub.network.id })).__typename).toBe(
      'SetRouterGatewaySuccess',
    );
    const fip = await fipOp(t, 'createFloatingIp', { floatingNetworkId: pub.network.id, portId: vm.id, name: 'web' });
    expect(fip.floatingIp).toMatchObject({ portId: vm.uuid, routerId: router.uuid, fixedIpAddress: vm.fixedIps[0].ipAddress });
    const list = await api.gql(t, `query { floatingIps { totalCount edges { node { uuid name } } } }`);
    expect(list.floatingIps).toEqual({ totalCount: 1, edges: [{ node: { uuid: fip.floatingIp.uuid, name: 'web' } }] });
    expect(await api.gql(await api.token('routing-other'), `query { floatingIps { totalCount } routers { totalCount } }`)).toEqual({
      floatingIps: { totalCount: 0 },
      routers: { totalCount: 0 },
    });

    // Removing the interface deletes the port it was attached by (as Neutron does), once nothing needs it.
    expect((await del(t, 'deleteFloatingIp', fip.floatingIp.id)).__typename).toBe('DeleteFloatingIpSuccess');
    expect((await routerOp(t, 'removeRouterInterface', { id: router.id, portId: free.id })).router.interfaces).toEqual([]);
    expect((await api.gql(t, `query($id: ID!) { node(id: $id) { id } }`, { id: free.id })).node).toBeNull();
    // Deleting the router takes its gateway port with it.
    expect((await del(t, 'deleteRouter', router.id)).__typename).toBe('DeleteRouterSuccess');
    expect((await portsOn(api.adminToken, pub.network.uuid, 'network:router_gateway')).totalCount).toBe(0);
  });

  it('enforces the router and floating IP quotas and lets two racing associations of one fixed IP end with one winner', async () => {
    const t = await api.token('routing-quota');
    const projectId = (await api.gql(t, '{ viewer { project { uuid } } }')).viewer.project.uuid;
    expect((await setQuota(api.services, projectId, 'router', 1)).ok).toBe(true);
    expect((await setQuota(api.services, projectId, 'floatingip', 2)).ok).toBe(true);
    const router = (await routerOp(t, 'createRouter', { name: 'only' })).router;
    expect((await routerOp(t, 'createRouter', { name: 'too many' })).code).toBe('OverQuota');

    const pub = await networkWithSubnet(api.adminToken, 'public3', '192.0.2.0/24', { external: true });
    const priv = await networkWithSubnet(t, 'p3', '10.40.0.0/24');
    await routerOp(t, 'setRouterGateway', { id: router.id, networkId: pub.network.id });
    await routerOp(t, 'addRouterInterface', { id: router.id, subnetId: priv.subnet.id });
    const vm = await port(t, priv.network.id);
    const fips = [];
    for (let i = 0; i < 2; i++) fips.push((await fipOp(t, 'createFloatingIp', { floatingNetworkId: pub.network.id })).floatingIp);
    expect((await fipOp(t, 'createFloatingIp', { floatingNetworkId: pub.network.id })).code).toBe('OverQuota');
    // The refused create left no address behind.
    expect((await portsOn(api.adminToken, pub.network.uuid, 'network:floatingip')).totalCount).toBe(2);

    const raced = await Promise.all(fips.map((f) => fipOp(t, 'associateFloatingIp', { id: f.id, portId: vm.id })));
    expect(raced.map((r) => r.__typename).sort()).toEqual(['AssociateFloatingIpSuccess', 'FloatingIPPortAlreadyAssociated']);
  });

  it('creates a router with its gateway (externalGatewayInfo) in one change, or nothing when the gateway is refused', async () => {
    const t = await api.token('routing-create-gw');
    const pub = await networkWithSubnet(api.adminToken, 'public-create-gw', '198.51.100.0/24', { external: true });
    const inner = await networkWithSubnet(t, 'inner-create-gw', '10.40.0.0/24');
    const routers = async () => (await api.gql(t, '{ routers { totalCount } }')).routers.totalCount;
    const gatewayPorts = async () => (await portsOn(api.adminToken, pub.network.id, 'network:router_gateway')).totalCount;

    const made = await routerOp(t, 'createRouter', { name: 'edge', externalGatewayInfo: { networkId: pub.network.id } });
    expect(made.__typename).toBe('CreateRouterSuccess');
    const gw = made.router.externalGatewayInfo;
    expect(gw).toMatchObject({ networkId: pub.network.uuid, enableSnat: true, externalFixedIps: [{ subnetId: pub.subnet.uuid }] });
    const ports = await portsOn(api.adminToken, pub.network.id, 'network:router_gateway');
    expect(ports.edges.map((e: any) => e.node)).toEqual([
      expect.objectContaining({ uuid: gw.portId, deviceId: made.router.uuid, fixedIps: [{ ipAddress: gw.externalFixedIps[0].ipAddress }] }),
    ]);
    // the router and its gateway were one append: the log shows them in one transaction
    const [tx] = await api.services.sql<{ n: bigint }[]>`
      select count(distinct transaction_id) as n from nl_events where stream_id in (${`router-${made.router.uuid}`}, ${`port-${gw.portId}`})`;
    expect(Number(tx!.n)).toBe(1);

    // an address the first gateway did not take at random
    const chosen = gw.externalFixedIps[0].ipAddress === '198.51.100.77' ? '198.51.100.78' : '198.51.100.77';

    // refused gateways: the same errors as setRouterGateway, and no router, no port
    const before = { routers: await routers(), ports: await gatewayPorts() };
    const notExternal = await routerOp(t, 'createRouter', { name: 'x', externalGatewayInfo: { networkId: inner.network.id } });
    expect(notExternal).toMatchObject({ __typename: 'BadRequest', code: 'BadRequest' });
    const snat = await routerOp(t, 'createRouter', { name: 'x', externalGatewayInfo: { networkId: pub.network.id, enableSnat: false } });
    expect(snat.code).toBe('PolicyNotAuthorized');
    const fixed = await routerOp(t, 'createRouter', {
      name: 'x',
      externalGatewayInfo: { networkId: pub.network.id, externalFixedIps: [{ ipAddress: chosen }] },
    });
    expect(fixed.code).toBe('PolicyNotAuthorized');
    const missing = await routerOp(t, 'createRouter', {
      name: 'x',
      externalGatewayInfo: { networkId: '00000000-0000-4000-8000-00000000dead' },
    });
    expect(missing.code).toBe('NetworkNotFound');
    expect({ routers: await routers(), ports: await gatewayPorts() }).toEqual(before);

    // an admin chooses SNAT and the address, exactly as with setRouterGateway
    const admin = await routerOp(api.adminToken, 'createRouter', {
      name: 'edge-admin',
      externalGatewayInfo: { networkId: pub.network.id, enableSnat: false, externalFixedIps: [{ ipAddress: chosen }] },
    });
    expect(admin.router.externalGatewayInfo).toMatchObject({ enableSnat: false, externalFixedIps: [{ ipAddress: chosen }] });
    const taken = await routerOp(api.adminToken, 'createRouter', {
      name: 'edge-taken',
      externalGatewayInfo: { networkId: pub.network.id, externalFixedIps: [{ ipAddress: chosen }] },
    });
    expect(taken.code).toBe('IpAddressAlreadyAllocated');

    // a repeated create with the same id allocates nothing more
    const again = await routerOp(t, 'createRouter', {
      id: made.router.uuid,
      name: 'edge',
      externalGatewayInfo: { networkId: pub.network.id },
    });
    expect(again.router.externalGatewayInfo.portId).toBe(gw.portId);
    expect(await gatewayPorts()).toBe(before.ports + 1);
  });

  it('joins a second IPv6 subnet of a network to the router port holding IPv6 there, as Neutron does; IPv4 subnets get their own ports', async () => {
    const t = await api.token('routing-v6-join');
    const { network, subnet: v4 } = await networkWithSubnet(t, 'dual', '10.50.0.0/24');
    const subnet = async (ipVersion: number, cidr: string) => {
      const r = await api.gql(t, CREATE_SUBNET, { input: { networkId: network.id, ipVersion, cidr } });
      expect(r.createSubnet.__typename).toBe('CreateSubnetSuccess');
      return r.createSubnet.subnet;
    };
    const v6a = await subnet(6, '2001:db8:50::/64');
    const v6b = await subnet(6, '2001:db8:51::/64');
    const v4b = await subnet(4, '10.50.1.0/24');
    const router = (await routerOp(t, 'createRouter', { name: 'dual' })).router;
    const attach = async (s: { id: string }) => {
      const r = await routerOp(t, 'addRouterInterface', { id: router.id, subnetId: s.id });
      expect(r.__typename, JSON.stringify(r)).toBe('AddRouterInterfaceSuccess');
      return r.router.interfaces as { portId: string; subnetId: string; ipAddress: string }[];
    };
    const portOf = (interfaces: { portId: string; subnetId: string }[], s: { uuid: string }) =>
      interfaces.find((i) => i.subnetId === s.uuid)!.portId;

    await attach(v4);
    const afterFirstV6 = await attach(v6a);
    expect(portOf(afterFirstV6, v6a)).not.toBe(portOf(afterFirstV6, v4));
    const afterSecondV6 = await attach(v6b);
    expect(portOf(afterSecondV6, v6b)).toBe(portOf(afterSecondV6, v6a));
    const afterSecondV4 = await attach(v4b);
    expect(new Set(afterSecondV4.map((i) => i.portId)).size).toBe(3);

    const ports = await portsOn(t, network.id, 'network:router_interface');
    expect(ports.totalCount).toBe(3);
    const shared = ports.edges.map((e: any) => e.node).find((p: any) => p.uuid === portOf(afterSecondV6, v6a));
    expect(shared.fixedIps.map((f: any) => f.ipAddress).sort()).toEqual(['2001:db8:50::', '2001:db8:51::']);

    // removing one IPv6 subnet keeps the port for the other; removing the last deletes it
    const removed = await routerOp(t, 'removeRouterInterface', { id: router.id, subnetId: v6a.id });
    expect(removed.router.interfaces.map((i: any) => i.subnetId)).not.toContain(v6a.uuid);
    const kept = (await portsOn(t, network.id, 'network:router_interface')).edges
      .map((e: any) => e.node)
      .find((p: any) => p.uuid === shared.uuid);
    expect(kept.fixedIps).toEqual([{ ipAddress: '2001:db8:51::' }]);
    await routerOp(t, 'removeRouterInterface', { id: router.id, subnetId: v6b.id });
    expect((await portsOn(t, network.id, 'network:router_interface')).totalCount).toBe(2);
  });
});
