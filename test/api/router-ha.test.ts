import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/api.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.close());

async function m(token: string, name: string, input: Record<string, unknown>, select = ''): Promise<any> {
  const cap = name.charAt(0).toUpperCase() + name.slice(1);
  const r = await api.gql(
    token,
    `mutation($i: ${cap}Input!) { ${name}(input: $i) { __typename ${select} ... on Error { code message } } }`,
    {
      i: input,
    },
  );
  return r[name];
}

describe('converting a router between HA and legacy', () => {
  it('needs adminStateUp false first (RouterMustBeDisabled), then converts', async () => {
    const admin = await api.token('ha-api', 'admin');
    const created = await m(admin, 'createRouter', { name: 'r' }, '... on CreateRouterSuccess { router { id ha } }');
    const id = created.router.id;
    expect(created.router.ha).toBe(false);

    const refused = await m(admin, 'updateRouter', { id, ha: true });
    expect(refused).toMatchObject({ __typename: 'RouterMustBeDisabled', code: 'RouterMustBeDisabled' });
    expect(refused.message).toContain('adminStateUp to false');

    expect((await m(admin, 'updateRouter', { id, adminStateUp: false })).__typename).toBe('UpdateRouterSuccess');
    const converted = await m(
      admin,
      'updateRouter',
      { id, ha: true },
      '... on UpdateRouterSuccess { router { ha adminStateUp l3Agents { host } haSplitBrain } }',
    );
    expect(converted.router).toEqual({ ha: true, adminStateUp: false, l3Agents: [], haSplitBrain: false });
    const back = await m(admin, 'updateRouter', { id, ha: false }, '... on UpdateRouterSuccess { router { ha } }');
    expect(back.router.ha).toBe(false);
  });
  it('deleting an HA router, or making it legacy, deletes its ha- ports', async () => {
    const admin = await api.token('ha-api', 'admin');
    const net = await m(admin, 'createNetwork', { name: 'ha-ports-net' }, '... on CreateNetworkSuccess { network { uuid } }');
    const networkId = net.network.uuid;
    expect(
      (await m(admin, 'createSubnet', { networkId, ipVersion: 4, cidr: '169.254.192.0/18', enableDhcp: false, gatewayIp: null }))
        .__typename,
    ).toBe('CreateSubnetSuccess');
    // What the agents' HA scheduler does: one ha- port per hosting agent, owned by the router.
    const haPort = async (routerId: string, host: string) => {
      const p = await m(
        admin,
        'createPort',
        { networkId, deviceOwner: 'network:router_ha_interface', deviceId: routerId, bindingHost: host },
        '... on CreatePortSuccess { port { uuid } }',
      );
      return p.port.uuid as string;
    };
    const exists = async (portId: string) =>
      (await api.gql(admin, `query($id: ID!) { node(id: $id) { id } }`, { id: Buffer.from(`Port:${portId}`).toString('base64') })).node !==
      null;

    const deleted = (await m(admin, 'createRouter', { name: 'ha-del', ha: true }, '... on CreateRouterSuccess { router { uuid } }')).router
      .uuid;
    const ports = [await haPort(deleted, 'ha-a'), await haPort(deleted, 'ha-b')];
    expect((await m(admin, 'deleteRouter', { id: deleted })).__typename).toBe('DeleteRouterSuccess');
    for (const p of ports) expect(await exists(p)).toBe(false);

    const legacy = (await m(admin, 'createRouter', { name: 'ha-legacy', ha: true }, '... on CreateRouterSuccess { router { uuid } }'))
      .router.uuid;
    const kept = await haPort(legacy, 'ha-a');
    expect((await m(admin, 'updateRouter', { id: legacy, adminStateUp: false })).__typename).toBe('UpdateRouterSuccess');
    expect(await exists(kept)).toBe(true);
    expect((await m(admin, 'updateRouter', { id: legacy, ha: false })).__typename).toBe('UpdateRouterSuccess');
    expect(await exists(kept)).toBe(false);
  });
});
