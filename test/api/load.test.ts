import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inlineProjections } from '../../src/app/bootstrap.js';
import { AggregateProjection } from '../../src/projections/aggregate-projection.js';
import { readModelChecksum, rebuildProjections } from '../../src/projections/rebuild.js';
import { aggregateKinds } from '../../src/app/registry.js';
import { CREATE_NETWORK, CREATE_PORT, CREATE_SUBNET, startTestApi, type TestApi } from '../support/api.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.close());

describe('correctness under load (HTTP, real PostgreSQL)', () => {
  it('200 concurrent createPort on one /24: distinct addresses, distinct MACs, nothing lost, read model equals a rebuild', async () => {
    const t = await api.token('load');
    const net = (await api.gql(t, CREATE_NETWORK, { input: { name: 'load' } })).createNetwork.network;
    await api.gql(t, CREATE_SUBNET, { input: { networkId: net.id, ipVersion: 4, cidr: '10.20.0.0/24' } });
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => api.gql(t, CREATE_PORT, { input: { networkId: net.id, name: `p${i}` } })),
    );
    const ok = results.map((r) => r.createPort).filter((r) => r.__typename === 'CreatePortSuccess');
    const failed = results.map((r) => r.createPort).filter((r) => r.__typename !== 'CreatePortSuccess');
    expect(failed).toEqual([]);
    expect(ok).toHaveLength(200);
    const ips = ok.map((r) => r.port.fixedIps[0].ipAddress);
    expect(new Set(ips).size).toBe(200);
    for (const ip of ips) {
      const last = Number(ip.split('.')[3]);
      expect(ip.startsWith('10.20.0.')).toBe(true);
      expect(last).toBeGreaterThanOrEqual(3); // .1 is the gateway, .2 the DHCP port
      expect(last).toBeLessThanOrEqual(254);
    }
    expect(new Set(ok.map((r) => r.port.macAddress)).size).toBe(200);

    // Every answer has its event, exactly once.
    const [events] = await api.services.sql<{ n: bigint }[]>`select count(*) as n from nl_events where event_type = 'PortCreated'`;
    expect(Number(events!.n)).toBe(201);
    const listed = await api.gql(t, `query($n: String) { ports(filter: { networkId: $n }, first: 1000) { totalCount } }`, { n: net.uuid });
    expect(listed.ports.totalCount).toBe(201);

    const before = await readModelChecksum(api.services.sql);
    const replayed = await rebuildProjections(
      api.db.sql,
      api.services.store,
      inlineProjections(new AggregateProjection(aggregateKinds(), { replaying: true })),
    );
    expect(replayed).toBeGreaterThan(200);
    const after = await readModelChecksum(api.services.sql);
    expect(after.tables).toEqual(before.tables);
    expect(after.digest).toBe(before.digest);
  });

  it('50 concurrent creates against a quota of 10: exactly 10 succeed, the rest are OverQuota', async () => {
    const t = await api.token('quota');
    const projectId = (await api.gql(t, '{ viewer { project { uuid } } }')).viewer.project.uuid;
    const set = await api.gql(
      api.adminToken,
      `mutation($p: String!) { setQuota(input: { projectId: $p, resource: "network", limit: 10 }) { __typename } }`,
      { p: projectId },
    );
    expect(set.setQuota.__typename).toBe('SetQuotaSuccess');
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => api.gql(t, CREATE_NETWORK, { input: { name: `q${i}` } })));
    const kinds = results.map((r) => (r.createNetwork.__typename === 'CreateNetworkSuccess' ? 'ok' : r.createNetwork.code));
    expect(kinds.filter((k) => k === 'ok')).toHaveLength(10);
    expect(kinds.filter((k) => k === 'OverQuota')).toHaveLength(40);
    const listed = await api.gql(t, `{ networks { totalCount } }`);
    expect(listed.networks.totalCount).toBe(10);
    const quota = await api.gql(t, `{ viewer { project { quotas { resource limit used } } } }`);
    expect(quota.viewer.project.quotas.find((q: { resource: string }) => q.resource === 'network')).toEqual({
      resource: 'network',
      limit: 10,
      used: 10,
    });
  });

  it('a project past a lowered limit may still update and delete, but not create', async () => {
    const t = await api.token('quota-lowered');
    const projectId = (await api.gql(t, '{ viewer { project { uuid } } }')).viewer.project.uuid;
    const nets = [];
    for (const name of ['a', 'b', 'c']) nets.push((await api.gql(t, CREATE_NETWORK, { input: { name } })).createNetwork.network);
    const set = await api.gql(
      api.adminToken,
      `mutation($p: String!) { setQuota(input: { projectId: $p, resource: "network", limit: 1 }) { __typename } }`,
      { p: projectId },
    );
    expect(set.setQuota.__typename).toBe('SetQuotaSuccess');
    const upd = await api.gql(t, `mutation($i: UpdateNetworkInput!) { updateNetwork(input: $i) { __typename } }`, {
      i: { id: nets[0].id, name: 'renamed' },
    });
    expect(upd.updateNetwork.__typename).toBe('UpdateNetworkSuccess');
    const del = await api.gql(t, `mutation($id: String!) { deleteNetwork(input: { id: $id }) { __typename } }`, { id: nets[1].id });
    expect(del.deleteNetwork.__typename).toBe('DeleteNetworkSuccess');
    expect((await api.gql(t, CREATE_NETWORK, { input: { name: 'd' } })).createNetwork.code).toBe('OverQuota');
    const quota = await api.gql(t, `{ viewer { project { quotas { resource limit used } } } }`);
    expect(quota.viewer.project.quotas.find((q: { resource: string }) => q.resource === 'network')).toEqual({
      resource: 'network',
      limit: 1,
      used: 2,
    });
  });
});
