import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREATE_NETWORK, CREATE_PORT, CREATE_SUBNET, startTestApi, type TestApi } from '../support/api.js';

// Issue 14 (Neutron parity): each rule over the real server, real HTTP and real PostgreSQL.

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.close());

const PORT = 'id uuid macAddress portSecurityEnabled deviceOwner fixedIps { subnetId ipAddress }';
const FIP = 'id uuid floatingIpAddress portId fixedIpAddress routerId';

async function networkWithSubnet(
  token: string,
  name: string,
  cidr: string,
  extra: Record<string, unknown> = {},
  subnet: Record<string, unknown> = {},
) {
  const n = await api.gql(token, CREATE_NETWORK, { input: { name, ...extra } });
  expect(n.createNetwork.__typename).toBe('CreateNetworkSuccess');
  const s = await api.gql(token, CREATE_SUBNET, { input: { networkId: n.createNetwork.network.id, ipVersion: 4, cidr, ...subnet } });
  expect(s.createSubnet.__typename).toBe('CreateSubnetSuccess');
  return { network: n.createNetwork.network, subnet: s.createSubnet.subnet };
}

async function readPort(token: string, id: string) {
  return (await api.gql(token, `query($id: ID!) { node(id: $id) { ... on Port { ${PORT} } } }`, { id })).node;
}

async function readFip(token: string, id: string) {
  return (await api.gql(token, `query($id: ID!) { node(id: $id) { ... on FloatingIp { ${FIP} } } }`, { id })).node;
}

describe('ports and IPAM as Neutron has them', () => {
  it('gives a port two automatic addresses from one subnet, and more than five fixed IPs', async () => {
    const t = await api.token('parity-ipam');
    const { network, subnet } = await networkWithSubnet(t, 'multi', '10.61.0.0/24');
    const two = await api.mutate(
      t,
      'createPort',
      { networkId: network.id, fixedIps: [{ subnetId: subnet.id }, { subnetId: subnet.id }] },
      `port { ${PORT} }`,
    );
    expect(two.__typename).toBe('CreatePortSuccess');
    expect(two.port.fixedIps).toHaveLength(2);
    expect(two.port.fixedIps.every((f: any) => f.subnetId === subnet.uuid)).toBe(true);
    expect(new Set(two.port.fixedIps.map((f: any) => f.ipAddress)).size).toBe(2);

    // Eight addresses the first port's random picks did not take.
    const held = new Set(two.port.fixedIps.map((f: any) => f.ipAddress));
    const eight = Array.from({ length: 20 }, (_, i) => `10.61.0.${11 + i}`)
      .filter((a) => !held.has(a))
      .slice(0, 8)
      .map((ipAddress) => ({ ipAddress }));
    const many = await api.mutate(t, 'createPort', { networkId: network.id, fixedIps: eight }, `port { ${PORT} }`);
    expect(many.__typename).toBe('CreatePortSuccess');
    expect(many.port.fixedIps.map((f: any) => f.ipAddress)).toEqual(eight.map((f) => f.ipAddress));

    // An update that asks for three addresses of the subnet keeps the two it holds and adds one.
    const three = await api.mutate(
      t,
      'updatePort',
      { id: two.port.id, fixedIps: [{ subnetId: subnet.id }, { subnetId: subnet.id }, { subnetId: subnet.id }] },
      `port { ${PORT} }`,
    );
    expect(three.__typename).toBe('UpdatePortSuccess');
    expect(three.port.fixedIps.slice(0, 2)).toEqual(two.port.fixedIps);
    expect(new Set(three.port.fixedIps.map((f: any) => f.ipAddress)).size).toBe(3);

    // Every address is really held: asking for one of them elsewhere is refused.
    const taken = await api.gql(t, CREATE_PORT, {
      input: { networkId: network.id, fixedIps: [{ ipAddress: three.port.fixedIps[2].ipAddress }] },
    });
    expect(taken.createPort.code).toBe('IpAddressAlreadyAllocated');
  });

  it('turns port security off on router interface ports (trusted network:* ports)', async () => {
    const t = await api.token('parity-rif');
    const { network, subnet } = await networkWithSubnet(t, 'rif', '10.62.0.0/24');
    const router = await api.mutate(t, 'createRouter', { name: 'r' }, 'router { id }');
    const added = await api.mutate(
      t,
      'addRouterInterface',
      { id: router.router.id, subnetId: subnet.id },
      'router { interfaces { portId } }',
    );
    expect(added.__typename).toBe('AddRouterInterfaceSuccess');
    const ifPorts = await api.gql(
      t,
      `query($n: String) { ports(filter: { networkId: $n }, portFilter: { deviceOwner: "network:router_interface" }) { edges { node { ${PORT} } } } }`,
      { n: network.uuid },
    );
    expect(ifPorts.ports.edges.map((e: any) => e.node)).toMatchObject([
      { uuid: added.router.interfaces[0].portId, portSecurityEnabled: false },
    ]);
    const vm = await api.gql(t, CREATE_PORT, { input: { networkId: network.id } });
    expect((await readPort(t, vm.createPort.port.id)).portSecurityEnabled).toBe(true);
  });
});

