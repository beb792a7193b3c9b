import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentConfig, type AgentConfig } from '../../src/agent/config.js';
import { CommandRunner } from '../../src/agent/exec.js';
import { DataplaneAgent } from '../../src/agent/index.js';
import { isAlive, processArgs, readPidFile } from '../../src/agent/procs.js';
import { wipeHost } from '../../src/agent/wipe.js';
import { dhcpDir } from '../../src/projections/desired-state/names.js';
import { createApiServer, type ApiServer } from '../../src/api/server.js';
import { startServices, type Running } from '../../src/app/bootstrap.js';
import { issueToken } from '../../src/app/tenancy.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { namespacesWithPrefix, requireHostTools } from '../agent/netns-tools.js';
import { sseSubscribe } from '../subscriptions/clients.js';
import { CREATE_NETWORK, CREATE_PORT, CREATE_SUBNET } from '../support/api.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { until } from '../support/until.js';

/**
 * The metrics an operator watches for a process that serves and applies: database pool usage,
 * each log consumer's lag, the local agent's passes. A real agent on a real kernel (its namespaces
 * carry this file's prefix and are removed in afterAll), a real server, a real subscription.
 */

const root = process.getuid?.() === 0;
const prefix = `nlm${randomBytes(3).toString('hex')}-`;
const HOST = 'metrics-host';
const PROJECT = 'metrics-private-project';

let db: TestDatabase;
let services: Running;
let server: ApiServer;
let base: string;
let agent: DataplaneAgent | undefined;
let config: Partial<AgentConfig>;
let stateDir = '';
let admin = '';
let tenant = '';
const exec = new CommandRunner();
const subscription = new AbortController();

function gql(token: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  return fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  })
    .then((r) => r.json() as Promise<{ data: any }>)
    .then((b) => b.data);
}

/** Each series of a Prometheus exposition, by its name and labels. */
function series(text: string): Map<string, number> {
  return new Map(
    text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => {
        const i = l.lastIndexOf(' ');
        return [l.slice(0, i), Number(l.slice(i + 1))] as const;
      }),
  );
}

const scrape = async () => (await fetch(`${base}/metrics`)).text();

beforeAll(async () => {
  db = await createTestDatabase();
  services = await startServices(
    loadConfig({ ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'warn' }),
    createLogger('warn', { pretty: false }),
    { poolSize: 7 },
  );
  server = createApiServer(services);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const a = await issueToken(services, { project: 'admin', role: 'admin' });
  const t = await issueToken(services, { project: PROJECT, role: 'member' });
  if (!a.ok || !t.ok) throw new Error('could not issue tokens');
  admin = a.secret;
  tenant = t.secret;
  if (root) {
    await requireHostTools();
    stateDir = await mkdtemp(join(tmpdir(), prefix));
    config = { namespacePrefix: prefix, hostNamespace: `${prefix}host`, stateDir };
    // The agent shares the server's services, as serve's local agent does.
    agent = new DataplaneAgent(services, { host: HOST, config, periodicResync: false });
    // Observed before it starts, as serve's local agent is: its first passes count too.
    server.metrics!.observeAgent(agent);
    await agent.start();
  }
}, 180_000);

afterAll(async () => {
  subscription.abort();
  await agent?.stop().catch(() => undefined);
  if (config) await wipeHost(exec, agentConfig(config));
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await services?.stop();
  await db?.drop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
  if (root) expect(await namespacesWithPrefix(prefix)).toEqual([]);
});

