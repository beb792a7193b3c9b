/**
 * Subscriptions and replay: 1,000 SSE subscribers on loopback while mutations run at a steady
 * rate (delivery latency, server memory), then a projection rebuild and an audit verify over a
 * log of 1,000,000 events. `npm run bench -- subscriptions`; NL_BENCH_EVENTS and NL_BENCH_SUBSCRIBERS
 * scale it down.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { startServices } from '../src/app/bootstrap.js';
import { issueToken, setQuota } from '../src/app/tenancy.js';
import { createApiServer } from '../src/api/server.js';
import { verifyChain } from '../src/audit/chain.js';
import { DEFAULT_BATCH, readModelChecksum } from '../src/projections/rebuild.js';
import { rebuildReadModel } from '../src/app/rebuild.js';
import { fmt, percentile } from './stats.js';
import { loadAvg } from './scale.js';
import { postgresCpuSeconds } from './round-trips.js';

const SUBSCRIPTION =
  'subscription { events(filter: { resourceTypes: ["network"] }) { ... on LogEvent { cursor type recordedAt data } ... on SubscriptionCutOff { reason } } }';

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/**
 * One SSE subscriber over plain node:http; calls `onEvent` with each event's recordedAt (ms) and
 * its receipt time. It reads only the field it needs, scanning each chunk once: with a thousand of
 * them in this process, parsing every message whole would make the client the bottleneck being
 * measured (its CPU is shown apart, the bench process's column).
 */
function sseSubscriber(port: number, token: string, onEvent: (recordedAt: number, at: number) => void): Promise<http.ClientRequest> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ query: SUBSCRIPTION });
    const req = http.request({
      host: '127.0.0.1',
      port,
      path: '/graphql',
      method: 'POST',
      agent: false,
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        authorization: `Bearer ${token}`,
        'content-length': Buffer.byteLength(body),
      },
    });
    req.on('response', (res) => {
      if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf = buf === '' ? chunk : buf + chunk;
        const now = Date.now();
        let from = 0;
        let end: number;
        while ((end = buf.indexOf('\n\n', from)) >= 0) {
          const at = buf.indexOf(RECORDED_AT, from);
          if (at >= 0 && at < end) {
            const t = at + RECORDED_AT.length;
            onEvent(timeOf(buf.slice(t, buf.indexOf('"', t))), now);
          }
          from = end + 2;
        }
        buf = from === buf.length ? '' : buf.slice(from);
      });
      resolve(req);
    });
    req.on('error', reject);
    req.end(body);
  });
}
const RECORDED_AT = '"recordedAt":"';
// Every subscriber reads the same timestamps one after another: each is parsed once.
let lastTime = { text: '', ms: 0 };
function timeOf(text: string): number {
  if (text !== lastTime.text) lastTime = { text, ms: Date.parse(text) };
  return lastTime.ms;
}

/** The API in a child process of its own, so its memory and CPU are measured alone. */
async function serverProcess(url: string): Promise<{ pid: number; port: number; stop: () => Promise<void> }> {
  // NL_BENCH_SERVER_NODE_ARGS, e.g. --cpu-prof, to profile the server.
  const nodeArgs = (process.env.NL_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  // The young generation `npm start` gives the server (package.json).
  const child = spawn(process.execPath, ['--max-semi-space-size=32', ...nodeArgs, '--import', 'tsx', fileURLToPath(import.meta.url)], {
    env: { ...process.env, NL_BENCH_SERVE: url, NETLEDGER_AGENT: 'off', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      const m = /listening (\d+)/.exec(d.toString());
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`bench server exited ${code}`)));
  });
  return { pid: child.pid!, port, stop: stopOf(child) };
}

/**
 * SIGTERM to a bench child, resolved once it has exited: the suite's database is dropped next,
 * under the child's connections otherwise.
 */
function stopOf(child: ChildProcess): () => Promise<void> {
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return () => {
    child.kill('SIGTERM');
    return exited;
  };
}

type ClientsAsk = { op: 'reset' } | { op: 'count'; sent: number } | { op: 'latencies' };
interface ClientsAnswer {
  total: number;
  complete: number;
  p50: number;
  p99: number;
}

/**
 * The subscribers in a child process of their own: in this one they took the CPU the appender
 * needs (at a load of 15 it appended 60-70 events/s of the 200 asked for), and their CPU is then
 * measured apart from the appender's.
 */
