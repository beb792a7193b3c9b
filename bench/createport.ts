/**
 * createPort over real HTTP beside its ceiling, a raw INSERT+COMMIT of a row of the same size, at
 * concurrency 1 and 8 in the same run (issue 21), with what one request costs: round trips and
 * statements on the wire, and CPU of this process (server and client) and of PostgreSQL.
 * `npm run bench -- createport`; NL_BENCH_TRACE=1 prints one request's statements by round trip.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { postJson, startBenchApi } from './http-api.js';
import { randomUUID } from 'node:crypto';
import { AsyncLocalStorage } from 'node:async_hooks';
import { connect } from '../src/db/sql.js';
import { fmt, load } from './stats.js';
import { loadAvg } from './scale.js';
import { countRoundTrips, postgresCpuSeconds } from './round-trips.js';

export async function createPortBench(url: string): Promise<void> {
  const pgPort = Number(new URL(url).port || 5432);
  // On from the start, so the trace knows every prepared statement's text.
  // Statements sent while the server handles a request are the request's; the log followers'
  // (the sealer, the wake-up NOTIFY) run in contexts of their own.
  const request = new AsyncLocalStorage<true>();
  const wire = countRoundTrips(pgPort, { trace: process.env.NL_BENCH_TRACE === '1', inRequest: () => request.getStore() === true });
  const { gql, stop } = await startBenchApi(url, 'bench-createport', ['port'], (server) => {
    const emit = server.emit.bind(server);
    server.emit = ((event: string, ...args: unknown[]) =>
      event === 'request' ? request.run(true, () => emit(event, ...args)) : emit(event, ...args)) as typeof server.emit;
  });
  const net = (await gql(`mutation { createNetwork(input: { name: "bench" }) { ... on CreateNetworkSuccess { network { id uuid } } } }`))
    .createNetwork.network;
  await gql(`mutation($n: String!) { createSubnet(input: { networkId: $n, ipVersion: 4, cidr: "10.64.0.0/16" }) { __typename } }`, {
    n: net.id,
  });
  // What a client reads back from a create: the port, its address and the change's cursor.
  const create = `mutation($n: String!) { createPort(input: { networkId: $n }) { __typename ... on CreatePortSuccess { cursor port { uuid macAddress fixedIps { ipAddress } } } ... on Error { code } } }`;
  const port = async () => {
    const out = (await gql(create, { n: net.id })).createPort;
    if (out.__typename !== 'CreatePortSuccess') throw new Error(out.code);
  };

  const raw = connect(url, { max: 16 });
  await raw`create table bench_raw_port (id bigint generated always as identity primary key, stream text, data jsonb, metadata jsonb)`;
  const doc = {
    id: randomUUID(),
    name: '',
    networkId: net.uuid,
    macAddress: 'fa:16:3e:00:00:00',
    fixedIps: [{ subnetId: randomUUID(), ipAddress: '10.64.0.10' }],
  };
  const meta = { actor: randomUUID(), requestId: randomUUID() };
  const insert = (i: number) =>
    raw`insert into bench_raw_port (stream, data, metadata) values (${`port-${i}`}, ${raw.json(doc)}, ${raw.json(meta)})`;
  const [backend] = await raw<{ pid: number }[]>`select pg_backend_pid() as pid`;
  const pid = backend!.pid;

  console.log('\n## createPort beside raw INSERT+COMMIT (same run)');
  console.log('| operation | req/s | p50 ms | p99 ms | ratio to raw | load avg |');
  console.log('|---|---|---|---|---|---|');
  const n = Number(process.env.NL_BENCH_CREATES ?? 400);
  for (let i = 0; i < 20; i++) await port(); // warm: every pooled connection's statements prepared
  for (const c of [1, 8]) {
    const baseline = await load(4 * n, c, insert);
    console.log(
      `| raw INSERT+COMMIT, concurrency ${c} | ${fmt(baseline.rate)} | ${fmt(baseline.p50, 2)} | ${fmt(baseline.p99, 2)} | | ${loadAvg()} |`,
    );
    const r = await load(c === 1 ? n / 2 : n, c, port);
    console.log(
      `| createPort, concurrency ${c} | ${fmt(r.rate)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.rate / baseline.rate, 3)}x | ${loadAvg()} |`,
    );
  }

  // One request at a time, so each one's wire and CPU are its own.
  try {
    wire.reset();
    await port();
    if (process.env.NL_BENCH_TRACE === '1') {
      console.log('\none createPort, by round trip:');
      wire.counts.trace.forEach((trip, i) => console.log(`${i + 1}. ${trip.join('\n   ')}`));
    }
    wire.reset();
    const m = 100;
    const cpu = process.cpuUsage();
    const pg = postgresCpuSeconds(pid);
    for (let i = 0; i < m; i++) await port();
    const used = process.cpuUsage(cpu);
    const pgUsed = postgresCpuSeconds(pid) - pg;
    console.log(
      `\nper createPort (mean of ${m}, one at a time): ${fmt(wire.counts.requestRoundTrips / m)} round trips and ${fmt(wire.counts.requestStatements / m)} statements on the request's path ` +
        `(${fmt(wire.counts.roundTrips / m)} and ${fmt(wire.counts.statements / m)} with the log followers'); ` +
        `CPU ${fmt((used.user + used.system) / 1000 / m, 2)} ms in this process (server and client), ${fmt((pgUsed * 1000) / m, 2)} ms in PostgreSQL; load ${loadAvg()}`,
    );
    const client = await clientCpuMs(create, net.id, m);
    console.log(`of which the bench's HTTP client (against a stub answering the same bytes): ${fmt(client, 2)} ms`);
  } finally {
    wire.stop();
  }
  await raw.end();
  await stop();
}

/** CPU per request of the client and a stub server that answers a createPort's bytes at once: the measuring device's share. */
async function clientCpuMs(query: string, networkId: string, m: number): Promise<number> {
  const answer = JSON.stringify({
    data: {
      createPort: {
        __typename: 'CreatePortSuccess',
        cursor: '0000000000000000000000000000000000000000',
        port: { uuid: randomUUID(), macAddress: 'fa:16:3e:00:00:00', fixedIps: [{ ipAddress: '10.64.0.10' }] },
      },
    },
  });
  const stub = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(answer);
    });
  });
  await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(stub.address() as AddressInfo).port}/graphql`;
  const agent = new http.Agent({ keepAlive: true });
  const body = JSON.stringify({ query, variables: { n: networkId } });
  try {
    for (let i = 0; i < 20; i++) await postJson(agent, endpoint, 'stub', body);
    const cpu = process.cpuUsage();
    for (let i = 0; i < m; i++) await postJson(agent, endpoint, 'stub', body);
    const used = process.cpuUsage(cpu);
    return (used.user + used.system) / 1000 / m;
  } finally {
    agent.destroy();
    stub.close();
  }
}