describe("a floating IP follows its port's fixed IP", () => {
  it('moves to the replacement address, is disassociated when the address goes, and never points at a released one', async () => {
    const t = await api.token('parity-fip');
    const pub = await networkWithSubnet(api.adminToken, 'public', '198.51.100.0/24', { external: true });
    const priv = await networkWithSubnet(t, 'private', '10.63.0.0/24');
    const router = (await api.mutate(t, 'createRouter', { name: 'r' }, 'router { id }')).router;
    expect((await api.mutate(t, 'setRouterGateway', { id: router.id, networkId: pub.network.id })).__typename).toBe(
      'SetRouterGatewaySuccess',
    );
    expect((await api.mutate(t, 'addRouterInterface', { id: router.id, subnetId: priv.subnet.id })).__typename).toBe(
      'AddRouterInterfaceSuccess',
    );
    const vm = (await api.gql(t, CREATE_PORT, { input: { networkId: priv.network.id, fixedIps: [{ ipAddress: '10.63.0.10' }] } }))
      .createPort.port;
    const fip = await api.mutate(t, 'createFloatingIp', { floatingNetworkId: pub.network.id, portId: vm.id }, `floatingIp { ${FIP} }`);
    expect(fip.__typename).toBe('CreateFloatingIpSuccess');
    expect(fip.floatingIp.fixedIpAddress).toBe('10.63.0.10');

    // The address is replaced by another of the same subnet: the floating IP moves with it.
    const moved = await api.mutate(t, 'updatePort', { id: vm.id, fixedIps: [{ ipAddress: '10.63.0.20' }] }, `port { ${PORT} }`);
    expect(moved.__typename).toBe('UpdatePortSuccess');
    expect(await readFip(t, fip.floatingIp.id)).toMatchObject({ portId: vm.uuid, fixedIpAddress: '10.63.0.20' });

    // The old address is free again and no floating IP claims it.
    const reuse = await api.gql(t, CREATE_PORT, { input: { networkId: priv.network.id, fixedIps: [{ ipAddress: '10.63.0.10' }] } });
    expect(reuse.createPort.__typename).toBe('CreatePortSuccess');

    // All addresses removed: the floating IP lets go, and can be associated again later.
    const none = await api.mutate(t, 'updatePort', { id: vm.id, fixedIps: [] }, `port { ${PORT} }`);
    expect(none.port.fixedIps).toEqual([]);
    expect(await readFip(t, fip.floatingIp.id)).toMatchObject({ portId: null, fixedIpAddress: null, routerId: null });
    // The log says why: the move and the release are the floating IP's own events.
    const history = await api.gql(t, `query($id: ID!) { history(id: $id) { entries { eventType data } } }`, { id: fip.floatingIp.id });
    const entries = history.history.entries.slice(1);
    expect(entries.map((e: any) => e.eventType)).toEqual(['FloatingIpAssociated', 'FloatingIpDisassociated']);
    expect(entries[1].data).toMatchObject({ cause: 'fixedIpRemoved', fixedIpAddress: '10.63.0.20' });
    expect((await api.mutate(t, 'updatePort', { id: vm.id, fixedIps: [{ ipAddress: '10.63.0.30' }] })).__typename).toBe(
      'UpdatePortSuccess',
    );
    const again = await api.mutate(t, 'associateFloatingIp', { id: fip.floatingIp.id, portId: vm.id }, `floatingIp { ${FIP} }`);
    expect(again.floatingIp.fixedIpAddress).toBe('10.63.0.30');
  });
});