async function clientsProcess(port: number, token: string, n: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    env: { ...process.env, NL_BENCH_SSE_CLIENTS: JSON.stringify({ port, token, n }) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const answers: ((a: ClientsAnswer) => void)[] = [];
  child.on('message', (a: ClientsAnswer) => answers.shift()?.(a));
  const ask = (q: ClientsAsk) =>
    new Promise<ClientsAnswer>((resolve) => {
      answers.push(resolve);
      child.send(q);
    });
  // Its first answer says that every subscriber is connected.
  await new Promise<ClientsAnswer>((resolve) => answers.push(resolve));
  return { pid: child.pid!, ask, stop: stopOf(child) };
}

/** The child process of `clientsProcess`: connects, then answers the parent's questions. */
async function serveClients({ port, token, n }: { port: number; token: string; n: number }): Promise<void> {
  let latencies: number[] = [];
  const received = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, n - i) }, (_, k) =>
        sseSubscriber(port, token, (recordedAt, at) => {
          received[i + k]!++;
          latencies.push(at - recordedAt);
        }),
      ),
    );
  }
  process.on('message', (q: ClientsAsk) => {
    if (q.op === 'reset') latencies = [];
    if (q.op === 'latencies') latencies.sort((a, b) => a - b);
    process.send!({
      total: received.reduce((a, b) => a + b, 0),
      complete: q.op === 'count' ? received.filter((c) => c >= q.sent).length : 0,
      p50: q.op === 'latencies' ? percentile(latencies, 50) : 0,
      p99: q.op === 'latencies' ? percentile(latencies, 99) : 0,
    } satisfies ClientsAnswer);
  });
  process.send!({ total: 0, complete: 0, p50: 0, p99: 0 } satisfies ClientsAnswer);
  process.on('SIGTERM', () => process.exit(0));
}

