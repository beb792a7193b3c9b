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
});