describe('malformed values are InputValidationError naming the field', () => {
  it("answers a bad MAC, IP, rule direction or ethertype, port, monitor delay or MTU with the field's path", async () => {
    const t = await api.token('parity-format');
    const { network, subnet } = await networkWithSubnet(t, 'fmt', '10.64.0.0/24');
    const sg = (await api.mutate(t, 'createSecurityGroup', { name: 'fmt' }, 'securityGroup { id }')).securityGroup;
    const lb = await api.mutate(t, 'createLoadBalancer', { vipSubnetId: subnet.id }, 'loadBalancer { id }');
    expect(lb.__typename).toBe('CreateLoadBalancerSuccess');
    const pool = (
      await api.mutate(t, 'createPool', { loadBalancerId: lb.loadBalancer.id, protocol: 'HTTP', lbAlgorithm: 'ROUND_ROBIN' }, 'pool { id }')
    ).pool;
    const cases: [string, Record<string, unknown>, string[]][] = [
      ['createPort', { networkId: network.id, macAddress: 'fa:16:3e:zz:00:01' }, ['macAddress']],
      [
        'createPort',
        { networkId: network.id, fixedIps: [{ subnetId: subnet.id }, { ipAddress: '10.64.0' }] },
        ['fixedIps', '1', 'ipAddress'],
      ],
      ['createPort', { networkId: network.id, allowedAddressPairs: [{ ipAddress: 'nope' }] }, ['allowedAddressPairs', '0', 'ipAddress']],
      ['createSecurityGroupRule', { securityGroupId: sg.id, direction: 'sideways' }, ['direction']],
      ['createSecurityGroupRule', { securityGroupId: sg.id, direction: 'ingress', ethertype: 'IPv5' }, ['ethertype']],
      ['createListener', { loadBalancerId: lb.loadBalancer.id, protocol: 'TCP', protocolPort: 70000 }, ['protocolPort']],
      ['createHealthMonitor', { poolId: pool.id, type: 'TCP', delay: 1, timeout: 5, maxRetries: 3 }, ['delay']],
      ['createNetwork', { name: 'tiny', mtu: 60 }, ['mtu']],
    ];
    for (const [name, input, path] of cases) {
      const r = await api.mutate(t, name, input);
      expect({ name, path, typename: r.__typename, paths: r.issues?.map((i: any) => i.path) }).toEqual({
        name,
        path,
        typename: 'InputValidationError',
        paths: [path],
      });
    }
    // Relations between resources keep their Neutron codes.
    const overlap = await api.gql(t, CREATE_SUBNET, { input: { networkId: network.id, ipVersion: 4, cidr: '10.64.0.128/25' } });
    expect(overlap.createSubnet.code).toBe('InvalidInput');
  });
});

