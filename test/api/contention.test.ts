import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREATE_NETWORK, CREATE_PORT, CREATE_SUBNET, startTestApi, type TestApi } from '../support/api.js';

/** Runs `n` operations from `concurrency` workers. */
async function pool<T>(n: number, concurrency: number, op: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) out[i] = await op(i);
    }),
  );
  return out;
}

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ NETLEDGER_VXLAN_RANGE: '100:100000' });
});
afterAll(async () => api?.close());

describe('creates under contention (HTTP, real PostgreSQL)', () => {
  it('120 createNetwork at concurrency 8: none fails, every segment id distinct and in range', async () => {
    const t = await api.token('contention-nets');
    await api.gql(
      api.adminToken,
      `mutation($p: String!) { setQuota(input: { projectId: $p, resource: "network", limit: -1 }) { __typename } }`,
      { p: (await api.gql(t, '{ viewer { project { uuid } } }')).viewer.project.uuid },
    );
    const out = await pool(120, 8, (i) => api.gql(t, CREATE_NETWORK, { input: { name: `n${i}` } }));
    const failed = out.map((r) => r.createNetwork).filter((r) => r.__typename !== 'CreateNetworkSuccess');
    expect(failed).toEqual([]);
    const ids = out.map((r) => r.createNetwork.network.providerSegmentationId as number);
    expect(new Set(ids).size).toBe(120);
    for (const id of ids) expect(id).toBeGreaterThanOrEqual(100);
    // Drawn among the lowest free ids, as Neutron does, not anywhere in the range.
    for (const id of ids) expect(id).toBeLessThan(100 + 120 + 100);
  });

  it('createPort at concurrency 8 in a /16 never hands out one address twice', async () => {
    const t = await api.token('contention-ports');
    await api.gql(
      api.adminToken,
      `mutation($p: String!) { setQuota(input: { projectId: $p, resource: "port", limit: -1 }) { __typename } }`,
      { p: (await api.gql(t, '{ viewer { project { uuid } } }')).viewer.project.uuid },
    );
    const net = (await api.gql(t, CREATE_NETWORK, { input: { name: 'wide' } })).createNetwork.network;
    await api.gql(t, CREATE_SUBNET, { input: { networkId: net.id, ipVersion: 4, cidr: '10.77.0.0/16' } });
    const out = await pool(160, 8, (i) => api.gql(t, CREATE_PORT, { input: { networkId: net.id, name: `p${i}` } }));
    const failed = out.map((r) => r.createPort).filter((r) => r.__typename !== 'CreatePortSuccess');
    expect(failed).toEqual([]);
    const ips = out.map((r) => r.createPort.port.fixedIps[0].ipAddress as string);
    expect(new Set(ips).size).toBe(160);
    const [row] = await api.services.sql<{ n: number; distinct: number }[]>`
      select count(*)::int as n, count(distinct ip_address)::int as distinct from rm_ip_allocations where network_id = ${net.uuid}`;
    expect(row).toEqual({ n: 161, distinct: 161 }); // and the DHCP port's
    // Usage is counted from the read model, unlimited or not (the DHCP port is the network's project's too).
    const quotas = (await api.gql(t, '{ viewer { project { quotas { resource limit used } } } }')).viewer.project.quotas;
    expect(quotas.find((q: { resource: string }) => q.resource === 'port')).toEqual({ resource: 'port', limit: -1, used: 161 });
  });

  it('a /27 filled by concurrent creates: every pool address once, then IpAddressGenerationFailure', async () => {
    const t = await api.token('contention-small');
    const net = (await api.gql(t, CREATE_NETWORK, { input: { name: 'small' } })).createNetwork.network;
    await api.gql(t, CREATE_SUBNET, { input: { networkId: net.id, ipVersion: 4, cidr: '10.78.0.0/27' } });
    // 29 pool addresses (.2-.30), one taken by the DHCP port.
    const out = await pool(32, 8, (i) => api.gql(t, CREATE_PORT, { input: { networkId: net.id, name: `s${i}` } }));
    const ok = out.map((r) => r.createPort).filter((r) => r.__typename === 'CreatePortSuccess');
    const codes = out
      .map((r) => r.createPort)
      .filter((r) => r.__typename !== 'CreatePortSuccess')
      .map((r) => r.code);
    expect(ok).toHaveLength(28);
    expect(codes).toEqual([
      'IpAddressGenerationFailure',
      'IpAddressGenerationFailure',
      'IpAddressGenerationFailure',
      'IpAddressGenerationFailure',
    ]);
    expect(new Set(ok.map((r) => r.port.fixedIps[0].ipAddress)).size).toBe(28);
  });
});

describe('a VXLAN range of three ids', () => {
  let small: TestApi;
  beforeAll(async () => {
    small = await startTestApi({ NETLEDGER_VXLAN_RANGE: '5:7' });
  });
  afterAll(async () => small?.close());

  it('hands each id out once to concurrent creates, then answers NoNetworkAvailable', async () => {
    const t = await small.token('vni-small');
    const out = await pool(5, 5, (i) => small.gql(t, CREATE_NETWORK, { input: { name: `v${i}` } }));
    const ids = out
      .map((r) => r.createNetwork)
      .filter((r) => r.__typename === 'CreateNetworkSuccess')
      .map((r) => r.network.providerSegmentationId);
    expect(ids.sort()).toEqual([5, 6, 7]);
    expect(out.map((r) => r.createNetwork.code).filter(Boolean)).toEqual(['NoNetworkAvailable', 'NoNetworkAvailable']);
  });
});
