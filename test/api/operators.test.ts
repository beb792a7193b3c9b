import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { execa } from 'execa';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer, type ApiServer } from '../../src/api/server.js';
import { startServices, type Running } from '../../src/app/bootstrap.js';
import { issueToken } from '../../src/app/tenancy.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { CREATE_NETWORK } from '../support/api.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { until } from '../support/until.js';

/**
 * What an operator and a browser app need from the real server over a real database: GraphiQL
 * with no internet, CORS, one log line per request, Prometheus metrics.
 */

const ALLOWED = 'http://app.example.test:8080';
const CHROMIUM = '/usr/bin/chromium';

let db: TestDatabase;
let services: Running;
let server: ApiServer;
let base: string;
let admin: string;
let tenant: string;
/** Every JSON log line the server wrote. */
const lines: Record<string, unknown>[] = [];

function gql(
  token: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body: JSON.stringify({ query, variables }),
  });
}

/** The value of one series in a Prometheus text exposition (0 when absent). */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

beforeAll(async () => {
  db = await createTestDatabase();
  const config = loadConfig({ ...process.env, DATABASE_URL: db.url, NETLEDGER_CORS_ORIGINS: `${ALLOWED}, https://other.example.test` });
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  services = await startServices(config, pino({ level: 'info', base: undefined }, sink), { poolSize: 10 });
  server = createApiServer(services);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const a = await issueToken(services, { project: 'admin', role: 'admin' });
  const t = await issueToken(services, { project: 'tenant-private-name', role: 'member' });
  if (!a.ok || !t.ok) throw new Error('could not issue tokens');
  admin = a.secret;
  tenant = t.secret;
}, 120_000);

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await services?.stop();
  await db?.drop();
});