describe('network IP availability', () => {
  it("answers used and total addresses per subnet to an admin, and refuses a member as Neutron's policy does", async () => {
    const t = await api.token('parity-avail');
    const { network, subnet } = await networkWithSubnet(t, 'avail', '10.65.0.0/24');
    const v6 = await api.gql(t, CREATE_SUBNET, {
      input: { networkId: network.id, ipVersion: 6, cidr: '2001:db8:65::/64', enableDhcp: false },
    });
    expect(v6.createSubnet.__typename).toBe('CreateSubnetSuccess');
    const router = (await api.mutate(t, 'createRouter', { name: 'r' }, 'router { id }')).router;
    expect((await api.mutate(t, 'addRouterInterface', { id: router.id, subnetId: subnet.id })).__typename).toBe(
      'AddRouterInterfaceSuccess',
    );
    expect(
      (await api.mutate(t, 'createPort', { networkId: network.id, fixedIps: [{ subnetId: subnet.id }, { subnetId: subnet.id }] }))
        .__typename,
    ).toBe('CreatePortSuccess');

    const Q = `query($n: String!) { networkIpAvailability(networkId: $n) { networkId networkName projectId totalIps usedIps
      subnetIpAvailability { subnetId subnetName cidr ipVersion totalIps usedIps } } }`;
    const r = (await api.gql(api.adminToken, Q, { n: network.id })).networkIpAvailability;
    // v4: pool .2-.254 = 253; used: the DHCP port, the router interface (gateway .1), two on the port.
    // v6: DHCP off, so no DHCP port; the pool is ::1 to ::ffff:ffff:ffff:ffff.
    expect(r).toEqual({
      networkId: network.uuid,
      networkName: 'avail',
      projectId: expect.any(String),
      totalIps: String(253n + 2n ** 64n - 1n),
      usedIps: '4',
      subnetIpAvailability: [
        { subnetId: subnet.uuid, subnetName: '', cidr: '10.65.0.0/24', ipVersion: 4, totalIps: '253', usedIps: '4' },
        {
          subnetId: v6.createSubnet.subnet.uuid,
          subnetName: '',
          cidr: '2001:db8:65::/64',
          ipVersion: 6,
          totalIps: String(2n ** 64n - 1n),
          usedIps: '0',
        },
      ],
    });
    await expect(api.gql(t, Q, { n: network.id })).rejects.toThrow(/disallowed by policy/);
    expect((await api.gql(api.adminToken, Q, { n: '00000000-0000-4000-8000-000000000000' })).networkIpAvailability).toBeNull();
  });
});

describe('segment allocation from per-physnet ranges', () => {
  let vlanApi: TestApi;
  beforeAll(async () => {
    vlanApi = await startTestApi({ NETLEDGER_VLAN_RANGES: 'physnet1:190:191,physnet1:300:300,physnet2:10:19' });
  });
  afterAll(async () => vlanApi?.close());

  it("gives an admin VLAN network given only its physnet a free id of that physnet's ranges, first range first, then NoNetworkAvailable", async () => {
    const create = async (physicalNetwork: string, segmentationId?: number) =>
      (
        await vlanApi.gql(vlanApi.adminToken, CREATE_NETWORK, {
          input: {
            name: `v-${physicalNetwork}`,
            provider: { networkType: 'vlan', physicalNetwork, ...(segmentationId ? { segmentationId } : {}) },
          },
        })
      ).createNetwork;
    // Like ML2, a random pick among the lowest free ids, so concurrent creates do not all collide.
    const first = (await create('physnet1')).network;
    expect(first).toMatchObject({ mtu: 1500 });
    expect([190, 191]).toContain(first.providerSegmentationId);
    expect((await create('physnet1', first.providerSegmentationId === 190 ? 191 : 190)).__typename).toBe('CreateNetworkSuccess');
    expect((await create('physnet1')).network.providerSegmentationId).toBe(300);
    const other = (await create('physnet2')).network.providerSegmentationId;
    expect(other).toBeGreaterThanOrEqual(10);
    expect(other).toBeLessThanOrEqual(19);
    expect((await create('physnet1')).code).toBe('NoNetworkAvailable');
    // A physnet without configured ranges still needs an explicit id.
    expect((await create('physnet3')).code).toBe('InvalidInput');
  });
});

describe('/31 and /32 subnets with DHCP off', () => {
  it('refuses a /31 with its default gateway as InvalidInput, takes it without gateway, and accepts a /32 whose one address a port gets', async () => {
    const t = await api.token('parity-p2p');
    const net = (await api.gql(t, CREATE_NETWORK, { input: { name: 'p2p' } })).createNetwork.network;
    const sub = (input: Record<string, unknown>) =>
      api.gql(t, CREATE_SUBNET, { input: { networkId: net.id, ipVersion: 4, ...input } }).then((r) => r.createSubnet);
    expect((await sub({ cidr: '10.66.0.0/31' })).code).toBe('InvalidInput');
    expect((await sub({ cidr: '10.66.0.0/31', enableDhcp: false })).code).toBe('InvalidInput');
    expect(await sub({ cidr: '10.66.0.0/31', enableDhcp: false, gatewayIp: null })).toMatchObject({
      subnet: { gatewayIp: null, allocationPools: [{ start: '10.66.0.0', end: '10.66.0.1' }] },
    });
    expect((await sub({ cidr: '10.66.1.0/32' })).code).toBe('InvalidInput');
    const host = await sub({ cidr: '10.66.1.0/32', enableDhcp: false });
    expect(host).toMatchObject({
      __typename: 'CreateSubnetSuccess',
      subnet: { cidr: '10.66.1.0/32', gatewayIp: '10.66.1.1', allocationPools: [{ start: '10.66.1.0', end: '10.66.1.0' }] },
    });
    const p = await api.mutate(t, 'createPort', { networkId: net.id, fixedIps: [{ subnetId: host.subnet.id }] }, `port { ${PORT} }`);
    expect(p.port.fixedIps).toEqual([{ subnetId: host.subnet.uuid, ipAddress: '10.66.1.0' }]);
    expect((await api.mutate(t, 'createPort', { networkId: net.id, fixedIps: [{ subnetId: host.subnet.id }] })).code).toBe(
      'IpAddressGenerationFailure',
    );
  });
});

