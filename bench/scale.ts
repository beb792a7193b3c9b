/**
 * Costs that grow with scale or contention (issue 21): createPort in a /16 holding 50,000
 * allocations beside an empty one, createNetwork at concurrency 1 and 8 (segment ids), and
 * createPort at concurrency 8 with the port quota unlimited and limited. `npm run bench -- scale`;
 * NL_BENCH_ALLOCATIONS scales the full subnet down.
 */
import { startBenchApi } from './http-api.js';
import os from 'node:os';
import { issueToken, setQuota } from '../src/app/tenancy.js';
import { connect } from '../src/db/sql.js';
import { fmt, load } from './stats.js';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { defineEvent } from '../src/domain/event-definition.js';
import { EventRegistry } from '../src/store/event-registry.js';
import { EventStore } from '../src/store/event-store.js';

const Filler = defineEvent('BenchFiller', z.object({ n: z.number() }));

/** The 1-minute load average, printed beside every figure: other work on the machine moves them. */
export const loadAvg = () => os.loadavg()[0]!.toFixed(2);

export async function scaleBench(url: string): Promise<void> {
  const { services: s, endpoint, projectId, gql, stop } = await startBenchApi(url, 'bench-scale', ['port', 'network', 'subnet']);
  const createNetwork = `mutation($name: String!) { createNetwork(input: { name: $name }) { __typename ... on CreateNetworkSuccess { network { id uuid } } ... on Error { code } } }`;
  const network = async (name: string) => {
    const out = (await gql(createNetwork, { name })).createNetwork;
    if (out.__typename !== 'CreateNetworkSuccess') throw new Error(out.code);
    return out.network as { id: string; uuid: string };
  };
  const subnet = async (net: { id: string }, cidr: string) => {
    const out = (
      await gql(
        `mutation($n: String!, $c: String!) { createSubnet(input: { networkId: $n, ipVersion: 4, cidr: $c }) { __typename ... on CreateSubnetSuccess { subnet { uuid } } } }`,
        { n: net.id, c: cidr },
      )
    ).createSubnet;
    return out.subnet.uuid as string;
  };
  const create = `mutation($n: String!) { createPort(input: { networkId: $n }) { __typename ... on Error { code } } }`;
  const port = (net: { id: string }) => async () => {
    const out = (await gql(create, { n: net.id })).createPort;
    if (out.__typename !== 'CreatePortSuccess') throw new Error(out.code);
  };

  console.log('\n## Scale and contention');
  console.log('| operation | req/s | p50 ms | p99 ms | failed | load avg |');
  console.log('|---|---|---|---|---|---|');
  const row = (what: string, r: { rate: number; p50: number; p99: number }, failed: number | string = 0) =>
    console.log(`| ${what} | ${fmt(r.rate)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${failed} | ${loadAvg()} |`);

  // IPAM: the same creates in an empty /16 and in one holding many allocations from its start.
  const empty = await network('ipam-empty');
  await subnet(empty, '10.64.0.0/16');
  const full = await network('ipam-full');
  const fullSubnet = await subnet(full, '10.65.0.0/16');
  const allocations = Number(process.env.NL_BENCH_ALLOCATIONS ?? 50_000);
  // Inserted straight into the read model: 50,000 real creates would take minutes, and the search
  // reads only this table. The port ids name no port, which nothing here looks at.
  await s.sql`insert into rm_ip_allocations (network_id, ip_address, subnet_id, port_id)
              select ${full.uuid}, '10.65.0.0'::inet + g, ${fullSubnet}, gen_random_uuid() from generate_series(3, ${allocations + 2}) g
              on conflict do nothing`;
  await s.sql`analyze rm_ip_allocations`;
  for (const [label, net] of [
    ['empty /16', empty],
    [`/16 with ${allocations.toLocaleString('en-US')} allocations`, full],
  ] as const) {
    for (const c of [1, 8]) {
      row(`createPort, ${label}, concurrency ${c}`, await load(c === 1 ? 150 : 400, c, port(net)));
    }
  }

  // Segment ids: concurrent creates must not all reach for the same lowest free id.
  for (const c of [1, 8]) {
    let failed = 0;
    const r = await load(160, c, async (i) => {
      const out = (await gql(createNetwork, { name: `n${c}-${i}` })).createNetwork;
      if (out.__typename !== 'CreateNetworkSuccess') failed++;
    });
    row(`createNetwork, concurrency ${c}`, r, failed);
  }

  // Quota: unlimited (no usage row to write) and limited (exact under races).
  const q = await network('quota');
  await subnet(q, '10.66.0.0/16');
  row('createPort, port quota unlimited, concurrency 8', await load(400, 8, port(q)));
  await setQuota(s, projectId, 'port', 1_000_000);
  row('createPort, port quota 1,000,000, concurrency 8', await load(400, 8, port(q)));

  // The events query narrowed to a rare type, over a log grown by many events of another type.
  const filler = Number(process.env.NL_BENCH_LOG_EVENTS ?? 100_000);
  const store = new EventStore(s.sql, new EventRegistry([Filler]));
  const meta = { actor: 'bench', requestId: randomUUID() };
  for (let i = 0; i < filler; i += 500)
    await store.append(
      `bench-${randomUUID()}`,
      'no_stream',
      Array.from({ length: 500 }, (_, n) => ({ type: 'BenchFiller', data: { n } })),
      meta,
    );
  await s.sql`analyze nl_events`;
  const admin = await issueToken(s, { project: 'bench-admin', role: 'admin' });
  if (!admin.ok) throw new Error(admin.error.message);
  const rare = `{ events(filter: { eventTypes: ["SubnetCreated"] }, first: 10) { edges { cursor } } }`;
  const ask = async () => {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.secret}` },
      body: JSON.stringify({ query: rare }),
    });
    const body = (await res.json()) as { errors?: unknown };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
  };
  // Its baseline in the same run: the same query without the type index (migration 062), dropped
  // and rebuilt by the owner (the server's role may not).
  const owner = connect(url, { max: 1 });
  await owner`drop index nl_events_type_order`;
  row(`events query, a rare type, log of ${filler.toLocaleString('en-US')}+ events, no type index (before)`, await load(10, 1, ask));
  await owner`create index nl_events_type_order on nl_events (event_type, transaction_id, global_position)`;
  await owner`analyze nl_events`;
  await owner.end();
  row(`events query, a rare type, log of ${filler.toLocaleString('en-US')}+ events`, await load(30, 1, ask));
  await stop();
}