/** CPU seconds (user + system) a process has used so far. */
function cpuOf(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/**
 * 1,000 subscribers to one feed, then events appended at stepped rates, each step long enough to
 * see whether delivery keeps up. Events go straight into the log from this process (real
 * NetworkUpdated events of a network the API created, one append each, committed separately): the
 * write path has figures of its own, and here it would cap the rate long before the fan-out does.
 */
async function deliveryBench(url: string): Promise<void> {
  // Appends in flight when the driver falls behind: at a load of 8-10 on two cores an append
  // takes 50-70 ms, and 8 of them capped the rate at ~120/s below the 200/s asked for.
  const appenders = Number(process.env.NL_BENCH_SSE_APPENDERS ?? 24);
  const s = await startServices(
    loadConfig({ ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' }),
    createLogger('warn', { pretty: false }),
    { poolSize: appenders + 2 },
  );
  const tok = await issueToken(s, { project: 'bench-subs', role: 'member' });
  if (!tok.ok) throw new Error(tok.error.message);
  await setQuota(s, tok.projectId, 'network', -1);
  const server = await serverProcess(url);
  const n = Number(process.env.NL_BENCH_SUBSCRIBERS ?? 1000);
  const rates = (process.env.NL_BENCH_SSE_RATES ?? '25,50,100,200,400').split(',').map(Number);
  const stepSeconds = Number(process.env.NL_BENCH_SSE_SECONDS ?? 6);
  try {
    const endpoint = `http://127.0.0.1:${server.port}/graphql`;
    const created = (await (
      await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tok.secret}` },
        body: JSON.stringify({
          query: `mutation { createNetwork(input: { name: "bench-fanout" }) { ... on CreateNetworkSuccess { network { uuid } } } }`,
        }),
      })
    ).json()) as { data: { createNetwork: { network: { uuid: string } } } };
    const networkId = created.data.createNetwork.network.uuid;
    const idleRss = rssOf(server.pid);
    const connectStart = performance.now();
    const clients = await clientsProcess(server.port, tok.secret, n);
    const connectSeconds = (performance.now() - connectStart) / 1000;
    await new Promise((r) => setTimeout(r, 1000));
    const connectedRss = rssOf(server.pid);
    console.log(
      `\n## subscriptions: ${n} SSE subscribers on loopback to one feed (connected in ${fmt(connectSeconds)} s; server RSS idle ${fmt(idleRss, 0)} MiB, connected ${fmt(connectedRss, 0)} MiB); events appended at each rate for ${stepSeconds} s`,
    );
    console.log(
      "| target events/s | appended/s | delivered/s per subscriber | all got all (within 10 s) | latency append → receipt p50 / p99 | server CPU per event | clients' CPU per event | load |",
    );
    console.log('|---|---|---|---|---|---|---|---|');
    let sent = 0;
    const append = (i: number) =>
      s.store.append(`network-${networkId}`, 'any', [
        { type: 'NetworkUpdated', data: { id: networkId, changes: { description: `step ${i}` }, updatedAt: new Date().toISOString() } },
      ]);
    for (const rate of rates) {
      const before = (await clients.ask({ op: 'reset' })).total;
      const base = sent;
      const cpu0 = cpuOf(server.pid);
      const client0 = cpuOf(clients.pid);
      const started = performance.now();
      const total = rate * stepSeconds;
      let next = 0;
      // Paced: event i is due at i / rate; up to `appenders` in flight when the driver falls behind.
      await Promise.all(
        Array.from({ length: appenders }, async () => {
          for (;;) {
            const i = next++;
            if (i >= total) return;
            const due = started + (i * 1000) / rate;
            const wait = due - performance.now();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            await append(base + i);
          }
        }),
      );
      sent += total;
      const appendSeconds = (performance.now() - started) / 1000;
      const deadline = Date.now() + 10_000;
      let count = await clients.ask({ op: 'count', sent });
      while (count.complete < n && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        count = await clients.ask({ op: 'count', sent });
      }
      const deliverSeconds = (performance.now() - started) / 1000;
      const cpu = cpuOf(server.pid) - cpu0;
      const clientCpu = cpuOf(clients.pid) - client0;
      const delivered = count.total - before;
      const complete = count.complete;
      const { p50, p99 } = await clients.ask({ op: 'latencies' });
      console.log(
        `| ${rate} | ${fmt(total / appendSeconds, 0)} | ${fmt(delivered / n / deliverSeconds, 0)} | ${complete === n ? 'yes' : `no: ${complete}/${n}`} | ${fmt(p50)} / ${fmt(p99)} ms | ${fmt((cpu * 1000) / total, 2)} ms | ${fmt((clientCpu * 1000) / total, 2)} ms | ${loadAvg()} |`,
      );
      if (complete < n) break;
    }
    console.log(`server RSS after: ${fmt(rssOf(server.pid), 0)} MiB`);
    await clients.stop();
  } finally {
    await server.stop();
    await s.stop();
  }
}

async function rebuildBench(url: string): Promise<void> {
  const total = Number(process.env.NL_BENCH_EVENTS ?? 1_000_000);
  const perStream = 10;
  const streams = Math.ceil(total / perStream);
  const chunk = 500;
  const s = await startServices(
    loadConfig({ ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' }),
    createLogger('warn', { pretty: false }),
    { poolSize: 4 },
  );
  try {
    const t0 = performance.now();
    // Set-based, 500 streams at a time: one recursive statement chains each stream's ten events
    // (nl_event_hash, as nl_append does) and inserts them version by version, so the streams of a
    // chunk interleave in the log.
    const data = (
      v: string,
      i: string,
      id: string,
    ) => `CASE WHEN ${v} = 1 THEN jsonb_build_object('id', ${id}, 'project', 'bench', 'name', 'net-' || ${i}, 'description', '', 'tags', '[]'::jsonb,
        'createdAt', '2024-01-01T00:00:00.000Z', 'adminStateUp', true, 'shared', false, 'external', false, 'portSecurityEnabled', true, 'mtu', 1450,
        'provider', jsonb_build_object('networkType', 'local', 'physicalNetwork', null, 'segmentationId', null))
      ELSE jsonb_build_object('id', ${id}, 'changes', jsonb_build_object('name', 'net-' || ${i} || '-v' || ${v}), 'updatedAt', '2024-01-02T00:00:00.000Z') END`;
    const typ = (v: string) => `CASE WHEN ${v} = 1 THEN 'NetworkCreated' ELSE 'NetworkUpdated' END`;
    await s.sql.unsafe(`
      DO $$
      DECLARE lo int;
      BEGIN
        FOR lo IN 0..${streams - 1} BY ${chunk} LOOP
          INSERT INTO nl_events (stream_id, stream_version, event_id, event_type, schema_version, data, metadata, prev_hash, hash)
          WITH RECURSIVE base AS (
            SELECT i, md5('bench' || i)::uuid AS id FROM generate_series(lo, least(lo + ${chunk} - 1, ${streams - 1})) AS i
          ), chain AS (
            SELECT i, id, 1 AS v, e.eid, e.data, ''::bytea AS prev,
                   nl_event_hash(''::bytea, e.eid, ${typ('1')}, 1, e.data, '{"actor": "bench", "project": "bench"}'::jsonb) AS hash
              FROM base, LATERAL (SELECT gen_random_uuid() AS eid, ${data('1', 'i', 'id')} AS data) e
            UNION ALL
            SELECT c.i, c.id, c.v + 1, n.eid, n.data, c.hash,
                   nl_event_hash(c.hash, n.eid, ${typ('c.v + 1')}, 1, n.data, '{"actor": "bench", "project": "bench"}'::jsonb)
              FROM chain c, LATERAL (SELECT gen_random_uuid() AS eid, ${data('c.v + 1', 'c.i', 'c.id')} AS data) n
             WHERE c.v < ${perStream}
          )
          SELECT 'network-' || id, v, eid, ${typ('v')}, 1, data, '{"actor": "bench", "project": "bench"}'::jsonb, prev, hash
            FROM chain ORDER BY v, i;
        END LOOP;
        INSERT INTO nl_streams (stream_id, stream_type, version)
        SELECT 'network-' || md5('bench' || i)::uuid, 'network', ${perStream} FROM generate_series(0, ${streams - 1}) AS i;
      END $$`);
    const genSeconds = (performance.now() - t0) / 1000;
    const genLoad = loadAvg();
    const [c] = await s.sql<{ n: bigint }[]>`select count(*) as n from nl_events`;
    const events = Number(c!.n);
    // A server seals its log as it grows; this one was written behind the sealer's back, which
    // would otherwise chain all of it while the rebuild runs and take CPU from it.
    for (;;) {
      const [sealed] = await s.sql<{ n: bigint }[]>`select count(*) as n from nl_log_chain`;
      if (Number(sealed!.n) >= events) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const sealSeconds = (performance.now() - t0) / 1000 - genSeconds;
    const [backend] = await s.sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
    const pgCpu0 = postgresCpuSeconds(backend!.pid);
    const cpu0 = process.cpuUsage();
    const t1 = performance.now();
    const replayed = await rebuildReadModel(s);
    const rebuildSeconds = (performance.now() - t1) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const pgCpu = postgresCpuSeconds(backend!.pid) - pgCpu0;
    const rebuildLoad = loadAvg();
    const sum = await readModelChecksum(s.sql);
    const t2 = performance.now();
    const chain = await verifyChain(s.sql);
    const verifySeconds = (performance.now() - t2) / 1000;
    console.log(
      `\n## replay over ${events.toLocaleString('en-US')} events (${streams.toLocaleString('en-US')} network streams × ${perStream}, 500 streams interleaved per chunk)`,
    );
    console.log('| operation | time | events/s | load |');
    console.log('|---|---|---|---|');
    console.log(`| generate (set-based INSERTs with hash chains) | ${fmt(genSeconds)} s | ${fmt(events / genSeconds, 0)} | ${genLoad} |`);
    console.log(
      `| seal (the server's sealer chains the new events, before the rebuild starts) | ${fmt(sealSeconds)} s | ${fmt(events / sealSeconds, 0)} | |`,
    );
    console.log(
      `| projections rebuild (all inline projections, committed batches of ${DEFAULT_BATCH.toLocaleString('en-US')}) | ${fmt(rebuildSeconds)} s | ${fmt(replayed / rebuildSeconds, 0)} | ${rebuildLoad} |`,
    );
    console.log(
      `| audit verify (every hash recomputed in SQL) | ${fmt(verifySeconds)} s | ${fmt(events / verifySeconds, 0)} | ${loadAvg()} |`,
    );
    console.log(
      `rebuild CPU per event: this process ${fmt((cpu.user + cpu.system) / replayed, 1)} µs (user ${fmt(cpu.user / replayed, 1)}), PostgreSQL ${fmt((pgCpu * 1e6) / replayed, 1)} µs`,
    );
    console.log(`read model checksum ${sum.digest}; chain ${chain.firstBroken ? 'BROKEN' : 'intact'}`);
  } finally {
    await s.stop();
  }
}

/** NL_BENCH_SUBSCRIBERS=0 or NL_BENCH_EVENTS=0 leaves that half out. */
export async function subscriptionsBench(url: string): Promise<void> {
  if (process.env.NL_BENCH_SUBSCRIBERS !== '0') await deliveryBench(url);
  if (process.env.NL_BENCH_EVENTS !== '0') await rebuildBench(url);
}

// The child process of `clientsProcess`.
if (process.env.NL_BENCH_SSE_CLIENTS)
  await serveClients(JSON.parse(process.env.NL_BENCH_SSE_CLIENTS) as { port: number; token: string; n: number });

// The child process of `serverProcess`.
if (process.env.NL_BENCH_SERVE) {
  const s = await startServices(
    loadConfig({ ...process.env, DATABASE_URL: process.env.NL_BENCH_SERVE, LOG_LEVEL: 'warn' }),
    createLogger('warn', { pretty: false }),
    { poolSize: 10 },
  );
  const server = createApiServer(s);
  server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`));
  process.on('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    void s.stop().then(() => process.exit(0));
  });
}