describe('revisions as Neutron numbers them', () => {
  it('starts subnets and floating IPs at 0, and raises the network revision when a subnet is updated', async () => {
    const t = await api.token('parity-rev');
    const rev = async (id: string) =>
      (await api.gql(t, `query($id: ID!) { node(id: $id) { ... on Subnet { revision } ... on Network { revision } } }`, { id })).node
        .revision;
    const { network, subnet } = await networkWithSubnet(t, 'rev', '10.67.0.0/24', {}, { enableDhcp: false });
    expect(await rev(subnet.id)).toBe(0);
    const before = await rev(network.id);
    // The If-Match check counts from 0 too.
    expect((await api.mutate(t, 'updateSubnet', { id: subnet.id, name: 'x', expectedRevision: 1 })).code).toBe(
      'RevisionNumberConstraintFailed',
    );
    expect((await api.mutate(t, 'updateSubnet', { id: subnet.id, name: 'x', expectedRevision: 0 })).__typename).toBe('UpdateSubnetSuccess');
    expect(await rev(subnet.id)).toBe(1);
    expect(await rev(network.id)).toBe(before + 1);

    const pub = await networkWithSubnet(api.adminToken, 'rev-public', '198.51.67.0/24', { external: true });
    const fip = await api.mutate(t, 'createFloatingIp', { floatingNetworkId: pub.network.id }, 'floatingIp { id revision }');
    expect(fip.floatingIp.revision).toBe(0);
  });
});

describe("a port's MAC address can be changed", () => {
  it('by an admin while the port is unbound; its SLAAC address follows, the old MAC is free again', async () => {
    const t = await api.token('parity-mac');
    const { network } = await networkWithSubnet(t, 'mac', '10.68.0.0/24');
    const v6 = await api.gql(t, CREATE_SUBNET, {
      input: { networkId: network.id, ipVersion: 6, cidr: '2001:db8:68::/64', ipv6AddressMode: 'slaac', ipv6RaMode: 'slaac' },
    });
    expect(v6.createSubnet.__typename).toBe('CreateSubnetSuccess');
    const vm = (await api.mutate(t, 'createPort', { networkId: network.id, macAddress: 'fa:16:3e:68:00:01' }, `port { ${PORT} }`)).port;
    expect(vm.fixedIps.map((f: any) => f.ipAddress)).toContain('2001:db8:68:0:f816:3eff:fe68:1');

    expect((await api.mutate(t, 'updatePort', { id: vm.id, macAddress: 'fa:16:3e:68:00:02' })).code).toBe('PolicyNotAuthorized');
    const other = (await api.mutate(t, 'createPort', { networkId: network.id, macAddress: 'fa:16:3e:68:00:03' }, `port { ${PORT} }`)).port;
    expect((await api.mutate(api.adminToken, 'updatePort', { id: vm.id, macAddress: 'fa:16:3e:68:00:03' })).code).toBe('MacAddressInUse');

    const changed = await api.mutate(api.adminToken, 'updatePort', { id: vm.id, macAddress: 'FA:16:3E:68:00:02' }, `port { ${PORT} }`);
    expect(changed.__typename).toBe('UpdatePortSuccess');
    expect(changed.port.macAddress).toBe('fa:16:3e:68:00:02');
    const addresses = changed.port.fixedIps.map((f: any) => f.ipAddress);
    expect(addresses).toContain('2001:db8:68:0:f816:3eff:fe68:2');
    expect(addresses).not.toContain('2001:db8:68:0:f816:3eff:fe68:1');
    expect(addresses).toContain(vm.fixedIps.find((f: any) => !f.ipAddress.includes(':')).ipAddress);
    // The read model's MAC row moved with it: the old MAC is free, the new one is not.
    expect((await api.mutate(t, 'createPort', { networkId: network.id, macAddress: 'fa:16:3e:68:00:01' })).__typename).toBe(
      'CreatePortSuccess',
    );
    expect((await api.mutate(t, 'createPort', { networkId: network.id, macAddress: 'fa:16:3e:68:00:02' })).code).toBe('MacAddressInUse');

    // Once bound to a host, the MAC stays.
    expect((await api.mutate(api.adminToken, 'updatePort', { id: other.id, bindingHost: 'host-a' })).__typename).toBe('UpdatePortSuccess');
    const refused = await api.mutate(api.adminToken, 'updatePort', { id: other.id, macAddress: 'fa:16:3e:68:00:04' });
    expect(refused.__typename).toBe('PortBound');
    expect((await readPort(t, other.id)).macAddress).toBe('fa:16:3e:68:00:03');
  });
});

