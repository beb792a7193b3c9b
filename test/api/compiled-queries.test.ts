import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from '../../src/api/context.js';
import { schema } from '../../src/api/schema/index.js';
import { authenticate } from '../../src/app/tenancy.js';
import { CREATE_NETWORK, CREATE_SUBNET, startTestApi, type TestApi } from '../support/api.js';

/**
 * The server runs queries compiled (src/api/compiled-queries.ts). Each query here is answered over
 * HTTP by the server and, for the same caller, by graphql's own executor: the data and the errors
 * (message, path, code) must be the same, visibility between projects included.
 */

// graphql as Node loads it for Pothos and the server (CommonJS): vite would hand this file the ES
// build, a second instance that refuses the schema.
const { execute, parse } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.close());

interface Answer {
  data?: unknown;
  errors?: { message: string; path?: readonly (string | number)[]; extensions?: { code?: unknown } }[];
}

async function overHttp(token: string, query: string, variables: Record<string, unknown>): Promise<Answer> {
  const res = await fetch(api.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as Answer;
}

async function generic(token: string, query: string, variables: Record<string, unknown>): Promise<Answer> {
  const caller = (await authenticate(api.services.sql, token))!;
  const contextValue: Context = {
    services: api.services,
    caller,
    requestId: 't',
    correlationId: 't',
    log: api.services.log,
    memo: new Map(),
  };
  const r = await execute({ schema: schema(), document: parse(query), variableValues: variables, contextValue });
  return JSON.parse(JSON.stringify(r)) as Answer;
}

const errorsOf = (a: Answer) => (a.errors ?? []).map((e) => ({ message: e.message, path: e.path, code: e.extensions?.code }));

async function same(token: string, query: string, variables: Record<string, unknown> = {}): Promise<Answer> {
  const [h, g] = [await overHttp(token, query, variables), await generic(token, query, variables)];
  expect(h.data).toEqual(g.data);
  expect(errorsOf(h)).toEqual(errorsOf(g));
  return h;
}

const PORTS = `query($n: String, $first: Int, $after: String, $withIps: Boolean!, $noMac: Boolean!) {
  ports(filter: { networkId: $n }, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { __typename id uuid projectId name ...Addr status deviceOwner revision createdAt
      fixedIps @include(if: $withIps) { subnetId ipAddress } } }
  }
}
fragment Addr on Port { mac: macAddress @skip(if: $noMac) networkId }`;

describe('compiled queries answer as the generic executor does', () => {
  let alice: string;
  let bob: string;
  let aliceNet: { id: string; uuid: string };
  let shared: { id: string; uuid: string };
  let bobPrivate: { id: string; uuid: string };
  const alicePorts: string[] = [];
  let bobPort: string;

  const network = async (token: string, name: string, cidr: string, isShared = false) => {
    const n = (await api.gql(token, CREATE_NETWORK, { input: { name, shared: isShared } })).createNetwork;
    expect(n.__typename, JSON.stringify(n)).toBe('CreateNetworkSuccess');
    const s = (await api.gql(token, CREATE_SUBNET, { input: { networkId: n.network.id, ipVersion: 4, cidr } })).createSubnet;
    expect(s.__typename, JSON.stringify(s)).toBe('CreateSubnetSuccess');
    return n.network as { id: string; uuid: string };
  };
  const port = async (token: string, networkId: string, name: string) => {
    const p = await api.mutate(token, 'createPort', { networkId, name }, 'port { id }');
    expect(p.__typename, JSON.stringify(p)).toBe('CreatePortSuccess');
    return p.port.id as string;
  };

  beforeAll(async () => {
    alice = await api.token('jit-alice');
    bob = await api.token('jit-bob');
    aliceNet = await network(alice, 'alice-net', '10.31.0.0/24');
    for (const name of ['a1', 'a2', 'a3']) alicePorts.push(await port(alice, aliceNet.id, name));
    // Only an admin may share a network.
    shared = await network(api.adminToken, 'admin-shared', '10.32.0.0/24', true);
    bobPrivate = await network(bob, 'bob-private', '10.33.0.0/24');
    bobPort = await port(bob, bobPrivate.id, 'b1');
    await port(alice, shared.id, 'a-on-shared');
  });

  it('lists with fragments, aliases, @skip/@include and pages, for a member and an admin', async () => {
    const vars = { n: aliceNet.uuid, first: 2, withIps: true, noMac: false };
    const first = await same(alice, PORTS, vars);
    const page = (first.data as any).ports;
    expect(page.edges).toHaveLength(2);
    expect(page.edges[0].node.mac).toMatch(/^fa:16:3e:/);
    await same(alice, PORTS, { ...vars, after: page.pageInfo.endCursor });
    await same(alice, PORTS, { ...vars, withIps: false, noMac: true });
    await same(api.adminToken, PORTS, { n: null, first: 1000, withIps: true, noMac: false });
  });

  it('keeps visibility: a project sees its own and shared resources, an admin all', async () => {
    const all = await same(alice, PORTS, { n: null, first: 1000, withIps: true, noMac: false });
    const ids = (all.data as any).ports.edges.map((e: any) => e.node.id);
    expect(ids).toEqual(expect.arrayContaining(alicePorts));
    expect(ids).not.toContain(bobPort);
    const nets = `{ networks(first: 100) { edges { node { uuid name shared subnets { cidr } } } } }`;
    const seen = ((await same(alice, nets)).data as any).networks.edges.map((e: any) => e.node.uuid);
    expect(seen).toEqual(expect.arrayContaining([aliceNet.uuid, shared.uuid]));
    expect(seen).not.toContain(bobPrivate.uuid);
    const admin = ((await same(api.adminToken, nets)).data as any).networks.edges.map((e: any) => e.node.uuid);
    expect(admin).toEqual(expect.arrayContaining([aliceNet.uuid, shared.uuid, bobPrivate.uuid]));
    // Through node and nodes too: another project's port is simply not there.
    const node = `query($id: ID!, $ids: [ID!]!) { node(id: $id) { __typename id ... on Port { name network { name } } } nodes(ids: $ids) { id ... on Network { name } ... on Port { macAddress } } }`;
    const r = await same(alice, node, { id: bobPort, ids: [alicePorts[0], bobPort, aliceNet.id, bobPrivate.id] });
    expect((r.data as any).node).toBeNull();
    expect((r.data as any).nodes.map((x: any) => x?.id ?? null)).toEqual([alicePorts[0], null, aliceNet.id, null]);
    await same(bob, node, { id: bobPort, ids: [alicePorts[0], bobPort] });
  });

  it('answers the same typed errors: a garbage cursor, a negative first', async () => {
    const bad = await same(alice, PORTS, { n: null, first: 2, after: 'garbage', withIps: true, noMac: false });
    expect(errorsOf(bad).map((e) => e.code)).toEqual(['InvalidCursor']);
    const negative = await same(alice, PORTS, { n: null, first: -1, withIps: true, noMac: false });
    expect(errorsOf(negative).map((e) => e.code)).toEqual(['InputValidationError']);
    // Variables of the wrong type or missing: refused before anything runs, in graphql's words.
    const wrong = await same(alice, PORTS, { n: null, first: 'two', withIps: true, noMac: false });
    expect(wrong.data).toBeUndefined();
    expect(errorsOf(wrong)).toHaveLength(1);
    await same(alice, PORTS, { n: null, first: 2, noMac: false });
  });

  it('leaves mutations to the generic executor, with their error unions', async () => {
    const r = await api.mutate(alice, 'createPort', { networkId: bobPrivate.id }, 'port { id }');
    expect(r.__typename).toBe('NetworkNotFound');
    await same(alice, '{ viewer { project { uuid name } } }');
  });
});
