import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordApplied } from '../../src/agent/applied.js';
import { markAgentDown, recordHeartbeat, registerAgent, stopAgent } from '../../src/agent/registration.js';
import { applyBindings } from '../../src/agent/reports.js';
import type { CommandOutcome } from '../../src/app/command-runtime.js';
import { decodeCursor } from '../../src/store/cursor.js';
import { CREATE_NETWORK, CREATE_SUBNET, startTestApi, type TestApi } from '../support/api.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.close());

const recorded = (o: CommandOutcome<string>) => (o.ok ? o.events.map((e) => e.type) : [o.error.code]);
const WAIT = `query($c: String!, $t: Int) { waitForApplied(cursor: $c, timeoutMs: $t) { applied timedOut pendingHosts agents { host alive appliedCursor } } }`;

describe('agents and waitForApplied over GraphQL', () => {
  it('answers at once without live agents, waits for every live agent, and ignores stopped ones', async () => {
    const created = await api.gql(api.adminToken, CREATE_NETWORK, { input: { name: 'n1' } });
    const cursor: string = created.createNetwork.cursor;
    expect((await api.gql(api.adminToken, WAIT, { c: cursor, t: 5000 })).waitForApplied).toEqual({
      applied: false,
      timedOut: false,
      pendingHosts: [],
      agents: [],
    });

    const s = api.services;
    const a = randomUUID();
    const b = randomUUID();
    expect((await registerAgent(s, 'host-a', a)).ok).toBe(true);
    expect((await registerAgent(s, 'host-b', b)).ok).toBe(true);
    expect(recorded(await registerAgent(s, 'host-b', b))).toEqual([]); // a retried registration records nothing
    await recordApplied(s.sql, 'host-a', decodeCursor(cursor));
    const behind = (await api.gql(api.adminToken, WAIT, { c: cursor, t: 50 })).waitForApplied;
    expect(behind).toMatchObject({ applied: false, timedOut: true, pendingHosts: ['host-b'] });
    expect(behind.agents).toEqual([
      { host: 'host-a', alive: true, appliedCursor: cursor },
      { host: 'host-b', alive: true, appliedCursor: null },
    ]);

    // host-b catches up while the query waits.
    const waiting = api.gql(api.adminToken, WAIT, { c: cursor, t: 10_000 });
    await new Promise((r) => setTimeout(r, 100));
    await recordApplied(s.sql, 'host-b', decodeCursor(cursor));
    expect((await waiting).waitForApplied).toMatchObject({ applied: true, timedOut: false, pendingHosts: [] });

    // A later change: host-b stops, so only host-a is waited for.
    const later = (await api.gql(api.adminToken, CREATE_NETWORK, { input: { name: 'n2' } })).createNetwork.cursor;
    expect((await stopAgent(s, 'host-b', b)).ok).toBe(true);
    await recordApplied(s.sql, 'host-a', decodeCursor(later));
    expect((await api.gql(api.adminToken, WAIT, { c: later })).waitForApplied).toMatchObject({ applied: true, pendingHosts: [] });

    // Heartbeats report errors at once; a superseded process is refused.
    expect(recorded(await recordHeartbeat(s, 'host-a', a, 'router:x: nft failed'))).toEqual(['AgentHeartbeat']);
    const agents = (await api.gql(api.adminToken, '{ agents { host alive lastError } }')).agents;
    expect(agents).toEqual([
      { host: 'host-a', alive: true, lastError: 'router:x: nft failed' },
      { host: 'host-b', alive: false, lastError: null },
    ]);
    await registerAgent(s, 'host-a', randomUUID());
    const refused = await recordHeartbeat(s, 'host-a', a, null);
    expect(refused.ok ? 'ok' : refused.error.code).toBe('AgentConflict');
  });

  it('keeps agents to admins and rejects a malformed cursor', async () => {
    const member = await api.token('tenant');
    await expect(api.gql(member, '{ agents { host } }')).rejects.toThrow(/admins only/);
    await expect(api.gql(member, WAIT, { c: 'not-a-cursor' })).rejects.toThrow(/not a netledger log cursor/);
  });

  it('lists what each agent hosts, and marks a silent agent down once, in the log and on the agents query', async () => {
    const s = api.services;
    const c = randomUUID();
    const d = randomUUID();
    expect((await registerAgent(s, 'host-c', c)).ok).toBe(true);
    expect((await registerAgent(s, 'host-d', d)).ok).toBe(true);
    const net = await api.gql(api.adminToken, CREATE_NETWORK, { input: { name: 'hosted' } });
    const networkId: string = net.createNetwork.network.uuid;
    await api.gql(api.adminToken, CREATE_SUBNET, { input: { networkId, ipVersion: 4, cidr: '10.77.0.0/24' } });
    const dhcp = await api.gql(
      api.adminToken,
      `query($n: String) { ports(filter: { networkId: $n }, portFilter: { deviceOwner: "network:dhcp" }) { edges { node { uuid revision } } } }`,
      { n: networkId },
    );
    const port = dhcp.ports.edges[0].node;
    expect((await applyBindings(s, 'host-c', [{ portId: port.uuid, revision: port.revision, host: 'host-c' }])).bound).toBe(1);
    const HOSTED = '{ agents { host down dhcpNetworkIds routerIds } }';
    const hosted = (await api.gql(api.adminToken, HOSTED)).agents.filter((a: any) => ['host-c', 'host-d'].includes(a.host));
    expect(hosted).toEqual([
      { host: 'host-c', down: false, dhcpNetworkIds: [networkId], routerIds: [] },
      { host: 'host-d', down: false, dhcpNetworkIds: [], routerIds: [] },
    ]);

    // Heard from within agent_down_time: nothing recorded. Silent past it: marked down, once.
    expect(recorded(await markAgentDown(s, 'host-d', 'host-c', 60_000))).toEqual([]);
    await new Promise((r) => setTimeout(r, 20));
    expect(recorded(await markAgentDown(s, 'host-d', 'host-c', 1))).toEqual(['AgentMarkedDown']);
    expect(recorded(await markAgentDown(s, 'host-d', 'host-c', 1))).toEqual([]);
    const events = await api.gql(
      api.adminToken,
      `{ events(filter: { eventTypes: ["AgentMarkedDown"] }) { edges { node { type data metadata { actor } } } } }`,
    );
    expect(events.events.edges.map((e: any) => e.node)).toEqual([
      { type: 'AgentMarkedDown', data: expect.objectContaining({ by: 'host-d' }), metadata: { actor: 'agent:host-d' } },
    ]);
    const down = (await api.gql(api.adminToken, '{ agents { host alive down } }')).agents.find((a: any) => a.host === 'host-c');
    expect(down).toEqual({ host: 'host-c', alive: false, down: true });
    // Its next heartbeat brings it back.
    expect(recorded(await recordHeartbeat(s, 'host-c', c, null))).toEqual(['AgentHeartbeat']);
    const back = (await api.gql(api.adminToken, '{ agents { host alive down } }')).agents.find((a: any) => a.host === 'host-c');
    expect(back).toEqual({ host: 'host-c', alive: true, down: false });
  });

  it('lets admins disable and enable an agent, with typed errors for members and unknown hosts', async () => {
    const SET = `mutation($i: SetAgentAdminStateInput!) { setAgentAdminState(input: $i) {
      __typename ... on SetAgentAdminStateSuccess { cursor agent { host adminStateUp alive } } ... on Error { code message } } }`;
    expect((await registerAgent(api.services, 'host-e', randomUUID())).ok).toBe(true);
    const member = await api.token('tenant');
    expect((await api.gql(member, SET, { i: { host: 'host-e', adminStateUp: false } })).setAgentAdminState).toMatchObject({
      __typename: 'PolicyNotAuthorized',
      code: 'PolicyNotAuthorized',
    });
    expect((await api.gql(api.adminToken, SET, { i: { host: 'nowhere', adminStateUp: false } })).setAgentAdminState).toMatchObject({
      __typename: 'AgentNotFound',
    });
    const off = (await api.gql(api.adminToken, SET, { i: { host: 'host-e', adminStateUp: false } })).setAgentAdminState;
    expect(off).toMatchObject({ __typename: 'SetAgentAdminStateSuccess', agent: { host: 'host-e', adminStateUp: false, alive: true } });
    expect(off.cursor).toEqual(expect.any(String));
    // Unchanged: nothing recorded, no cursor.
    const again = (await api.gql(api.adminToken, SET, { i: { host: 'host-e', adminStateUp: false } })).setAgentAdminState;
    expect(again).toMatchObject({ __typename: 'SetAgentAdminStateSuccess', cursor: null });
    // A restart of the agent does not undo an admin's choice.
    expect((await registerAgent(api.services, 'host-e', randomUUID())).ok).toBe(true);
    const listed = (await api.gql(api.adminToken, '{ agents { host adminStateUp } }')).agents.find((a: any) => a.host === 'host-e');
    expect(listed).toEqual({ host: 'host-e', adminStateUp: false });
    const on = (await api.gql(api.adminToken, SET, { i: { host: 'host-e', adminStateUp: true } })).setAgentAdminState;
    expect(on.agent).toMatchObject({ adminStateUp: true });
  });
});