describe('every domain error code has its own GraphQL type', () => {
  it('answers segment and address-pair conflicts with their Neutron types, never OtherError', async () => {
    const t = await api.token('parity-types');
    const net = async (provider: Record<string, unknown>) =>
      (await api.gql(api.adminToken, CREATE_NETWORK, { input: { name: 'seg', provider } })).createNetwork;
    const cases: [Record<string, unknown>, string][] = [
      [{ networkType: 'vlan', physicalNetwork: 'physnet-types', segmentationId: 3017 }, 'VlanIdInUse'],
      [{ networkType: 'vxlan', segmentationId: 73017 }, 'TunnelIdInUse'],
      [{ networkType: 'flat', physicalNetwork: 'flat-types' }, 'FlatNetworkInUse'],
    ];
    for (const [provider, type] of cases) {
      expect((await net(provider)).__typename).toBe('CreateNetworkSuccess');
      expect(await net(provider)).toMatchObject({ __typename: type, code: type });
    }
    const { network } = await networkWithSubnet(t, 'pairs', '10.69.0.0/24');
    const pairs = (n: number) => Array.from({ length: n }, (_, i) => ({ ipAddress: `10.69.1.${i + 1}` }));
    expect(await api.mutate(t, 'createPort', { networkId: network.id, allowedAddressPairs: pairs(11) })).toMatchObject({
      __typename: 'AllowedAddressPairExhausted',
    });
    expect(
      await api.mutate(t, 'createPort', {
        networkId: network.id,
        allowedAddressPairs: [{ ipAddress: '10.69.1.1' }, { ipAddress: '10.69.1.1' }],
      }),
    ).toMatchObject({ __typename: 'DuplicateAddressPairInRequest' });

    // The schema has an object type implementing Error for every code the domain can return.
    const { ERROR_CODES } = await import('../../src/domain/errors.js');
    const types = (await api.gql(t, `{ __type(name: "Error") { possibleTypes { name } } }`)).__type.possibleTypes.map((x: any) => x.name);
    expect(types).toEqual(expect.arrayContaining([...ERROR_CODES, 'InputValidationError']));
  });
});

