import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/api.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.close());

describe('converting a router between HA and legacy', () => {
  it('needs adminStateUp false first (RouterMustBeDisabled), then converts', async () => {
    const admin = await api.token('ha-api', 'admin');
    const created = await api.mutate(admin, 'createRouter', { name: 'r' }, 'router { id ha }');
    const id = created.router.id;
    expect(created.router.ha).toBe(false);

    const refused = await api.mutate(admin, 'updateRouter', { id, ha: true });
    expect(refused).toMatchObject({ __typename: 'RouterMustBeDisabled', code: 'RouterMustBeDisabled' });
    expect(refused.message).toContain('adminStateUp to false');

    expect((await api.mutate(admin, 'updateRouter', { id, adminStateUp: false })).__typename).toBe('UpdateRouterSuccess');
    const converted = await api.mutate(
      admin,
      'updateRouter',
      { id, ha: true },
      'router { ha adminStateUp l3Agents { host } haSplitBrain }',
    );
    expect(converted.router).toEqual({ ha: true, adminStateUp: false, l3Agents: [], haSplitBrain: false });
    const back = await api.mutate(admin, 'updateRouter', { id, ha: false }, 'router { ha }');
    expect(back.router.ha).toBe(false);
  });
  it('deleting an HA router, or making it legacy, deletes its ha- ports', async () => {
    const admin = await api.token('ha-api', 'admin');
    const net = await api.mutate(admin, 'createNetwork', { name: 'ha-ports-net' }, 'network { uuid }');
    const networkId = net.network.uuid;
    expect(
      (await api.mutate(admin, 'createSubnet', { networkId, ipVersion: 4, cidr: '169.254.192.0/18', enableDhcp: false, gatewayIp: null }))
        .__typename,
    ).toBe('CreateSubnetSuccess');
    // What the agents' HA scheduler does: one ha- port per hosting agent, owned by the router.
    const haPort = async (routerId: string, host: string) => {
      const p = await api.mutate(
        admin,
        'createPort',
        { networkId, deviceOwner: 'network:router_ha_interface', deviceId: routerId, bindingHost: host },
        'port { uuid }',
      );
      return p.port.uuid as string;
    };
    const exists = async (portId: string) =>
      (await api.gql(admin, `query($id: ID!) { node(id: $id) { id } }`, { id: Buffer.from(`Port:${portId}`).toString('base64') })).node !==
      null;

    const deleted = (await api.mutate(admin, 'createRouter', { name: 'ha-del', ha: true }, 'router { uuid }')).router.uuid;
    const ports = [await haPort(deleted, 'ha-a'), await haPort(deleted, 'ha-b')];
    expect((await api.mutate(admin, 'deleteRouter', { id: deleted })).__typename).toBe('DeleteRouterSuccess');
    for (const p of ports) expect(await exists(p)).toBe(false);

    const legacy = (await api.mutate(admin, 'createRouter', { name: 'ha-legacy', ha: true }, 'router { uuid }')).router.uuid;
    const kept = await haPort(legacy, 'ha-a');
    expect((await api.mutate(admin, 'updateRouter', { id: legacy, adminStateUp: false })).__typename).toBe('UpdateRouterSuccess');
    expect(await exists(kept)).toBe(true);
    expect((await api.mutate(admin, 'updateRouter', { id: legacy, ha: false })).__typename).toBe('UpdateRouterSuccess');
    expect(await exists(kept)).toBe(false);
  });
});