describe('operator metrics', () => {
  it("shows the database pool and every consumer's lag, with no secrets", async () => {
    // A live subscription: the process's follower becomes a consumer.
    const events = sseSubscribe(`${base}/graphql`, admin, 'subscription { events { __typename } }', {}, subscription.signal);
    const first = events.next();
    const net = await gql(tenant, CREATE_NETWORK, { input: { name: 'metrics-secret-net' } });
    const networkId = net.createNetwork.network.uuid as string;
    await gql(tenant, CREATE_SUBNET, { input: { networkId, ipVersion: 4, cidr: '10.77.0.0/24' } });
    await first;

    const settled = await until(
      'every consumer caught up',
      async () => {
        const m = series(await scrape());
        const lag = (c: string) => m.get(`netledger_consumer_lag_events{consumer="${c}"}`);
        const caught = lag('projections') === 0 && lag('seal') === 0 && lag('subscriptions') === 0 && (!root || lag(`agent:${HOST}`) === 0);
        return caught && m;
      },
      120_000,
    );
    expect(settled.get('netledger_db_pool_max')).toBe(7);
    // The scrape's own query is one active connection; the pool's LISTEN connection is the one beyond max.
    expect(settled.get('netledger_db_pool_connections{state="active"}')).toBeGreaterThanOrEqual(1);
    expect(
      settled.get('netledger_db_pool_connections{state="active"}')! + settled.get('netledger_db_pool_connections{state="idle"}')!,
    ).toBeLessThanOrEqual(7 + 1);
    expect(settled.has('netledger_db_pool_connections{state="idle in transaction"}')).toBe(true);

    const text = await scrape();
    for (const secret of [admin, tenant, PROJECT, 'metrics-secret-net', '10.77.0.0']) expect(text).not.toContain(secret);
  });

  it.skipIf(!root)("reports the local agent's passes: how many, how long the last took, its commands", async () => {
    const m = await until(
      'a pass counted',
      async () => {
        const s = series(await scrape());
        return (s.get(`netledger_agent_passes_total{host="${HOST}"}`) ?? 0) >= 1 && s;
      },
      120_000,
    );
    expect(m.get(`netledger_agent_last_pass_seconds{host="${HOST}"}`)).toBeGreaterThan(0);
    expect(m.get(`netledger_agent_last_pass_commands{host="${HOST}"}`)).toBeGreaterThanOrEqual(0);
    expect(m.get(`netledger_agent_last_pass_mutations{host="${HOST}"}`)).toBeGreaterThanOrEqual(0);
    const before = m.get(`netledger_agent_passes_total{host="${HOST}"}`)!;
    await gql(tenant, CREATE_NETWORK, { input: { name: 'one-more' } });
    await until(
      'another pass counted',
      async () => (series(await scrape()).get(`netledger_agent_passes_total{host="${HOST}"}`) ?? 0) > before,
      120_000,
    );
  });

  it.skipIf(!root)('observes each reconcile pass (duration, commands) and counts daemon starts, a restart after a crash too', async () => {
    const count = (m: Map<string, number>, name: string) => m.get(`${name}{host="${HOST}"}`) ?? 0;
    const starts = (m: Map<string, number>, daemon: string) =>
      m.get(`netledger_agent_daemon_starts_total{host="${HOST}",daemon="${daemon}"}`);
    const first = series(await scrape());
    for (const daemon of ['haproxy', 'dnsmasq', 'keepalived', 'radvd', 'charon'])
      expect(starts(first, daemon), daemon).toBeGreaterThanOrEqual(0);
    const passesBefore = count(first, 'netledger_agent_pass_duration_seconds_count');
    expect(passesBefore).toBeGreaterThan(0);
    expect(count(first, 'netledger_agent_pass_commands_count')).toBe(passesBefore);
    expect(count(first, 'netledger_agent_pass_commands_sum')).toBeGreaterThan(0);

    // A served network: the agent starts its dnsmasq.
    const net = await gql(tenant, CREATE_NETWORK, { input: { name: 'restarts' } });
    const networkId = net.createNetwork.network.uuid as string;
    await gql(tenant, CREATE_SUBNET, { input: { networkId, ipVersion: 4, cidr: '10.78.0.0/24' } });
    const pidFile = `${dhcpDir(agentConfig(config), networkId)}/pid`;
    const pid = await until(
      'dnsmasq running',
      async () => {
        const p = await readPidFile(pidFile);
        return p !== null && isAlive(p) && p;
      },
      120_000,
    );
    // The start is counted when it happens, the pass when it ends: wait for both.
    const started = await until(
      'its start and its pass counted',
      async () => {
        const m = series(await scrape());
        return (starts(m, 'dnsmasq') ?? 0) >= 1 && count(m, 'netledger_agent_pass_duration_seconds_count') > passesBefore && m;
      },
      120_000,
    );

    // It dies; the next change to its network (a port: a new DHCP host entry) finds it dead and starts it again.
    const before = starts(started, 'dnsmasq')!;
    process.kill(pid, 'SIGKILL');
    // A zombie (nobody reaps it in a container) has no command line: gone all the same.
    await until('the crashed dnsmasq is gone', async () => !isAlive(pid) || (await processArgs(pid)) === null, 30_000);
    const port = await gql(tenant, CREATE_PORT, { input: { networkId } });
    expect(port.createPort.__typename).toBe('CreatePortSuccess');
    await until(
      'a new dnsmasq running',
      async () => {
        const p = await readPidFile(pidFile);
        return p !== null && p !== pid && (await processArgs(p))?.[0]?.endsWith('dnsmasq');
      },
      120_000,
    );
    await until('the restart counted', async () => (starts(series(await scrape()), 'dnsmasq') ?? 0) > before, 30_000);
  });

  it.skipIf(!root)('netledger <resource> create --wait returns once the live agent has applied the change', async () => {
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [join(process.cwd(), 'bin/netledger.mjs'), 'network', 'create', 'waited', '--wait', '-f', 'value', '-c', 'name'],
        {
          env: { ...process.env, NETLEDGER_URL: `${base}/graphql`, NETLEDGER_TOKEN: tenant },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('waited\n');
  });
});