describe('deleting a security group cascades to remote-group rules', () => {
  it("removes other groups' rules that name it, one logged event each, as Neutron's foreign key does", async () => {
    const t = await api.token('parity-sg-cascade');
    const group = async (name: string) => (await api.mutate(t, 'createSecurityGroup', { name }, 'securityGroup { id uuid }')).securityGroup;
    const web = await group('web');
    const db = await group('db');
    const rule = async (ethertype: string) =>
      (
        await api.mutate(
          t,
          'createSecurityGroupRule',
          {
            securityGroupId: db.id,
            direction: 'ingress',
            ethertype,
            protocol: 'tcp',
            portRangeMin: 5432,
            portRangeMax: 5432,
            remoteGroupId: web.id,
          },
          'securityGroupRule { uuid }',
        )
      ).securityGroupRule.uuid;
    const fromWeb = [await rule('IPv4'), await rule('IPv6')];
    const rulesOf = async (id: string) =>
      (await api.gql(t, `query($id: ID!) { node(id: $id) { ... on SecurityGroup { rules { uuid remoteGroupId } } } }`, { id })).node.rules;
    expect((await rulesOf(db.id)).filter((r: any) => r.remoteGroupId === web.uuid).map((r: any) => r.uuid)).toEqual(fromWeb);

    expect((await api.mutate(t, 'deleteSecurityGroup', { id: web.id })).__typename).toBe('DeleteSecurityGroupSuccess');
    const left = await rulesOf(db.id);
    expect(left).toHaveLength(2); // the two egress rules every new group has
    expect(left.some((r: any) => r.remoteGroupId === web.uuid)).toBe(false);
    const history = await api.gql(t, `query($id: ID!) { history(id: $id) { entries { eventType data } } }`, { id: db.id });
    const removed = history.history.entries.filter((e: any) => e.eventType === 'SecurityGroupRuleRemoved');
    expect(removed.map((e: any) => [e.data.rule.id, e.data.remoteGroupDeleted])).toEqual(fromWeb.map((r) => [r, web.uuid]));
  });
});

describe('list arguments are checked', () => {
  it('answers a garbage after/before cursor and a negative first/last with typed errors, not a silent first page', async () => {
    const t = await api.token('parity-cursor');
    await networkWithSubnet(t, 'c1', '10.70.0.0/24');
    await networkWithSubnet(t, 'c2', '10.70.1.0/24');
    const raw = async (args: string) => {
      const res = await fetch(api.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${t}` },
        body: JSON.stringify({ query: `{ networks(${args}) { edges { cursor node { name } } } }` }),
      });
      return (await res.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string; field?: string[] } }[] };
    };
    const page = await raw('first: 1');
    expect(page.data.networks.edges).toHaveLength(1);
    const good = page.data.networks.edges[0].cursor;
    expect((await raw(`first: 1, after: "${good}"`)).data.networks.edges).toHaveLength(1);

    const cases: [string, string, string[]][] = [
      ['after: "garbage"', 'InvalidCursor', ['after']],
      [`after: "${Buffer.from('2024-01-01T00:00:00Z|not-a-uuid').toString('base64url')}"`, 'InvalidCursor', ['after']],
      ['last: 1, before: "!!"', 'InvalidCursor', ['before']],
      ['first: -1', 'InputValidationError', ['first']],
      ['last: -5', 'InputValidationError', ['last']],
    ];
    for (const [args, code, field] of cases) {
      const r = await raw(args);
      expect({ args, data: r.data?.networks ?? null, ext: r.errors?.[0]?.extensions }).toEqual({ args, data: null, ext: { code, field } });
    }
  });
});

describe('quotas reset to defaults and shown with usage', () => {
  it('lets an admin reset a project to the default limits; limit, used and reserved per resource', async () => {
    const t = await api.token('parity-quota');
    await networkWithSubnet(t, 'q', '10.71.0.0/24');
    const Q = `{ viewer { project { uuid quotas { resource limit used reserved } } } }`;
    const me = (await api.gql(t, Q)).viewer.project.uuid;
    const quota = async (resource: string) => (await api.gql(t, Q)).viewer.project.quotas.find((q: any) => q.resource === resource);
    expect((await api.mutate(api.adminToken, 'setQuota', { projectId: me, resource: 'network', limit: 7 })).__typename).toBe(
      'SetQuotaSuccess',
    );
    expect(await quota('network')).toEqual({ resource: 'network', limit: 7, used: 1, reserved: 0 });
    expect((await api.mutate(t, 'resetQuota', { projectId: me })).code).toBe('PolicyNotAuthorized');
    expect((await api.mutate(api.adminToken, 'resetQuota', { projectId: me })).__typename).toBe('ResetQuotaSuccess');
    expect(await quota('network')).toEqual({ resource: 'network', limit: 100, used: 1, reserved: 0 });
    expect(await quota('subnet')).toEqual({ resource: 'subnet', limit: 100, used: 1, reserved: 0 });
    expect((await api.mutate(api.adminToken, 'resetQuota', { projectId: '00000000-0000-4000-8000-000000000000' })).code).toBe(
      'ProjectNotFound',
    );
  });
});
