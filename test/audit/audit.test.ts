import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREATE_NETWORK, CREATE_PORT, CREATE_SUBNET, startTestApi, type TestApi } from '../support/api.js';
import { createTestDatabase, logSettled } from '../support/db.js';
import { verifyChain } from '../../src/audit/chain.js';
import { exportLog, importLog, ImportError } from '../../src/audit/log-export.js';
import { readModelChecksum } from '../../src/projections/rebuild.js';
import { rebuildReadModel } from '../../src/app/rebuild.js';
import { startServices } from '../../src/app/bootstrap.js';
import { eventRegistry } from '../../src/app/registry.js';
import { loadConfig } from '../../src/config.js';
import { replayPlan } from '../../src/audit/replay.js';
import { parseAsOf } from '../../src/audit/history.js';
import { createLogger } from '../../src/log.js';

let api: TestApi;
let member: string;

const UPDATE_NETWORK = `mutation($input: UpdateNetworkInput!) { updateNetwork(input: $input) { __typename ... on UpdateNetworkSuccess { cursor network { uuid name revision } } } }`;

async function exportText(url: string): Promise<string> {
  const s = await startServices(
    loadConfig({ ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' }),
    createLogger('warn', { pretty: false }),
    { poolSize: 4 },
  );
  try {
    let out = '';
    await exportLog(s.sql, (c) => void (out += c));
    return out;
  } finally {
    await s.stop();
  }
}

beforeAll(async () => {
  api = await startTestApi();
  member = await api.token('audit-a');
});
afterAll(async () => api?.close());

describe('audit log', () => {
  let netId = '';
  const cursors: string[] = [];
  const docs: unknown[] = [];

  it('records who, which request and correlation with every event, and filters on them', async () => {
    const res = await fetch(api.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${member}`, 'x-correlation-id': 'corr-audit-1' },
      body: JSON.stringify({ query: CREATE_NETWORK, variables: { input: { name: 'a' } } }),
    });
    const created = ((await res.json()) as any).data.createNetwork;
    expect(created.__typename).toBe('CreateNetworkSuccess');
    netId = created.network.uuid;
    cursors.push(created.cursor);
    docs.push((await api.services.sql`select doc from rm_resources where id = ${netId}`)[0]!.doc);
    for (const name of ['b', 'c']) {
      const u = (await api.gql(member, UPDATE_NETWORK, { input: { id: netId, name } })).updateNetwork;
      cursors.push(u.cursor);
      docs.push((await api.services.sql`select doc from rm_resources where id = ${netId}`)[0]!.doc);
      await new Promise((r) => setTimeout(r, 15));
    }
    // The log is read up to the oldest transaction still running anywhere in the cluster.
    await logSettled(api.services.sql);
    const q = `query($f: EventFilter) { events(first: 50, filter: $f) { edges { cursor node { id type streamVersion resourceId projectId recordedAt
      metadata { actor tokenName project requestId correlationId } } } pageInfo { hasNextPage endCursor } } }`;
    const byCorr = (await api.gql(member, q, { f: { correlationId: 'corr-audit-1' } })).events.edges;
    expect(byCorr.map((e: any) => e.node.type)).toEqual(['NetworkCreated']);
    const m = byCorr[0].node.metadata;
    expect(m.correlationId).toBe('corr-audit-1');
    expect(m.tokenName).toMatch(/^member-/);
    expect(m.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const byResource = (await api.gql(member, q, { f: { resourceId: netId } })).events.edges;
    expect(byResource.map((e: any) => [e.node.type, e.node.streamVersion])).toEqual([
      ['NetworkCreated', 1],
      ['NetworkUpdated', 2],
      ['NetworkUpdated', 3],
    ]);
    const byActor = (await api.gql(member, q, { f: { actor: m.tokenName, eventTypes: ['NetworkUpdated'] } })).events.edges;
    expect(byActor).toHaveLength(2);
    const t1 = byResource[1].node.recordedAt;
    const byTime = (await api.gql(member, q, { f: { resourceId: netId, from: t1 } })).events.edges;
    expect(byTime.map((e: any) => e.node.streamVersion)).toEqual([2, 3]);
    // Paging with the log cursor.
    const page1 = (
      await api.gql(
        member,
        `query($f: EventFilter) { events(first: 2, filter: $f) { edges { cursor } pageInfo { hasNextPage endCursor } } }`,
        { f: { resourceId: netId } },
      )
    ).events;
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = (
      await api.gql(
        member,
        `query($f: EventFilter, $a: String) { events(first: 2, after: $a, filter: $f) { edges { node { streamVersion } } } }`,
        { f: { resourceId: netId }, a: page1.pageInfo.endCursor },
      )
    ).events;
    expect(page2.edges.map((e: any) => e.node.streamVersion)).toEqual([3]);
    // Another project sees none of it.
    const other = await api.token('audit-b');
    expect((await api.gql(other, q, { f: { resourceId: netId } })).events.edges).toHaveLength(0);
  });

  it('history(id) lists changes in order with a readable summary', async () => {
    const h = (
      await api.gql(
        member,
        `query($id: ID!) { history(id: $id) { kind streamId entries { revision eventType summary changes { field from to } metadata { tokenName } } } }`,
        { id: netId },
      )
    ).history;
    expect(h.kind).toBe('network');
    expect(h.entries.map((e: any) => e.summary)).toEqual(['created network a', 'name: a → b', 'name: b → c']);
    expect(h.entries[1].changes).toEqual([{ field: 'name', from: 'a', to: 'b' }]);
    const other = await api.token('audit-b');
    expect((await api.gql(other, `query($id: ID!) { history(id: $id) { kind } }`, { id: netId })).history).toBeNull();
  });

  it('resourceAsOf answers the state at that cursor or time, exactly as the read model had it', async () => {
    const q = `query($id: ID!, $at: String!) { resourceAsOf(id: $id, asOf: $at) { exists revision state resource { ... on Network { name revision } } } }`;
    await logSettled(api.services.sql);
    for (let i = 0; i < cursors.length; i++) {
      const r = (await api.gql(member, q, { id: netId, at: cursors[i] })).resourceAsOf;
      expect(r.exists).toBe(true);
      expect(r.revision).toBe(i + 1);
      expect(r.state).toEqual(docs[i]);
      expect(r.resource).toEqual({ name: ['a', 'b', 'c'][i], revision: i + 1 });
    }
    const events = (
      await api.gql(member, `query($f: EventFilter) { events(filter: $f) { edges { node { recordedAt } } } }`, { f: { resourceId: netId } })
    ).events.edges;
    const atTime = (await api.gql(member, q, { id: netId, at: events[1].node.recordedAt })).resourceAsOf;
    expect(atTime.state).toEqual(docs[1]);
    const before = (await api.gql(member, q, { id: netId, at: '2000-01-01T00:00:00Z' })).resourceAsOf;
    expect(before.exists).toBe(false);
  });

  it('a rebuild of the read model from the log gives the same checksum, and the same indexes', async () => {
    const indexes = () =>
      api.services.sql`select tablename, indexname, indexdef from pg_indexes
        where schemaname = current_schema() and tablename like 'rm\\_%' order by indexname`;
    const before = await readModelChecksum(api.services.sql);
    const indexesBefore = await indexes();
    const n = await rebuildReadModel(api.services);
    expect(n).toBeGreaterThan(5);
    expect((await readModelChecksum(api.services.sql)).digest).toBe(before.digest);
    // rm_resources gets its secondary indexes after the replay: all of them, under their names.
    expect(indexesBefore.some((i) => i.indexname === 'rm_resources_tags')).toBe(true);
    expect(await indexes()).toEqual(indexesBefore);
  });

  it('export → import into an empty database → export again is byte-identical, with the same read model', async () => {
    const first = await exportText(api.db.url);
    expect(first.split('\n').filter(Boolean).length).toBeGreaterThan(5);
    const other = await createTestDatabase();
    try {
      const s = await startServices(
        loadConfig({ ...process.env, DATABASE_URL: other.url, LOG_LEVEL: 'warn' }),
        createLogger('warn', { pretty: false }),
        { poolSize: 4 },
      );
      try {
        const n = await importLog(s.sql, Readable.from([first]), { knownTypes: (t) => s.store.registry.has(t), batch: 3 });
        expect(n).toBe(first.split('\n').filter(Boolean).length);
        await rebuildReadModel(s);
        expect((await readModelChecksum(s.sql)).digest).toBe((await readModelChecksum(api.services.sql)).digest);
        expect((await verifyChain(s.sql)).firstBroken).toBeNull();
        await expect(importLog(s.sql, Readable.from([first]))).rejects.toThrow(/empty log/);
      } finally {
        await s.stop();
      }
      expect(await exportText(other.url)).toBe(first);
    } finally {
      await other.drop();
    }
  });

  it('an import whose content was changed is refused, naming the event', async () => {
    const text = await exportText(api.db.url);
    const lines = text.split('\n').filter(Boolean);
    const victim = JSON.parse(lines[3]!) as { eventId: string };
    lines[3] = lines[3]!.replace(/"createdAt": "[^"]+"|"name": "[^"]*"/, (m) => m.replace(/"([^"]*)"$/, '"tampered"'));
    expect(lines[3]).not.toBe(text.split('\n')[3]);
    const other = await createTestDatabase();
    try {
      const err = await importLog(other.sql, Readable.from([lines.join('\n')])).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ImportError);
      expect((err as ImportError).eventId).toBe(victim.eventId);
      const [n] = await other.sql`select count(*)::int as n from nl_events`;
      expect(n!.n).toBe(0);
    } finally {
      await other.drop();
    }
  });

  it('an import whose data does not hold for its schema is refused before it commits (a rebuild takes stored data as validated)', async () => {
    const text = await exportText(api.db.url);
    const lines = text.split('\n').filter(Boolean);
    const at = lines.findIndex((l) => (JSON.parse(l) as { type: string }).type === 'NetworkCreated');
    const victim = JSON.parse(lines[at]!) as { eventId: string };
    // The hashes are not what stops it: the data is checked in the import's first pass, before them.
    lines[at] = lines[at]!.replace(/"mtu": [0-9]+/, '"mtu": "big"');
    expect(lines[at]).not.toBe(text.split('\n')[at]);
    const registry = eventRegistry();
    const other = await createTestDatabase();
    try {
      const err = await importLog(other.sql, Readable.from([lines.join('\n')]), {
        validate: (t, v, d) => void registry.decode(t, v, d),
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ImportError);
      expect((err as ImportError).eventId).toBe(victim.eventId);
      expect((err as ImportError).message).toMatch(/NetworkCreated/);
      const [n] = await other.sql`select count(*)::int as n from nl_events`;
      expect(n!.n).toBe(0);
    } finally {
      await other.drop();
    }
  });

  it('replay --plan: the desired host state at a cursor and the actions that build it on an empty host', async () => {
    const admin = api.adminToken;
    const net = (await api.gql(admin, CREATE_NETWORK, { input: { name: 'replay' } })).createNetwork.network;
    await api.gql(admin, CREATE_SUBNET, { input: { networkId: net.id, ipVersion: 4, cidr: '10.88.0.0/24' } });
    await logSettled(api.services.sql);
    const before = (await api.gql(admin, `{ events(last: 1) { edges { cursor } } }`)).events.edges[0].cursor;
    const port = (
      await api.gql(admin, CREATE_PORT, {
        input: { networkId: net.id, bindingHost: 'replay-host', deviceOwner: 'compute:nova', deviceId: 'vm-1' },
      })
    ).createPort;
    expect(port.__typename).toBe('CreatePortSuccess');
    const plan = await replayPlan(api.services, parseAsOf(port.cursor)!, 'replay-host');
    expect(plan.hostState.networks.map((n) => n.networkId)).toEqual([net.uuid]);
    const keys = plan.steps.map((s) => `${s.key}/${s.driver}`);
    expect(keys).toContain('host/links');
    expect(keys).toContain(`network:${net.uuid}/links`);
    const earlier = await replayPlan(api.services, parseAsOf(before)!, 'replay-host');
    expect(earlier.hostState.networks).toHaveLength(0);
  });

  it('audit verify passes on an intact log and names a hand-modified event', async () => {
    // The owner tampers: the server's own role cannot lift the append-only trigger.
    const sql = api.db.sql;
    const ok = await verifyChain(sql);
    expect(ok.firstBroken).toBeNull();
    expect(ok.events).toBeGreaterThan(5);
    const [victim] = await sql<
      { event_id: string }[]
    >`select event_id from nl_events where stream_id = ${`network-${netId}`} and stream_version = 2`;
    await sql.begin(async (tx) => {
      await tx`alter table nl_events disable trigger nl_events_no_update`;
      await tx`update nl_events set data = jsonb_set(data, '{changes,name}', '"evil"') where event_id = ${victim!.event_id}`;
      await tx`alter table nl_events enable trigger nl_events_no_update`;
    });
    const broken = await verifyChain(sql);
    expect(broken.firstBroken?.eventId).toBe(victim!.event_id);
    expect(broken.firstBroken?.problem).toMatch(/content does not match/);
  });
});
