import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREATE_NETWORK, CREATE_PORT, CREATE_SUBNET, startTestApi, type TestApi } from '../support/api.js';
import { logSettled } from '../support/db.js';
import { EVENTS_SUBSCRIPTION, sseSubscribe, wsClient, wsSubscribe } from './clients.js';
import { queryEvents } from '../../src/audit/event-query.js';
import type { EventFilter } from '../../src/audit/event-filter.js';
import { startServices, type Running } from '../../src/app/bootstrap.js';
import { createApiServer } from '../../src/api/server.js';
import { followerFor } from '../../src/api/subscriptions/followers.js';
import { reportStatuses } from '../../src/agent/reports.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { encodeCursor } from '../../src/store/cursor.js';
import { visibleHead } from '../../src/audit/log-rows.js';

let api: TestApi;
let tokenA: string;
let projectA: string;

const UPDATE_NETWORK = `mutation($input: UpdateNetworkInput!) { updateNetwork(input: $input) { __typename ... on UpdateNetworkSuccess { cursor } } }`;

beforeAll(async () => {
  api = await startTestApi();
  tokenA = await api.token('subs-a');
  projectA = (await api.gql(tokenA, '{ viewer { project { uuid } } }')).viewer.project.uuid;
  await api.gql(
    api.adminToken,
    `mutation($p: String!) { setQuota(input: { projectId: $p, resource: "network", limit: -1 }) { __typename } }`,
    { p: projectA },
  );
});
afterAll(async () => api?.close());

