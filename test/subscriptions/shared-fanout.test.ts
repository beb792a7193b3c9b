import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREATE_NETWORK, startTestApi, type TestApi } from '../support/api.js';
import { until } from '../support/until.js';
import { EVENTS_SUBSCRIPTION, sseSubscribe } from './clients.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.close());

describe('subscriptions rendered once per event and class of subscriber', () => {
  it('subscribers of two projects with the same query each get exactly their own events; an admin gets both', async () => {
    const tokens = { a: await api.token('fan-a'), b: await api.token('fan-b'), admin: api.adminToken };
    const start = (await api.gql(tokens.a, CREATE_NETWORK, { input: { name: 'a-start' } })).createNetwork.cursor as string;
    const ac = new AbortController();
    // Three subscribers per class, all with the same query text and variables.
    const subscribers = (['a', 'a', 'a', 'b', 'b', 'b', 'admin', 'admin'] as const).map((who) => ({ who, got: [] as any[] }));
    const reading = subscribers.map((sub) =>
      (async () => {
        for await (const m of sseSubscribe(api.url, tokens[sub.who], EVENTS_SUBSCRIPTION, { after: start }, ac.signal))
          sub.got.push(m.events);
      })().catch(() => {}),
    );
    const made: Record<'a' | 'b', string[]> = { a: [], b: [] };
    for (let i = 0; i < 6; i++) {
      for (const who of ['a', 'b'] as const) {
        made[who].push((await api.gql(tokens[who], CREATE_NETWORK, { input: { name: `${who}-${i}` } })).createNetwork.network.uuid);
      }
    }
    const last = [made.a.at(-1)!, made.b.at(-1)!];
    await until('every subscriber has its last event', () =>
      subscribers.every((s) =>
        s.who === 'a'
          ? s.got.some((e) => e.streamId === `network-${last[0]}`)
          : s.who === 'b'
            ? s.got.some((e) => e.streamId === `network-${last[1]}`)
            : last.every((id) => s.got.some((e) => e.streamId === `network-${id}`)),
      ),
    );
    ac.abort();
    await Promise.all(reading);
    const projects = {
      a: (await api.gql(tokens.a, '{ viewer { project { uuid } } }')).viewer.project.uuid as string,
      b: (await api.gql(tokens.b, '{ viewer { project { uuid } } }')).viewer.project.uuid as string,
    };
    const created = (s: { got: any[] }) => s.got.filter((e) => e.type === 'NetworkCreated').map((e) => e.streamId);
    for (const s of subscribers) {
      if (s.who === 'admin') {
        for (const id of [...made.a, ...made.b]) expect(created(s)).toContain(`network-${id}`);
        continue;
      }
      const other = s.who === 'a' ? 'b' : 'a';
      expect(created(s)).toEqual(made[s.who].map((id) => `network-${id}`));
      expect(s.got.filter((e) => e.projectId === projects[other] || e.metadata?.project === projects[other])).toEqual([]);
      // The same class renders the same payloads.
      expect(s.got).toEqual(subscribers.find((x) => x.who === s.who)!.got);
    }
  });

  it('subscribers of one project share who-sees-what only with the same filter, and a revoked token ends only its own subscription', async () => {
    const member = await api.token('fan-c');
    const issued = (
      await api.gql(
        api.adminToken,
        `mutation { createToken(input: { project: "fan-c", role: "member", name: "fan-c-short" }) { ... on CreateTokenSuccess { token { tokenId secret projectId } } } }`,
      )
    ).createToken.token;
    const doomed = (await api.gql(member, CREATE_NETWORK, { input: { name: 'c-doomed' } })).createNetwork;
    const ac = new AbortController();
    const created = { eventTypes: ['NetworkCreated'] };
    // The first three share one class of verdict (project, admin flag, filter); the fourth has its own filter.
    const subscribers = [
      { token: member, filter: created },
      { token: member, filter: created },
      { token: issued.secret as string, filter: created },
      { token: member, filter: { eventTypes: ['NetworkDeleted'] } },
    ].map((sub) => ({ ...sub, got: [] as any[] }));
    const reading = subscribers.map((sub) =>
      (async () => {
        for await (const m of sseSubscribe(
          api.url,
          sub.token,
          EVENTS_SUBSCRIPTION,
          { after: doomed.cursor, filter: sub.filter },
          ac.signal,
        ))
          sub.got.push(m.events);
      })().catch(() => {}),
    );
    const names = (ids: string[]) => ids.map((id) => `network-${id}`);
    const before: string[] = [];
    for (let i = 0; i < 3; i++)
      before.push((await api.gql(member, CREATE_NETWORK, { input: { name: `c-${i}` } })).createNetwork.network.uuid);
    await api.gql(member, `mutation($id: String!) { deleteNetwork(input: { id: $id }) { __typename } }`, { id: doomed.network.uuid });
    await until("the short-lived token's subscriber has the networks made before its revocation", () =>
      names(before).every((n) => subscribers[2]!.got.some((e) => e.streamId === n)),
    );
    await api.gql(
      api.adminToken,
      `mutation($p: String!, $t: String!) { revokeToken(input: { projectId: $p, tokenId: $t }) { __typename } }`,
      {
        p: issued.projectId,
        t: issued.tokenId,
      },
    );
    await until('the revoked subscription has ended', () => subscribers[2]!.got.at(-1)?.__typename === 'SubscriptionCutOff');
    const after: string[] = [];
    for (let i = 0; i < 2; i++)
      after.push((await api.gql(member, CREATE_NETWORK, { input: { name: `c-late-${i}` } })).createNetwork.network.uuid);
    await until('the others have the networks made after it', () =>
      subscribers.slice(0, 2).every((s) => names(after).every((n) => s.got.some((e) => e.streamId === n))),
    );
    ac.abort();
    await Promise.all(reading);
    for (const s of subscribers.slice(0, 2))
      expect(s.got.map((e) => [e.type, e.streamId])).toEqual(names([...before, ...after]).map((n) => ['NetworkCreated', n]));
    expect(subscribers[2]!.got.slice(0, -1).map((e) => [e.type, e.streamId])).toEqual(names(before).map((n) => ['NetworkCreated', n]));
    expect(subscribers[2]!.got.at(-1)).toMatchObject({ __typename: 'SubscriptionCutOff', reason: 'ENDED' });
    expect(subscribers[3]!.got.map((e) => [e.type, e.streamId])).toEqual([['NetworkDeleted', `network-${doomed.network.uuid}`]]);
  });
});
