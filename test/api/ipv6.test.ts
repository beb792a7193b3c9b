import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eui64Address } from '../../src/domain/ipam/index.js';
import { CREATE_NETWORK, CREATE_PORT, CREATE_SUBNET, startTestApi, type TestApi } from '../support/api.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.close());

async function network(token: string, name: string) {
  const r = await api.gql(token, CREATE_NETWORK, { input: { name } });
  expect(r.createNetwork.__typename).toBe('CreateNetworkSuccess');
  return r.createNetwork.network;
}

async function subnet(token: string, input: Record<string, unknown>) {
  const r = await api.gql(token, CREATE_SUBNET, { input });
  expect(r.createSubnet.__typename).toBe('CreateSubnetSuccess');
  return r.createSubnet.subnet;
}

describe('IPv6 subnets and ports over GraphQL', () => {
  it('creates ports on a network with a SLAAC subnet: EUI-64 of the generated or the requested MAC', async () => {
    const t = await api.token('alpha');
    const net = await network(t, 'v6-slaac');
    const v4 = await subnet(t, { networkId: net.id, ipVersion: 4, cidr: '10.60.0.0/24' });
    const v6 = await subnet(t, {
      networkId: net.id,
      ipVersion: 6,
      cidr: '2001:db8:60::/64',
      ipv6RaMode: 'slaac',
      ipv6AddressMode: 'slaac',
    });

    const generated = (await api.gql(t, CREATE_PORT, { input: { networkId: net.id } })).createPort;
    expect(generated.__typename).toBe('CreatePortSuccess');
    const mac = generated.port.macAddress as string;
    expect(generated.port.fixedIps).toEqual(
      expect.arrayContaining([{ subnetId: v6.uuid, ipAddress: eui64Address('2001:db8:60::/64', mac) }]),
    );
    expect(generated.port.fixedIps.find((f: { subnetId: string }) => f.subnetId === v4.uuid)).toBeDefined();

    const explicit = (await api.gql(t, CREATE_PORT, { input: { networkId: net.id, macAddress: 'FA:16:3E:01:02:03' } })).createPort;
    expect(explicit.__typename).toBe('CreatePortSuccess');
    expect(explicit.port.fixedIps).toContainEqual({ subnetId: v6.uuid, ipAddress: '2001:db8:60:0:f816:3eff:fe01:203' });

    const onlyV6 = (await api.gql(t, CREATE_PORT, { input: { networkId: net.id, fixedIps: [{ subnetId: v6.uuid }] } })).createPort;
    expect(onlyV6.port.fixedIps).toEqual([{ subnetId: v6.uuid, ipAddress: eui64Address('2001:db8:60::/64', onlyV6.port.macAddress) }]);

    const manual = await api.gql(t, CREATE_PORT, { input: { networkId: net.id, fixedIps: [{ ipAddress: '2001:db8:60::99' }] } });
    expect(manual.createPort.code).toBe('AllocationOnAutoAddressSubnet');
    const badMac = await api.gql(t, CREATE_PORT, { input: { networkId: net.id, macAddress: 'not-a-mac' } });
    expect(badMac.createPort.code).toBe('InputValidationError');
  });

  it('gives a port one address from a DHCPv6-stateful subnet, from its pool', async () => {
    const t = await api.token('alpha');
    const net = await network(t, 'v6-stateful');
    const v6 = await subnet(t, {
      networkId: net.id,
      ipVersion: 6,
      cidr: '2001:db8:61::/64',
      ipv6RaMode: 'dhcpv6-stateful',
      ipv6AddressMode: 'dhcpv6-stateful',
    });
    const port = (await api.gql(t, CREATE_PORT, { input: { networkId: net.id } })).createPort;
    expect(port.__typename).toBe('CreatePortSuccess');
    expect(port.port.fixedIps).toHaveLength(1);
    expect(port.port.fixedIps[0].subnetId).toBe(v6.uuid);
    expect(port.port.fixedIps[0].ipAddress).toMatch(/^2001:db8:61::[0-9a-f]{1,4}$/);
  });

  it("refuses invalid mode combinations with Neutron's errors", async () => {
    const t = await api.token('alpha');
    const net = await network(t, 'v6-invalid');
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ipVersion: 6, cidr: '2001:db8:62::/64', ipv6RaMode: 'slaac', ipv6AddressMode: 'dhcpv6-stateful' }, /must be the same value/],
      [
        { ipVersion: 6, cidr: '2001:db8:62::/64', ipv6AddressMode: 'slaac', enableDhcp: false },
        /cannot be set when enable_dhcp is set to False/,
      ],
      [{ ipVersion: 6, cidr: '2001:db8:62::/80', ipv6RaMode: 'slaac' }, /requires the prefix to be \/64/],
      [{ ipVersion: 4, cidr: '10.62.0.0/24', ipv6RaMode: 'slaac' }, /ipv6_ra_mode is not valid when ip_version is 4/],
    ];
    for (const [input, message] of cases) {
      const r = await api.gql(t, CREATE_SUBNET, { input: { networkId: net.id, ...input } });
      expect(r.createSubnet.code, JSON.stringify(input)).toBe('InvalidInput');
      expect(r.createSubnet.message).toMatch(message);
    }
  });
  it('gives the DHCP port an address on DHCPv6 and SLAAC subnets, and every existing port but a router’s an EUI-64 on a new SLAAC subnet', async () => {
    const t = await api.token('alpha');
    const portsOf = async (networkId: string) =>
      (
        await api.gql(
          t,
          `query($n: String) { ports(filter: { networkId: $n }) { edges { node { uuid deviceOwner macAddress fixedIps { subnetId ipAddress } } } } }`,
          { n: networkId },
        )
      ).ports.edges.map((e: { node: unknown }) => e.node) as {
        uuid: string;
        deviceOwner: string;
        macAddress: string;
        fixedIps: { subnetId: string; ipAddress: string }[];
      }[];

    // A network with only a DHCPv6-stateful subnet still gets its DHCP port, so dnsmasq can serve it.
    const only6 = await network(t, 'v6-only');
    const stateful = await subnet(t, {
      networkId: only6.id,
      ipVersion: 6,
      cidr: '2001:db8:63::/64',
      ipv6RaMode: 'dhcpv6-stateful',
      ipv6AddressMode: 'dhcpv6-stateful',
    });
    const dhcp6 = (await portsOf(only6.uuid)).filter((p) => p.deviceOwner === 'network:dhcp');
    expect(dhcp6).toHaveLength(1);
    expect(dhcp6[0]!.fixedIps).toEqual([{ subnetId: stateful.uuid, ipAddress: '2001:db8:63::1' }]);

    // A dual-stack network grows a SLAAC subnet under existing ports.
    const net = await network(t, 'v6-later');
    const v4 = await subnet(t, { networkId: net.id, ipVersion: 4, cidr: '10.63.0.0/24' });
    const vm = (await api.gql(t, CREATE_PORT, { input: { networkId: net.id, deviceOwner: 'compute:nova' } })).createPort.port;
    const r = await api.gql(t, `mutation { createRouter(input: { name: "v6-later" }) { ... on CreateRouterSuccess { router { uuid } } } }`);
    const routerId = r.createRouter.router.uuid as string;
    const ri = await api.gql(
      t,
      `mutation($id: String!, $s: String!) { addRouterInterface(input: { id: $id, subnetId: $s }) { __typename } }`,
      { id: routerId, s: v4.uuid },
    );
    expect(ri.addRouterInterface.__typename).toBe('AddRouterInterfaceSuccess');
    const slaac = await subnet(t, {
      networkId: net.id,
      ipVersion: 6,
      cidr: '2001:db8:64::/64',
      ipv6RaMode: 'slaac',
      ipv6AddressMode: 'slaac',
    });
    const after = await portsOf(net.uuid);
    const byOwner = (owner: string) => after.find((p) => p.deviceOwner === owner)!;
    for (const p of [byOwner('compute:nova'), byOwner('network:dhcp')]) {
      expect(p.fixedIps, p.deviceOwner).toContainEqual({ subnetId: slaac.uuid, ipAddress: eui64Address('2001:db8:64::/64', p.macAddress) });
      expect(
        p.fixedIps.some((f) => f.subnetId === v4.uuid),
        p.deviceOwner,
      ).toBe(true);
    }
    expect(byOwner('compute:nova').uuid).toBe(vm.uuid);
    expect(byOwner('network:router_interface').fixedIps.map((f) => f.subnetId)).toEqual([v4.uuid]);

    // Deleting the SLAAC subnet takes those addresses with it; a subnet whose addresses were chosen stays in use.
    const del = await api.gql(t, `mutation($id: String!) { deleteSubnet(input: { id: $id }) { __typename ... on Error { code } } }`, {
      id: slaac.uuid,
    });
    expect(del.deleteSubnet.__typename).toBe('DeleteSubnetSuccess');
    for (const p of await portsOf(net.uuid))
      expect(
        p.fixedIps.some((f) => f.subnetId === slaac.uuid),
        p.deviceOwner,
      ).toBe(false);
    await api.gql(t, CREATE_PORT, { input: { networkId: only6.id } });
    const inUse = await api.gql(t, `mutation($id: String!) { deleteSubnet(input: { id: $id }) { __typename ... on Error { code } } }`, {
      id: stateful.uuid,
    });
    expect(inUse.deleteSubnet.code).toBe('SubnetInUse');
  });
});
