import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREATE_NETWORK, CREATE_PORT, CREATE_SUBNET, startTestApi, type TestApi } from '../support/api.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.close());

async function network(token: string, name: string, extra: Record<string, unknown> = {}) {
  const r = await api.gql(token, CREATE_NETWORK, { input: { name, ...extra } });
  expect(r.createNetwork.__typename).toBe('CreateNetworkSuccess');
  return r.createNetwork.network;
}

describe('networks, subnets and ports over GraphQL', () => {
  it('answers 401 without a token and serves /healthz without one', async () => {
    const res = await fetch(api.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query":"{ viewer { role } }"}',
    });
    expect(res.status).toBe(401);
    const health = await fetch(api.url.replace('/graphql', '/healthz'));
    expect(health.status).toBe(200);
  });

  it('creates a network with a VXLAN id, a subnet with Neutron defaults, and a DHCP port', async () => {
    const t = await api.token('alpha');
    const net = await network(t, 'n1');
    expect(net.providerSegmentationId).toBeGreaterThan(0);
    expect(net.mtu).toBe(1450);
    const s = await api.gql(t, CREATE_SUBNET, { input: { networkId: net.id, ipVersion: 4, cidr: '10.0.0.1/24' } });
    expect(s.createSubnet.subnet).toMatchObject({
      cidr: '10.0.0.0/24',
      gatewayIp: '10.0.0.1',
      allocationPools: [{ start: '10.0.0.2', end: '10.0.0.254' }],
    });
    const ports = await api.gql(
      t,
      `query($n: String) { ports(filter: { networkId: $n }) { totalCount edges { node { deviceOwner fixedIps { ipAddress } } } } }`,
      { n: net.uuid },
    );
    expect(ports.ports.totalCount).toBe(1);
    expect(ports.ports.edges[0].node).toEqual({ deviceOwner: 'network:dhcp', fixedIps: [{ ipAddress: '10.0.0.2' }] });
    const again = await api.gql(t, `query($id: ID!) { node(id: $id) { ... on Network { revision subnets { cidr } } } }`, { id: net.id });
    expect(again.node).toEqual({ revision: 2, subnets: [{ cidr: '10.0.0.0/24' }] });
  });

  it('returns typed errors and changes nothing on bad input', async () => {
    const t = await api.token('alpha');
    const net = await network(t, 'n2');
    const bad = await api.gql(t, CREATE_SUBNET, { input: { networkId: net.id, ipVersion: 4, cidr: '300.1.1.0/24' } });
    expect(bad.createSubnet).toMatchObject({ __typename: 'InvalidInput', code: 'InvalidInput' });
    const invalid = await api.gql(t, CREATE_SUBNET, { input: { networkId: net.id, ipVersion: 5, cidr: '10.0.0.0/24' } });
    expect(invalid.createSubnet.__typename).toBe('InputValidationError');
    expect(invalid.createSubnet.issues[0].path).toEqual(['ipVersion']);
    await api.gql(t, CREATE_SUBNET, { input: { networkId: net.id, ipVersion: 4, cidr: '10.1.0.0/24' } });
    const overlap = await api.gql(t, CREATE_SUBNET, { input: { networkId: net.id, ipVersion: 4, cidr: '10.1.0.128/25' } });
    expect(overlap.createSubnet.code).toBe('InvalidInput');
    expect(overlap.createSubnet.message).toMatch(/overlaps with another subnet/);
    const subnets = await api.gql(t, `query($n: String) { subnets(filter: { networkId: $n }) { totalCount } }`, { n: net.uuid });
    expect(subnets.subnets.totalCount).toBe(1);
  });

  it('allocates addresses, refuses taken ones, frees them on delete, and guards deletes', async () => {
    const t = await api.token('alpha');
    const net = await network(t, 'n3');
    const s = (await api.gql(t, CREATE_SUBNET, { input: { networkId: net.id, ipVersion: 4, cidr: '192.168.7.0/29' } })).createSubnet.subnet;
    const p1 = (await api.gql(t, CREATE_PORT, { input: { networkId: net.id, fixedIps: [{ ipAddress: '192.168.7.5' }] } })).createPort;
    expect(p1.port.fixedIps).toEqual([{ subnetId: s.uuid, ipAddress: '192.168.7.5' }]);
    expect(p1.port.macAddress).toMatch(/^fa:16:3e(:[0-9a-f]{2}){3}$/);
    expect(p1.port.status).toBe('DOWN');
    const taken = await api.gql(t, CREATE_PORT, { input: { networkId: net.id, fixedIps: [{ ipAddress: '192.168.7.5' }] } });
    expect(taken.createPort.code).toBe('IpAddressAlreadyAllocated');
    const outside = await api.gql(t, CREATE_PORT, { input: { networkId: net.id, fixedIps: [{ ipAddress: '10.9.9.9' }] } });
    expect(outside.createPort.code).toBe('InvalidIpForNetwork');
    // /29: .2-.6 minus the DHCP port's .2 and our .5 leaves 3.
    for (let i = 0; i < 3; i++)
      expect((await api.gql(t, CREATE_PORT, { input: { networkId: net.id } })).createPort.__typename).toBe('CreatePortSuccess');
    const full = await api.gql(t, CREATE_PORT, { input: { networkId: net.id } });
    expect(full.createPort.code).toBe('IpAddressGenerationFailure');
    const inUse = await api.gql(t, `mutation($id: String!) { deleteNetwork(input: { id: $id }) { __typename ... on Error { code } } }`, {
      id: net.id,
    });
    expect(inUse.deleteNetwork.code).toBe('NetworkInUse');
    const subnetInUse = await api.gql(
      t,
      `mutation($id: String!) { deleteSubnet(input: { id: $id }) { __typename ... on Error { code } } }`,
      { id: s.id },
    );
    expect(subnetInUse.deleteSubnet.code).toBe('SubnetInUse');
    const del = await api.gql(t, `mutation($id: String!) { deletePort(input: { id: $id }) { __typename } }`, { id: p1.port.id });
    expect(del.deletePort.__typename).toBe('DeletePortSuccess');
    const reuse = await api.gql(t, CREATE_PORT, { input: { networkId: net.id, fixedIps: [{ ipAddress: '192.168.7.5' }] } });
    expect(reuse.createPort.__typename).toBe('CreatePortSuccess');
  });

  it('answers a created port exactly as a read after it shows it, and an idempotent re-create the same', async () => {
    const t = await api.token('alpha');
    const net = await network(t, 'n-answer');
    await api.gql(t, CREATE_SUBNET, { input: { networkId: net.id, ipVersion: 4, cidr: '192.168.9.0/24' } });
    await api.gql(t, CREATE_SUBNET, { input: { networkId: net.id, ipVersion: 6, cidr: 'fd00:9::/64' } });
    const fields = `id uuid name description tags projectId networkId macAddress status statusReason adminStateUp deviceOwner deviceId
      bindingHost portSecurityEnabled securityGroupIds revision createdAt updatedAt fixedIps { subnetId ipAddress }
      allowedAddressPairs { ipAddress macAddress } network { uuid }`;
    const create = `mutation($input: CreatePortInput!) { createPort(input: $input) { __typename ... on CreatePortSuccess { cursor port { ${fields} } } ... on Error { code } } }`;
    const input = {
      id: '0b5c5e51-5a4e-4a52-9d9e-3f1f0f7a1c01',
      networkId: net.id,
      name: 'answered',
      description: 'read back',
      tags: ['a', 'b'],
      deviceId: 'vm-1',
      deviceOwner: 'compute:nova',
      allowedAddressPairs: [{ ipAddress: '10.9.0.0/24' }],
    };
    const created = (await api.gql(t, create, { input })).createPort;
    expect(created.__typename).toBe('CreatePortSuccess');
    expect(created.cursor).toEqual(expect.any(String));
    expect(created.port.fixedIps).toHaveLength(2);
    const read = await api.gql(t, `query($id: ID!) { node(id: $id) { ... on Port { ${fields} } } }`, { id: created.port.id });
    expect(created.port).toEqual(read.node);
    // The same create again appends nothing: the answer is read from the read model, and is the same port.
    const again = (await api.gql(t, create, { input })).createPort;
    expect(again.port).toEqual(read.node);
  });

  it('rejects a stale expectedRevision and changes nothing', async () => {
    const t = await api.token('alpha');
    const net = await network(t, 'n4');
    const upd = `mutation($i: UpdateNetworkInput!) { updateNetwork(input: $i) { __typename ... on UpdateNetworkSuccess { network { name revision } } ... on Error { code message } } }`;
    const ok = await api.gql(t, upd, { i: { id: net.id, expectedRevision: 1, name: 'renamed' } });
    expect(ok.updateNetwork.network).toEqual({ name: 'renamed', revision: 2 });
    const stale = await api.gql(t, upd, { i: { id: net.id, expectedRevision: 1, name: 'again' } });
    expect(stale.updateNetwork).toMatchObject({
      code: 'RevisionNumberConstraintFailed',
      message: 'Constrained to 1, but current revision is 2',
    });
  });

  it("hides other projects' resources completely", async () => {
    const a = await api.token('alpha');
    const b = await api.token('beta');
    const net = await network(a, 'private');
    const seen = await api.gql(b, `query($id: ID!) { node(id: $id) { id } }`, { id: net.id });
    expect(seen.node).toBeNull();
    const list = await api.gql(b, `query { networks { totalCount } }`);
    expect(list.networks.totalCount).toBe(0);
    const byFilter = await api.gql(b, `query($p: String) { networks(filter: { projectId: $p }) { totalCount } }`, {
      p: (await api.gql(a, '{ viewer { project { uuid } } }')).viewer.project.uuid,
    });
    expect(byFilter.networks.totalCount).toBe(0);
    const del = await api.gql(b, `mutation($id: String!) { deleteNetwork(input: { id: $id }) { __typename ... on Error { code } } }`, {
      id: net.id,
    });
    expect(del.deleteNetwork.code).toBe('NetworkNotFound');
    const port = await api.gql(b, CREATE_PORT, { input: { networkId: net.id } });
    expect(port.createPort.code).toBe('NetworkNotFound');
    const upd = await api.gql(
      b,
      `mutation($id: String!) { updateNetwork(input: { id: $id, name: "x" }) { __typename ... on Error { code } } }`,
      { id: net.uuid },
    );
    expect(upd.updateNetwork.code).toBe('NetworkNotFound');
    const shared = await network(api.adminToken, 'public', { shared: true });
    expect((await api.gql(b, `query($id: ID!) { node(id: $id) { id } }`, { id: shared.id })).node).not.toBeNull();
    const memberShared = await api.gql(b, CREATE_NETWORK, { input: { name: 'x', shared: true } });
    expect(memberShared.createNetwork.code).toBe('PolicyNotAuthorized');
  });
});
