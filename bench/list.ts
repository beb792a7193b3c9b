/**
 * Listing 1,000 ports (issue 21): latency over HTTP, and where one list's CPU goes. The server runs
 * in this process, so the process's CPU per list is the server's plus its HTTP client's: the
 * client's share is measured on its own, fetching the same answer's bytes from a bare node:http
 * server in this process, and subtracted. The SQL is timed on its own (listResources called
 * directly: both queries, postgres.js parsing the rows), and so is GraphQL execution without HTTP
 * (SQL included), generic and compiled.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import { execute, parse } from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import type { Context } from '../src/api/context.js';
import { listResources } from '../src/api/schema/resources.js';
import { schema } from '../src/api/schema/index.js';
import { authenticate, issueToken } from '../src/app/tenancy.js';
import type { BenchApi } from './http-api.js';
import { fmt, load } from './stats.js';
import { loadAvg } from './scale.js';
import { postgresCpuSeconds } from './round-trips.js';

export const LIST_QUERY = `query($n: String) { ports(filter: { networkId: $n }, first: 1000) { totalCount edges { node { id uuid name macAddress status deviceOwner fixedIps { subnetId ipAddress } } } } }`;

/** CPU milliseconds of this process per call of `op`, run `n` times one after another. */
async function cpuPer(n: number, op: () => Promise<unknown>): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) await op();
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1000 / n;
}

/** One row per figure, each with the load average when it was taken. */
export async function listBench(api: BenchApi, networkUuid: string): Promise<void> {
  const n = Number(process.env.NL_BENCH_LISTS ?? 30);
  const services = api.services;
  const tok = await issueToken(services, { project: 'bench', role: 'member' });
  if (!tok.ok) throw new Error(tok.error.message);
  const caller = (await authenticate(services.sql, tok.secret))!;
  const ctx = (): Context => ({ services, caller, requestId: 'bench', correlationId: 'bench', log: services.log, memo: new Map() });
  const variables = { n: networkUuid };
  const list = () => api.gql(LIST_QUERY, variables);
  const total = (await list()).ports.totalCount as number;
  for (let i = 0; i < 5; i++) await list(); // warm: prepared statements, JIT

  // The same answer's bytes from a bare server: what the HTTP client costs per list.
  const res = await fetch(api.endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tok.secret}` },
    body: JSON.stringify({ query: LIST_QUERY, variables }),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  const bare = http.createServer((req, out) => {
    req.resume();
    req.on('end', () => {
      out.writeHead(200, { 'content-type': 'application/graphql-response+json; charset=utf-8', 'content-length': bytes.length });
      out.end(bytes);
    });
  });
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
  const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/graphql`;
  const client = () =>
    fetch(bareUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: LIST_QUERY, variables }),
    }).then((r) => r.json());
  for (let i = 0; i < 5; i++) await client();

  const document = parse(LIST_QUERY);
  const generic = async () => {
    const r = await execute({ schema: schema(), document, variableValues: variables, contextValue: ctx() });
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return JSON.stringify(r);
  };
  // As the server runs queries (src/api/compiled-queries.ts).
  const query = compileQuery(schema(), document);
  if (!isCompiledQuery(query)) throw new Error(JSON.stringify(query.errors));
  const compiled = async () => {
    const r = await query.query(undefined, ctx(), variables);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return JSON.stringify(r);
  };
  const sqlOnly = () => listResources(ctx(), 'port', { first: 1000, filter: { networkId: networkUuid } });
  const [backend] = await services.sql<{ pid: number }[]>`select pg_backend_pid() as pid`;

  console.log(`\n## list ${total} ports: latency and CPU per list (${n} lists, one at a time)`);
  console.log('| figure | value | load avg |');
  console.log('|---|---|---|');
  const row = (what: string, value: string) => console.log(`| ${what} | ${value} | ${loadAvg()} |`);

  const pg0 = postgresCpuSeconds(backend!.pid);
  const l = await load(n, 1, list);
  const pgMs = ((postgresCpuSeconds(backend!.pid) - pg0) * 1000) / n;
  row('over HTTP', `${fmt(l.rate)}/s, p50 ${fmt(l.p50)} ms, p99 ${fmt(l.p99)} ms`);
  const whole = await cpuPer(n, list);
  const clientMs = await cpuPer(n, client);
  row('CPU of this process per list (server + HTTP client)', `${fmt(whole)} ms`);
  row('of which the HTTP client (same bytes from a bare server)', `${fmt(clientMs)} ms`);
  row('server CPU per list (the difference)', `**${fmt(whole - clientMs)} ms**`);
  row('GraphQL execution and JSON.stringify, no HTTP: generic executor', `${fmt(await cpuPer(n, generic))} ms CPU`);
  row('the same, compiled (graphql-jit, as the server runs queries)', `${fmt(await cpuPer(n, compiled))} ms CPU`);
  const s = await load(n, 1, sqlOnly);
  row('SQL (listResources: both queries, rows parsed)', `p50 ${fmt(s.p50)} ms, ${fmt(await cpuPer(n, sqlOnly))} ms CPU of this process`);
  row('PostgreSQL CPU per list (all backends, 10 ms ticks)', `${fmt(pgMs)} ms`);
  // Most of a list's garbage lives until its answer is written, so the young generation's size
  // moves the server CPU a lot: node's default gave about 1.5x the CPU of --max-semi-space-size=32.
  const young = v8.getHeapSpaceStatistics().find((sp) => sp.space_name === 'new_space')?.space_size ?? 0;
  row('young generation of this process (both semi-spaces: twice --max-semi-space-size)', `${fmt(young / 2 ** 20, 0)} MiB`);
  bare.close();
}