describe('GraphiQL offline', () => {
  it('serves a page whose every asset is on this server, each with its content type', async () => {
    const page = await fetch(`${base}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html, 'no absolute URL to another host').not.toMatch(/https?:\/\//);
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    const workers = Object.values(JSON.parse(/const workerUrls = (\{[^}]*\})/.exec(html)![1]!) as Record<string, string>);
    expect(refs.length).toBeGreaterThanOrEqual(3);
    expect(workers).toHaveLength(3);
    const expected: Record<string, RegExp> = { '.css': /^text\/css/, '.js': /^text\/javascript/, '.ico': /^image\/x-icon/ };
    for (const url of [...refs, ...workers]) {
      expect(url, url).toMatch(/^\/[^/]/);
      const r = await fetch(new URL(url, base));
      expect(r.status, url).toBe(200);
      expect(r.headers.get('content-type'), url).toMatch(expected[path.extname(url)]!);
      expect((await r.arrayBuffer()).byteLength, url).toBeGreaterThan(100);
    }
    expect((await fetch(`${base}${refs[0]!.replace(/[^/]+$/, 'nope.js')}`)).status).toBe(404);
  });

  it.skipIf(!fs.existsSync(CHROMIUM))(
    'renders in headless Chromium with every other host unreachable',
    async () => {
      const out = path.resolve('.data/test-artifacts');
      fs.mkdirSync(out, { recursive: true });
      const shot = path.join(out, 'graphiql.png');
      fs.rmSync(shot, { force: true });
      const flags = [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--no-first-run',
        // Any host but the server's fails to resolve: the page must render from this server alone.
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
        '--window-size=1280,800',
        '--virtual-time-budget=20000',
        `--user-data-dir=${path.join(out, 'chromium-profile')}`,
      ];
      const dom = await execa(CHROMIUM, [...flags, '--dump-dom', `${base}/graphql`], { timeout: 120_000 });
      // GraphiQL's React tree is in the DOM: the scripts loaded and ran.
      expect(dom.stdout).toContain('graphiql-container');
      await execa(CHROMIUM, [...flags, `--screenshot=${shot}`, `${base}/graphql`], { timeout: 120_000 });
      expect(fs.statSync(shot).size).toBeGreaterThan(10_000);
      fs.rmSync(path.join(out, 'chromium-profile'), { recursive: true, force: true });
      console.log(`GraphiQL screenshot: ${shot}`);
    },
    300_000,
  );
});

describe('CORS', () => {
  const preflight = (origin: string) =>
    fetch(`${base}/graphql`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });

  it('answers an allowed origin’s preflight without a token, and its requests', async () => {
    const r = await preflight(ALLOWED);
    expect(r.status).toBe(204);
    expect(r.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(r.headers.get('access-control-allow-methods')).toContain('POST');
    expect(r.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(r.headers.get('vary')).toContain('Origin');
    const q = await gql(admin, '{ viewer { tokenName } }', {}, { origin: ALLOWED });
    expect(q.status).toBe(200);
    expect(q.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(q.headers.get('access-control-expose-headers')).toContain('x-request-id');
  });

  it('refuses any other origin: 403 and no allow headers', async () => {
    for (const origin of ['http://evil.example.test', 'http://app.example.test:8081', 'null']) {
      const r = await preflight(origin);
      expect(r.status, origin).toBe(403);
      expect(r.headers.get('access-control-allow-origin'), origin).toBeNull();
      const q = await gql(admin, '{ viewer { tokenName } }', {}, { origin });
      expect(q.headers.get('access-control-allow-origin'), origin).toBeNull();
    }
  });

  it('rejects a setting that is not a list of origins', () => {
    expect(() => loadConfig({ NETLEDGER_CORS_ORIGINS: 'https://a.example/path' })).toThrow(ConfigError);
    expect(() => loadConfig({ NETLEDGER_CORS_ORIGINS: '*' })).toThrow(ConfigError);
    expect(loadConfig({}).NETLEDGER_CORS_ORIGINS).toEqual([]);
  });
});

describe('request logs', () => {
  it('writes one info line per request, with its operation, project, status, duration and id', async () => {
    const before = lines.length;
    const requestIds: string[] = [];
    const N = 40;
    for (let i = 0; i < N; i++) {
      const r =
        i % 4 === 0
          ? await gql(admin, 'query Viewer { viewer { tokenName } }')
          : i % 4 === 1
            ? await gql(tenant, CREATE_NETWORK, { input: { name: `log-${i}` } })
            : i % 4 === 2
              ? await gql('nl_not_a_token', '{ viewer { tokenName } }')
              : await gql(admin, '{ nope }');
      await r.arrayBuffer();
      requestIds.push(r.headers.get('x-request-id')!);
    }
    const logged = await until('a line for every request', () => {
      const got = lines.slice(before).filter((l) => l.msg === 'request' && l.path === '/graphql');
      return got.length >= N && got;
    });
    expect(logged).toHaveLength(N);
    expect(logged.every((l) => l.level === 30 && typeof l.durationMs === 'number')).toBe(true);
    expect(logged.map((l) => l.requestId)).toEqual(requestIds);
    expect(logged[0]).toMatchObject({ operation: 'Viewer', type: 'query', project: 'admin', status: 200, method: 'POST' });
    expect(logged[1]).toMatchObject({ type: 'mutation', project: 'tenant-private-name', status: 200 });
    expect(logged[2]).toMatchObject({ status: 401, errorCodes: ['UNAUTHENTICATED'] });
    expect(logged[2]).not.toHaveProperty('project');
    expect(logged[3]).toMatchObject({ operation: 'anonymous', status: 200, errorCodes: ['GRAPHQL_VALIDATION_FAILED'] });
  });
});

describe('metrics', () => {
  it('exposes Prometheus metrics without a token, moving with the load, with no secrets or tenant names', async () => {
    const scrape = async () => {
      const r = await fetch(`${base}/metrics`);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
      return r.text();
    };
    const before = await scrape();
    for (let i = 0; i < 5; i++) {
      await (await gql(admin, 'query Viewer { viewer { tokenName } }')).arrayBuffer();
      await (await gql(tenant, CREATE_NETWORK, { input: { name: `metrics-${i}` } })).arrayBuffer();
    }
    await (await gql(tenant, CREATE_NETWORK, { input: { name: 'metrics-0' } })).arrayBuffer();
    await (await gql('nl_wrong', '{ viewer { tokenName } }')).arrayBuffer();
    const after = await until('the requests counted', async () => {
      const t = await scrape();
      return (
        sample(t, 'netledger_requests_total{operation="Viewer",type="query",status="200"}') >=
          sample(before, 'netledger_requests_total{operation="Viewer",type="query",status="200"}') + 5 && t
      );
    });
    const moved = (series: string, by: number) => expect(sample(after, series) - sample(before, series), series).toBeGreaterThanOrEqual(by);
    moved('netledger_request_duration_seconds_count{operation="Viewer",type="query"}', 5);
    moved('netledger_commands_total{result="ok"}', 5);
    moved('netledger_command_duration_seconds_count{result="ok"}', 5);
    moved('netledger_events_appended_total', 5);
    moved('netledger_errors_total{code="UNAUTHENTICATED"}', 1);
    expect(sample(after, 'netledger_log_head_position')).toBeGreaterThan(0);
    expect(after).toMatch(/^netledger_subscriptions_open \d+$/m);
    expect(after).toMatch(/^process_cpu_user_seconds_total /m);
    expect(after).toMatch(/^nodejs_eventloop_lag_seconds /m);
    for (const secret of [admin, tenant, 'tenant-private-name', 'metrics-0']) expect(after).not.toContain(secret);
  });

  it('is not served with NETLEDGER_METRICS=off', async () => {
    const off = createApiServer({ ...services, config: { ...services.config, NETLEDGER_METRICS: 'off' } });
    await new Promise<void>((r) => off.listen(0, '127.0.0.1', r));
    try {
      const r = await fetch(`http://127.0.0.1:${(off.address() as AddressInfo).port}/metrics`);
      expect(r.status).toBe(404);
    } finally {
      off.closeAllConnections();
      await new Promise((r) => off.close(r));
    }
  });
});
