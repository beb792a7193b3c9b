/**
 * Subscriptions and replay: 1,000 SSE subscribers on loopback while mutations run at a steady
 * rate (delivery latency, server memory), then a projection rebuild and an audit verify over a
 * log of 1,000,000 events. `npm run bench -- subscriptions`; NL_BENCH_EVENTS and NL_BENCH_SUBSCRIBERS
 * scale it down.
 */
import { spawn } from 'node:child_process';
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
import { readModelChecksum } from '../src/projections/rebuild.js';
import { rebuildReadModel } from '../src/app/rebuild.js';
import { fmt, percentile } from './stats.js';

const SUBSCRIPTION =
  'subscription { events(filter: { resourceTypes: ["network"] }) { ... on LogEvent { cursor type recordedAt data } ... on SubscriptionCutOff { reason } } }';

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** One SSE subscriber over plain node:http; calls `onEvent` with the receipt time of each event. */
function sseSubscriber(port: number, token: string, onEvent: (data: any, at: number) => void): Promise<http.ClientRequest> {
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
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const line = block.split('\n').find((l) => l.startsWith('data:'));
          if (line) onEvent(JSON.parse(line.slice(5)).data?.events, Date.now());
        }
      });
      resolve(req);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The API in a child process of its own, so its memory is measured alone. */
async function serverProcess(url: string): Promise<{ pid: number; port: number; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
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
  return { pid: child.pid!, port, stop: () => child.kill('SIGTERM') };
}

async function deliveryBench(url: string): Promise<void> {
  const s = await startServices(
    loadConfig({ ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' }),
    createLogger('warn', { pretty: false }),
    { poolSize: 4 },
  );
  const tok = await issueToken(s, { project: 'bench-subs', role: 'member' });
  if (!tok.ok) throw new Error(tok.error.message);
  await setQuota(s, tok.projectId, 'network', -1);
  await s.stop();
  const server = await serverProcess(url);
  const n = Number(process.env.NL_BENCH_SUBSCRIBERS ?? 1000);
  const rate = 20;
  const seconds = 15;
  try {
    const idleRss = rssOf(server.pid);
    const latencies: number[] = [];
    const received = new Array<number>(n).fill(0);
    const reqs: http.ClientRequest[] = [];
    const connectStart = performance.now();
    for (let i = 0; i < n; i += 50) {
      reqs.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(50, n - i) }, (_, k) =>
            sseSubscriber(server.port, tok.secret, (e, at) => {
              if (!e?.recordedAt) return;
              received[i + k]!++;
              latencies.push(at - Date.parse(e.recordedAt));
            }),
          ),
        )),
      );
    }
    const connectSeconds = (performance.now() - connectStart) / 1000;
    await new Promise((r) => setTimeout(r, 500));
    const connectedRss = rssOf(server.pid);
    const endpoint = `http://127.0.0.1:${server.port}/graphql`;
    let sent = 0;
    let peakRss = connectedRss;
    const started = Date.now();
    while (Date.now() - started < seconds * 1000) {
      const due = started + (sent * 1000) / rate;
      if (Date.now() < due) await new Promise((r) => setTimeout(r, due - Date.now()));
      await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tok.secret}` },
        body: JSON.stringify({ query: `mutation { createNetwork(input: { name: "bench-${sent}" }) { __typename } }` }),
      });
      sent++;
      if (sent % rate === 0) peakRss = Math.max(peakRss, rssOf(server.pid));
    }
    const loopSeconds = (Date.now() - started) / 1000;
    const deadline = Date.now() + 30_000;
    while (received.some((c) => c < sent) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const complete = received.filter((c) => c >= sent).length;
    latencies.sort((a, b) => a - b);
    const achieved = sent / loopSeconds;
    console.log(
      `\n## subscriptions: ${n} SSE subscribers on loopback, mutations paced at up to ${rate}/s for ${seconds} s, one at a time (achieved ${fmt(achieved)}/s); every subscriber sees every event`,
    );
    console.log('| figure | value |');
    console.log('|---|---|');
    console.log(`| subscribers connected | ${n} in ${fmt(connectSeconds)} s |`);
    console.log(`| events delivered | ${latencies.length} of ${sent * n} (${complete}/${n} subscribers got all ${sent}) |`);
    console.log(
      `| latency append → receipt p50 / p99 / max | ${fmt(percentile(latencies, 50))} / ${fmt(percentile(latencies, 99))} / ${fmt(latencies[latencies.length - 1] ?? NaN)} ms |`,
    );
    console.log(
      `| server RSS idle / ${n} connected / peak under load | ${fmt(idleRss, 0)} / ${fmt(connectedRss, 0)} / ${fmt(peakRss, 0)} MiB |`,
    );
    for (const r of reqs) r.destroy();
  } finally {
    server.stop();
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
    const [c] = await s.sql<{ n: bigint }[]>`select count(*) as n from nl_events`;
    const events = Number(c!.n);
    const t1 = performance.now();
    const replayed = await rebuildReadModel(s);
    const rebuildSeconds = (performance.now() - t1) / 1000;
    const sum = await readModelChecksum(s.sql);
    const t2 = performance.now();
    const chain = await verifyChain(s.sql);
    const verifySeconds = (performance.now() - t2) / 1000;
    console.log(
      `\n## replay over ${events.toLocaleString('en-US')} events (${streams.toLocaleString('en-US')} network streams × ${perStream}, 500 streams interleaved per chunk)`,
    );
    console.log('| operation | time | events/s |');
    console.log('|---|---|---|');
    console.log(`| generate (set-based INSERTs with hash chains) | ${fmt(genSeconds)} s | ${fmt(events / genSeconds, 0)} |`);
    console.log(
      `| projections rebuild (all inline projections, one transaction) | ${fmt(rebuildSeconds)} s | ${fmt(replayed / rebuildSeconds, 0)} |`,
    );
    console.log(`| audit verify (every hash recomputed in SQL) | ${fmt(verifySeconds)} s | ${fmt(events / verifySeconds, 0)} |`);
    console.log(`read model checksum ${sum.digest}; chain ${chain.firstBroken ? 'BROKEN' : 'intact'}`);
  } finally {
    await s.stop();
  }
}

export async function subscriptionsBench(url: string): Promise<void> {
  await deliveryBench(url);
  await rebuildBench(url);
}

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
