import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduleDvrPorts } from '../../src/agent/dvr-scheduler.js';
import { createLogger } from '../../src/log.js';
import { buildTopology } from '../../src/projections/topology/index.js';
import { CREATE_NETWORK, CREATE_SUBNET, startTestApi, type TestApi } from '../support/api.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.close());

const SELECT = `__typename ... on UpdateRouterSuccess { router { uuid adminStateUp distributed } }
  ... on RouterMigrationRequiresAdminDown { code message } ... on Error { code message }`;

async function update(input: Record<string, unknown>) {
  const r = await api.gql(api.adminToken, `mutation($i: UpdateRouterInput!) { updateRouter(input: $i) { ${SELECT} } }`, { i: input });
  return r.updateRouter;
}

describe('converting a router between legacy and distributed over GraphQL', () => {
  it('answers RouterMigrationRequiresAdminDown while the router is up, and converts it once it is down', async () => {
    const c = await api.gql(
      api.adminToken,
      'mutation { createRouter(input: { name: "to-dvr" }) { __typename ... on CreateRouterSuccess { router { id distributed } } } }',
    );
    const id = c.createRouter.router.id as string;
    expect(c.createRouter.router.distributed).toBe(false);

    const refused = await update({ id, distributed: true });
    expect(refused).toMatchObject({ __typename: 'RouterMigrationRequiresAdminDown', code: 'RouterMigrationRequiresAdminDown' });
    expect(refused.message).toContain('admin_state_up to False');

    expect(await update({ id, adminStateUp: false })).toMatchObject({ router: { adminStateUp: false, distributed: false } });
    expect(await update({ id, distributed: true })).toMatchObject({ router: { adminStateUp: false, distributed: true } });
    expect(await update({ id, adminStateUp: true })).toMatchObject({ router: { adminStateUp: true, distributed: true } });
    // And back, by the same rule.
    expect(await update({ id, distributed: false })).toMatchObject({ __typename: 'RouterMigrationRequiresAdminDown' });
  });
});

describe("a distributed router's centralized SNAT ports", () => {
  const q = (query: string, variables?: Record<string, unknown>) => api.gql(api.adminToken, query, variables);
  const mutate = async (name: string, input: Record<string, unknown>) => {
    const cap = name.charAt(0).toUpperCase() + name.slice(1);
    const r = await q(`mutation($i: ${cap}Input!) { ${name}(input: $i) { __typename ... on Error { code message } } }`, { i: input });
    expect(r[name].__typename, JSON.stringify(r[name])).toBe(`${cap}Success`);
  };
  const snatPorts = async (routerId: string) => {
    const r = await q(`{ ports(first: 100) { edges { node { uuid deviceOwner deviceId fixedIps { subnetId ipAddress } } } } }`);
    return r.ports.edges
      .map(
        (e: { node: { uuid: string; deviceOwner: string; deviceId: string; fixedIps: { subnetId: string; ipAddress: string }[] } }) =>
          e.node,
      )
      .filter(
        (n: { deviceOwner: string; deviceId: string }) => n.deviceOwner === 'network:router_centralized_snat' && n.deviceId === routerId,
      );
  };
  const schedule = async () => {
    const { records } = await buildTopology(api.services.sql);
    return scheduleDvrPorts(api.services, 'dvr-h1', 'dvr', records.ports, records.routers, records.floatingIps, createLogger('silent'));
  };

  it('are made per subnet while the router has a gateway, and go in the same command as the subnet or the gateway', async () => {
    const ext = await q(CREATE_NETWORK, { input: { name: 'dvr-ext', external: true } });
    const extId = ext.createNetwork.network.uuid as string;
    await q(CREATE_SUBNET, { input: { networkId: extId, ipVersion: 4, cidr: '198.51.100.0/24', enableDhcp: false } });
    const net = await q(CREATE_NETWORK, { input: { name: 'dvr-int' } });
    const netId = net.createNetwork.network.uuid as string;
    const sub = await q(CREATE_SUBNET, { input: { networkId: netId, ipVersion: 4, cidr: '10.88.0.0/24' } });
    const subnetId = sub.createSubnet.subnet.uuid as string;
    const c = await q(
      'mutation { createRouter(input: { name: "dvr-snat", distributed: true }) { ... on CreateRouterSuccess { router { uuid } } } }',
    );
    const routerId = c.createRouter.router.uuid as string;
    await mutate('addRouterInterface', { id: routerId, subnetId });
    // No gateway, no SNAT.
    expect(await schedule()).toBe(0);
    await mutate('setRouterGateway', { id: routerId, networkId: extId });
    expect(await schedule()).toBe(1);
    expect(await schedule()).toBe(0);
    const [sg] = await snatPorts(routerId);
    expect(sg.fixedIps).toHaveLength(1);
    expect(sg.fixedIps[0]).toMatchObject({ subnetId });
    expect(sg.fixedIps[0].ipAddress).not.toBe('10.88.0.1');

    await mutate('removeRouterInterface', { id: routerId, subnetId });
    expect(await snatPorts(routerId)).toEqual([]);
    await mutate('addRouterInterface', { id: routerId, subnetId });
    expect(await schedule()).toBe(1);
    await mutate('clearRouterGateway', { id: routerId });
    expect(await snatPorts(routerId)).toEqual([]);
    await mutate('removeRouterInterface', { id: routerId, subnetId });
    await mutate('deleteSubnet', { id: subnetId });
  });
});
