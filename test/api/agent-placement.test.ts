import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAgent } from '../../src/agent/registration.js';
import { CREATE_NETWORK, CREATE_SUBNET, startTestApi, type TestApi } from '../support/api.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.close());

async function portsOf(token: string, deviceId: string) {
  const r = await api.gql(token, `query($d: String) { ports(portFilter: { deviceId: $d }) { edges { node { uuid bindingHost } } } }`, {
    d: deviceId,
  });
  return r.ports.edges.map((e: { node: { uuid: string; bindingHost: string } }) => e.node) as { uuid: string; bindingHost: string }[];
}

describe('placing routers and DHCP on agents (admin)', () => {
  it("moves a legacy router's ports and a network's DHCP port to a live agent, with the reason in their history", async () => {
    const admin = await api.token('placement', 'admin');
    for (const host of ['place-a', 'place-b']) expect((await registerAgent(api.services, host, randomUUID())).ok).toBe(true);
    const net = (await api.gql(admin, CREATE_NETWORK, { input: { name: 'placed' } })).createNetwork.network.uuid as string;
    const subnet = (await api.gql(admin, CREATE_SUBNET, { input: { networkId: net, ipVersion: 4, cidr: '10.88.0.0/24' } })).createSubnet
      .subnet.uuid as string;
    const router = (await api.mutate(admin, 'createRouter', { name: 'placed' }, 'router { uuid }')).router.uuid as string;
    expect((await api.mutate(admin, 'addRouterInterface', { id: router, subnetId: subnet })).__typename).toBe('AddRouterInterfaceSuccess');

    const moved = await api.mutate(admin, 'moveRouterToAgent', { routerId: router, host: 'place-a' }, 'agent { host routerIds }');
    expect(moved.agent).toEqual({ host: 'place-a', routerIds: [router] });
    const routerPorts = await portsOf(admin, router);
    expect(routerPorts.length).toBe(1);
    expect(routerPorts.every((p) => p.bindingHost === 'place-a')).toBe(true);

    const dhcp = await api.mutate(admin, 'moveNetworkDhcpToAgent', { networkId: net, host: 'place-b' }, 'agent { host dhcpNetworkIds }');
    expect(dhcp.agent).toEqual({ host: 'place-b', dhcpNetworkIds: [net] });
    const [reason] = await api.services.sql<{ reason: string }[]>`
      select metadata->>'reason' as reason from nl_events where stream_id = ${`port-${routerPorts[0]!.uuid}`} order by global_position desc limit 1`;
    expect(reason?.reason).toBe('placed on agent place-a by an admin');

    // Moving it back and forth is the admin's choice; nothing else changes.
    expect((await api.mutate(admin, 'moveRouterToAgent', { routerId: router, host: 'place-b' })).__typename).toBe(
      'MoveRouterToAgentSuccess',
    );
    expect((await portsOf(admin, router)).map((p) => p.bindingHost)).toEqual(['place-b']);
  });

  it('refuses members, unknown and disabled agents, unknown routers and HA routers, changing nothing', async () => {
    const admin = await api.token('placement', 'admin');
    const member = await api.token('placement-member');
    expect((await registerAgent(api.services, 'place-c', randomUUID())).ok).toBe(true);
    const router = (await api.mutate(admin, 'createRouter', { name: 'kept' }, 'router { uuid }')).router.uuid as string;
    expect((await api.mutate(member, 'moveRouterToAgent', { routerId: router, host: 'place-c' })).code).toBe('PolicyNotAuthorized');
    expect((await api.mutate(admin, 'moveRouterToAgent', { routerId: router, host: 'nowhere' })).code).toBe('AgentNotFound');
    expect((await api.mutate(admin, 'moveRouterToAgent', { routerId: randomUUID(), host: 'place-c' })).code).toBe('RouterNotFound');
    expect((await api.mutate(admin, 'moveNetworkDhcpToAgent', { networkId: 'garbage', host: 'place-c' })).code).toBe('NetworkNotFound');
    const ha = (await api.mutate(admin, 'createRouter', { name: 'ha', ha: true }, 'router { uuid }')).router.uuid as string;
    expect((await api.mutate(admin, 'moveRouterToAgent', { routerId: ha, host: 'place-c' })).code).toBe('BadRequest');
    expect((await api.mutate(admin, 'setAgentAdminState', { host: 'place-c', adminStateUp: false })).__typename).toBe(
      'SetAgentAdminStateSuccess',
    );
    const disabled = await api.mutate(admin, 'moveRouterToAgent', { routerId: router, host: 'place-c' });
    expect(disabled.code).toBe('BadRequest');
    expect(disabled.message).toContain('disabled');
  });
});