/** Creates and renames networks at a steady pace until stopped; answers the first cursor. */
function steadyMutations(url: string, token: string, everyMs = 8) {
  let stop = false;
  let count = 0;
  const gql = async (query: string, variables: Record<string, unknown>) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    return ((await res.json()) as any).data;
  };
  const done = (async () => {
    while (!stop) {
      const c = (await gql(CREATE_NETWORK, { input: { name: `n${count}` } })).createNetwork;
      if (c.__typename !== 'CreateNetworkSuccess') throw new Error(c.code);
      await gql(UPDATE_NETWORK, { input: { id: c.network.id, name: `n${count}-renamed` } });
      count += 2;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    stop: async () => {
      stop = true;
      await done;
      return count;
    },
  };
}

/** Every event `token`'s caller may see after `after` matching `filter`, from the database. */
async function expectedIds(token: string, after: string, filter: EventFilter): Promise<string[]> {
  // The log is read up to the oldest transaction still running anywhere in the cluster.
  await logSettled(api.services.sql);
  const viewer = (await api.gql(token, '{ viewer { role project { uuid } } }')).viewer;
  const ids: string[] = [];
  let cursor: string | null = after;
  for (;;) {
    const page = await queryEvents(api.services, { projectId: viewer.project.uuid, isAdmin: viewer.role === 'admin' }, filter, {
      first: 1000,
      after: cursor,
    });
    ids.push(...page.events.map((e) => e.event.id));
    if (!page.hasNextPage) return ids;
    cursor = page.events[page.events.length - 1]!.event.cursor;
  }
}

/**
 * Consumes `open(after)` until `enough` says so, dropping the connection every `dropEvery`
 * events and resuming with the last cursor received.
 */
async function consumeWithDrops(
  open: (after: string) => { messages: AsyncGenerator<any>; close: () => void },
  start: string,
  dropEvery: number,
  enough: (ids: string[]) => boolean,
  progress: { drops: number } = { drops: 0 },
) {
  const ids: string[] = [];
  let cursor = start;
  let current: { close: () => void } | null = null;
  // The last events may all be in before `enough` can say so: close the idle connection then.
  const watch = setInterval(() => enough(ids) && current?.close(), 50);
  try {
    while (!enough(ids)) {
      const conn = open(cursor);
      current = conn;
      let n = 0;
      try {
        for await (const m of conn.messages) {
          const e = m.events;
          if (e.__typename !== 'LogEvent') throw new Error(`cut off: ${JSON.stringify(e)}`);
          ids.push(e.id);
          cursor = e.cursor;
          if (++n >= dropEvery || enough(ids)) break;
        }
      } catch (err) {
        if (!enough(ids)) throw err;
      }
      conn.close();
      progress.drops++;
    }
  } finally {
    clearInterval(watch);
  }
  return { ids, drops: progress.drops };
}

/**
 * Keeps the mutations going until the consumer has been cut off `drops` times, so every test
 * crosses that many reconnects under load however fast the machine is; answers the mutations made.
 */
async function mutateThroughDrops(
  load: { stop: () => Promise<number> },
  progress: { drops: number },
  consumer: Promise<unknown>,
  drops: number,
): Promise<number> {
  // A consumer that fails ends the wait at once, with its error (the test awaits it too).
  const failed = consumer.then(() => new Promise<never>(() => {}));
  failed.catch(() => {});
  try {
    await Promise.race([waitFor(() => progress.drops >= drops, 120_000), failed]);
  } finally {
    await load.stop().catch(() => 0);
  }
  return load.stop();
}

async function waitFor(check: () => boolean | Promise<boolean>, ms = 20_000) {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('events subscription', () => {
  const filter = { resourceTypes: ['network'] };

  it('SSE: resumes across forced disconnects under steady mutations with no gap and no duplicate', async () => {
    const start = (await api.gql(tokenA, CREATE_NETWORK, { input: { name: 'start' } })).createNetwork.cursor as string;
    const load = steadyMutations(api.url, tokenA);
    let expected: string[] | null = null;
    const progress = { drops: 0 };
    const consumer = consumeWithDrops(
      (after) => {
        const ac = new AbortController();
        return { messages: sseSubscribe(api.url, tokenA, EVENTS_SUBSCRIPTION, { after, filter }, ac.signal), close: () => ac.abort() };
      },
      start,
      25,
      (ids) => expected !== null && ids.length >= expected.length,
      progress,
    );
    const made = await mutateThroughDrops(load, progress, consumer, 3);
    expected = await expectedIds(tokenA, start, filter);
    expect(expected.length).toBeGreaterThanOrEqual(made);
    const { ids, drops } = await consumer;
    expect(drops).toBeGreaterThan(2);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expected);
  }, 180_000);

  it('graphql-ws: resumes across forced disconnects under steady mutations with no gap and no duplicate', async () => {
    const start = (await api.gql(tokenA, CREATE_NETWORK, { input: { name: 'start-ws' } })).createNetwork.cursor as string;
    const load = steadyMutations(api.url, tokenA);
    let expected: string[] | null = null;
    const progress = { drops: 0 };
    const consumer = consumeWithDrops(
      (after) => {
        const client = wsClient(api.url, tokenA);
        return { messages: wsSubscribe(client, EVENTS_SUBSCRIPTION, { after, filter }), close: () => void client.terminate() };
      },
      start,
      25,
      (ids) => expected !== null && ids.length >= expected.length,
      progress,
    );
    await mutateThroughDrops(load, progress, consumer, 3);
    expected = await expectedIds(tokenA, start, filter);
    const { ids, drops } = await consumer;
    expect(drops).toBeGreaterThan(2);
    // Apart, so that a failure says which: an event delivered twice, or one the log does not hold.
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    expect(ids).toEqual(expected);
  }, 180_000);

  it('a WebSocket without a valid token is refused', async () => {
    const client = wsClient(api.url, 'nl_not-a-token');
    await expect(
      (async () => {
        for await (const _ of wsSubscribe(client, EVENTS_SUBSCRIPTION, {})) break;
      })(),
    ).rejects.toBeTruthy();
    await client.dispose();
  });

  it("a member never receives another project's events, but sees shared networks", async () => {
    const tokenB = await api.token('subs-b');
    const ac = new AbortController();
    const start = (await api.gql(tokenB, CREATE_NETWORK, { input: { name: 'b-start' } })).createNetwork.cursor as string;
    const got: any[] = [];
    const reading = (async () => {
      for await (const m of sseSubscribe(api.url, tokenB, EVENTS_SUBSCRIPTION, { after: start }, ac.signal)) got.push(m.events);
    })().catch(() => {});
    for (let i = 0; i < 5; i++) await api.gql(tokenA, CREATE_NETWORK, { input: { name: `a-private-${i}` } });
    const shared = (await api.gql(api.adminToken, CREATE_NETWORK, { input: { name: 'shared', shared: true } })).createNetwork.network.uuid;
    const last = (await api.gql(tokenB, CREATE_NETWORK, { input: { name: 'b-last' } })).createNetwork.network.uuid;
    await waitFor(() => got.some((e) => e.streamId === `network-${last}`));
    ac.abort();
    await reading;
    expect(got.some((e) => e.streamId === `network-${shared}`)).toBe(true);
    expect(got.filter((e) => e.projectId === projectA || e.metadata.project === projectA)).toEqual([]);
  });

  it('two server processes on one database deliver the same sequence', async () => {
    const s2: Running = await startServices(
      loadConfig({ ...process.env, DATABASE_URL: api.db.url, LOG_LEVEL: 'warn' }),
      createLogger('warn', { pretty: false }),
      { poolSize: 10 },
    );
    const server2 = createApiServer(s2);
    await new Promise<void>((r) => server2.listen(0, '127.0.0.1', r));
    const url2 = `http://127.0.0.1:${(server2.address() as AddressInfo).port}/graphql`;
    try {
      const start = (await api.gql(tokenA, CREATE_NETWORK, { input: { name: 'two-servers' } })).createNetwork.cursor as string;
      const ac = new AbortController();
      const one: string[] = [];
      const two: string[] = [];
      const client = wsClient(url2, tokenA);
      const r1 = (async () => {
        for await (const m of sseSubscribe(api.url, tokenA, EVENTS_SUBSCRIPTION, { after: start, filter }, ac.signal))
          one.push(m.events.id);
      })().catch(() => {});
      const r2 = (async () => {
        for await (const m of wsSubscribe(client, EVENTS_SUBSCRIPTION, { after: start, filter })) two.push(m.events.id);
      })().catch(() => {});
      // Writers on both servers at once.
      const l1 = steadyMutations(api.url, tokenA, 10);
      const l2 = steadyMutations(url2, tokenA, 10);
      await new Promise((r) => setTimeout(r, 1200));
      await Promise.all([l1.stop(), l2.stop()]);
      const expected = await expectedIds(tokenA, start, filter);
      await waitFor(() => one.length >= expected.length && two.length >= expected.length);
      ac.abort();
      await client.dispose();
      await Promise.all([r1, r2]);
      expect(one).toEqual(expected);
      expect(two).toEqual(expected);
    } finally {
      server2.closeAllConnections();
      await new Promise((r) => server2.close(r));
      await s2.stop();
    }
  });

  it('a consumer that falls too far behind gets a final message with its last cursor', async () => {
    const follower = followerFor(api.services);
    await follower.ready;
    const head = await visibleHead(api.services.sql);
    await waitFor(() => encodeCursor(follower.head) === encodeCursor(head!));
    const feed = follower.feed({ maxBuffer: 5, judge: (e) => (e.event.streamId.startsWith('network-') ? 'deliver' : 'skip') });
    await feed.start();
    const startHead = encodeCursor(follower.head);
    const first = (await api.gql(tokenA, CREATE_NETWORK, { input: { name: 'lag-0' } })).createNetwork.cursor;
    await waitFor(() => encodeCursor(follower.head) === first);
    const m1 = await feed.next();
    expect(m1.value).toMatchObject({ kind: 'event' });
    let last = '';
    for (let i = 1; i <= 12; i++) last = (await api.gql(tokenA, CREATE_NETWORK, { input: { name: `lag-${i}` } })).createNetwork.cursor;
    await waitFor(() => encodeCursor(follower.head) === last);
    const m2 = await feed.next();
    expect(m2.value).toEqual({ kind: 'lagged', cursor: first, buffered: 5 });
    expect((await feed.next()).done).toBe(true);
    expect(startHead).toBeTruthy();
  });

  it('a revoked token ends its subscription', async () => {
    const issued = (
      await api.gql(
        api.adminToken,
        `mutation { createToken(input: { project: "subs-a", role: "member", name: "short-lived" }) { ... on CreateTokenSuccess { token { tokenId secret projectId } } } }`,
      )
    ).createToken.token;
    const ac = new AbortController();
    const got: any[] = [];
    const reading = (async () => {
      for await (const m of sseSubscribe(api.url, issued.secret, EVENTS_SUBSCRIPTION, {}, ac.signal)) got.push(m.events);
    })();
    await new Promise((r) => setTimeout(r, 200));
    await api.gql(
      api.adminToken,
      `mutation($p: String!, $t: String!) { revokeToken(input: { projectId: $p, tokenId: $t }) { __typename } }`,
      { p: issued.projectId, t: issued.tokenId },
    );
    await reading;
    expect(got[got.length - 1]).toMatchObject({ __typename: 'SubscriptionCutOff', reason: 'ENDED' });
  });
});

describe('typed subscriptions', () => {
  it('resourceChanged delivers each change with the state right after it', async () => {
    const created = (await api.gql(tokenA, CREATE_NETWORK, { input: { name: 'watched' } })).createNetwork;
    const net = created.network;
    const ac = new AbortController();
    const got: any[] = [];
    // From the create's cursor: what comes after it, whatever the log horizon is doing.
    const q = `subscription($ids: [String!], $after: String) { resourceChanged(kinds: ["network"], ids: $ids, after: $after) { __typename ... on ResourceChange { cursor kind uuid deleted revision state resource { ... on Network { name } } } } }`;
    const reading = (async () => {
      for await (const m of sseSubscribe(api.url, tokenA, q, { ids: [net.id], after: created.cursor }, ac.signal))
        got.push(m.resourceChanged);
    })().catch(() => {});
    await new Promise((r) => setTimeout(r, 200));
    await api.gql(tokenA, UPDATE_NETWORK, { input: { id: net.id, name: 'watched-2' } });
    await api.gql(tokenA, `mutation($id: String!) { deleteNetwork(input: { id: $id }) { __typename } }`, { id: net.id });
    await waitFor(() => got.length >= 2);
    ac.abort();
    await reading;
    expect(got[0]).toMatchObject({ kind: 'network', uuid: net.uuid, deleted: false, revision: 2, resource: { name: 'watched-2' } });
    expect(got[0].state.name).toBe('watched-2');
    expect(got[1]).toMatchObject({ uuid: net.uuid, deleted: true, resource: null });
  });

  it('resourceChanged filters by every kind the registry knows, firewall kinds included', async () => {
    const ac = new AbortController();
    const got: any[] = [];
    const from = (await api.gql(tokenA, CREATE_NETWORK, { input: { name: 'before-fw' } })).createNetwork.cursor;
    const q = `subscription($after: String) { resourceChanged(kinds: ["firewall_rule"], after: $after) { __typename ... on ResourceChange { kind uuid deleted } } }`;
    const reading = (async () => {
      for await (const m of sseSubscribe(api.url, tokenA, q, { after: from }, ac.signal)) got.push(m.resourceChanged);
    })().catch(() => {});
    await api.gql(tokenA, CREATE_NETWORK, { input: { name: 'not-a-rule' } });
    const created = await api.gql(
      tokenA,
      `mutation { createFirewallRule(input: { name: "r", protocol: "tcp", action: "allow" }) { __typename ... on CreateFirewallRuleSuccess { firewallRule { uuid } } } }`,
    );
    const rule = created.createFirewallRule.firewallRule;
    await waitFor(() => got.length >= 1);
    ac.abort();
    await reading;
    expect(got).toEqual([{ __typename: 'ResourceChange', kind: 'firewall_rule', uuid: rule.uuid, deleted: false }]);
  });

  it('statusChanged reports a port going ACTIVE', async () => {
    const net = (await api.gql(tokenA, CREATE_NETWORK, { input: { name: 'st' } })).createNetwork.network;
    await api.gql(tokenA, CREATE_SUBNET, { input: { networkId: net.id, ipVersion: 4, cidr: '10.77.0.0/24' } });
    const port = (await api.gql(tokenA, CREATE_PORT, { input: { networkId: net.id } })).createPort.port;
    const ac = new AbortController();
    const got: any[] = [];
    const q = `subscription { statusChanged(kinds: ["port"]) { __typename ... on ResourceStatus { cursor kind uuid status } } }`;
    const client = wsClient(api.url, tokenA);
    const reading = (async () => {
      for await (const m of wsSubscribe(client, q, {})) got.push(m.statusChanged);
    })().catch(() => {});
    await new Promise((r) => setTimeout(r, 300));
    await reportStatuses(api.services, 'local', [{ id: port.uuid, status: 'ACTIVE', reason: null }], []);
    await waitFor(() => got.length >= 1);
    await client.dispose();
    ac.abort();
    await reading;
    expect(got[0]).toMatchObject({ kind: 'port', uuid: port.uuid, status: 'ACTIVE' });
  });
});
