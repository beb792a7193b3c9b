import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haproxySocketCommand, parseShowProc } from '../../src/agent/drivers/haproxy.js';
import { CommandRunner } from '../../src/agent/exec.js';
import { createExternalHost, plugInstance } from '../../src/agent/lab.js';
import { isAlive, readPidFile, terminate } from '../../src/agent/procs.js';
import { Reconciler, type PassReport } from '../../src/agent/reconciler.js';
import { wipeHost } from '../../src/agent/wipe.js';
import { LoadBalancerHealthReporter, type HealthReport, type LoadBalancerStatusSink } from '../../src/agent/lb-health.js';
import type { MemberHealth } from '../../src/domain/loadbalancer/index.js';
import { haproxyPaths, lbaasDir, lbaasNamespace } from '../../src/projections/desired-state/haproxy.js';
import type { TopologyLoadBalancer } from '../../src/projections/desired-state/topology.js';
import { compileHostState, type HostState } from '../../src/projections/desired-state/index.js';
import { httpGets, lbLab, lbTopology, startMember, tally, withPool, type Process } from '../support/lb-lab.js';
import { HOST, runPrefix } from './fixtures.js';
import { hasTool, namespacesWithPrefix, requireHostTools } from './netns-tools.js';

// Real kernel, real packets, real HAProxy: a qlbaas namespace with the VIP on the tenant bridge,
// three (then four) instances with HTTP servers as members, a client namespace on the tenant
// network and an external host behind the router's floating IP. Everything carries this run's
// prefix; afterAll removes it and stops only the processes this file started (by PID).
const prefix = runPrefix();
const OCTET = 31;
const lab = lbLab(OCTET);
const VIP = lab.lb.vipAddress;
const FIP = '203.0.113.20';
const CLIENT_IP = `10.${OCTET}.1.50`;
const memberAt = (i: number) => lab.members[i]!.member;
const [m1, m2, m3, m4] = [memberAt(0), memberAt(1), memberAt(2), memberAt(3)];

let stateDir = '';
let config: { namespacePrefix: string; hostNamespace: string; stateDir: string };
let agent: Reconciler;
let client = '';
let extNs = '';
let generation = 1;
let current: TopologyLoadBalancer = lab.lb;
let fip = false;
let desired: HostState | null = null;
const servers = new Map<string, Process>();
const instanceNs = new Map<string, string>();

// What the health reader would send to the control plane.
const sent: HealthReport[] = [];
const health = new Map<string, MemberHealth>();
const sink: LoadBalancerStatusSink = {
  applied: async () => undefined,
  applyFailed: async () => undefined,
  memberHealth: async (_lb, member, status) => void health.set(member, status),
  removed: async () => undefined,
};
const reporter = new LoadBalancerHealthReporter({ sink, desired: () => desired, failures: () => agent.failures() });
const poll = async (): Promise<HealthReport[]> => {
  const r = await reporter.poll();
  sent.push(...r);
  return r;
};

function desire(lb: TopologyLoadBalancer, withFip = fip): void {
  current = { ...lb, generation: ++generation };
  fip = withFip;
  desired = compileHostState(lbTopology(lab, current, fip), HOST, config);
  agent.setDesired(desired);
}

function expectClean(report: PassReport): void {
  expect(report.keys.filter((k) => k.status === 'failed')).toEqual([]);
}

async function fullPass(): Promise<PassReport> {
  await agent.resync();
  return agent.runPass();
}

const paths = () => haproxyPaths(lbaasDir({ stateDir }, lab.lb.id));
const workers = async () => parseShowProc(await haproxySocketCommand(paths().master, 'show proc'))?.workers ?? [];

async function until<T>(probe: () => Promise<T | null>, timeoutMs: number, stepMs = 100): Promise<T | null> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > end) return null;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

beforeAll(async () => {
  await requireHostTools();
  if (!(await hasTool('haproxy'))) throw new Error('haproxy missing: apt-get install -y haproxy');
  stateDir = await mkdtemp(join(tmpdir(), prefix));
  config = { namespacePrefix: prefix, hostNamespace: `${prefix}host`, stateDir };
  agent = new Reconciler({ config });
  desire(lab.lb);
  await agent.converge();
  expect(agent.failures()).toEqual(new Map());
  expect(agent.pendingKeys).toEqual([]);
  client = await createExternalHost(agent.exec, agent.config, { name: 'client', networkId: lab.s.net.id, address: `${CLIENT_IP}/24` });
  extNs = await createExternalHost(agent.exec, agent.config, { name: 'inet', networkId: lab.s.ext.id, address: '203.0.113.1/24' });
  for (const m of lab.members) {
    const inst = await plugInstance(agent.exec, agent.config, { portId: m.port.id, networkId: lab.s.net.id, mac: m.port.macAddress });
    expect(inst.lease.ip).toBe(m.member.address);
    instanceNs.set(m.name, inst.namespace);
    servers.set(m.name, await startMember(inst.namespace, m.name));
  }
}, 120_000);

afterAll(async () => {
  for (const p of servers.values()) await p.stop().catch(() => undefined);
  if (config) await wipeHost(new CommandRunner(), { ...agent.config });
  const left = await namespacesWithPrefix(prefix);
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
  expect(left).toEqual([]);
});

describe('load balancers on a real kernel with HAProxy', () => {
  it('(0) the qlbaas namespace holds the VIP with a default route; a second pass changes nothing', async () => {
    const ns = lbaasNamespace(config, lab.lb.id);
    const addr = await execa('ip', ['-n', ns, '-br', 'addr']);
    expect(String(addr.stdout)).toContain(`${VIP}/24`);
    const route = await execa('ip', ['-n', ns, 'route', 'show', 'default']);
    expect(String(route.stdout)).toContain(`via 10.${OCTET}.1.1`);
    expect(await readFile(paths().generation, 'utf8')).toBe(`${generation}\n`);
    const again = await fullPass();
    expect(again.mutations).toBe(0);
    expect(again.keys.every((k) => k.status === 'converged')).toBe(true);
  });

  it('(1) 30 requests to the VIP reach all three members round robin; weights 1:2:1 shift the share', async () => {
    const even = tally(await httpGets(client, VIP, 30));
    expect(even).toEqual({ m1: 10, m2: 10, m3: 10 });

    desire(withPool(current, (p) => ({ ...p, members: p.members.map((m) => (m.id === m2.id ? { ...m, weight: 2 } : m)) })));
    expectClean(await agent.runPass());
    const weighted = tally(await httpGets(client, VIP, 40));
    expect(weighted['m2']).toBeGreaterThanOrEqual(18);
    expect(weighted['m2']).toBeLessThanOrEqual(22);
    expect((weighted['m1'] ?? 0) + (weighted['m3'] ?? 0)).toBe(40 - (weighted['m2'] ?? 0));
    desire(withPool(current, (p) => ({ ...p, members: p.members.map((m) => ({ ...m, weight: 1 })) })));
    expectClean(await agent.runPass());
  });

  it('(2) HTTP monitor: a stopped member is marked down within delay x fall, nothing fails after, and it comes back', async () => {
    const delay = 1;
    const fall = 2;
    const rise = 2;
    desire(
      withPool(current, (p) => ({
        ...p,
        healthMonitor: {
          id: 'hm-1',
          adminStateUp: true,
          type: 'HTTP',
          delay,
          timeout: 1,
          maxRetries: rise,
          maxRetriesDown: fall,
          httpMethod: 'GET',
          urlPath: '/',
          expectedCodes: '200',
        },
      })),
    );
    expectClean(await agent.runPass());
    const allUp = await until(async () => {
      await poll();
      return [m1, m2, m3].every((m) => health.get(m.id) === 'ONLINE') ? true : null;
    }, 10_000);
    expect(allUp).toBe(true);

    await servers.get('m3')?.stop();
    const stoppedAt = Date.now();
    const down = await until(
      async () => {
        await poll();
        return health.get(m3.id) === 'ERROR' ? Date.now() - stoppedAt : null;
      },
      10_000,
      50,
    );
    expect(down).not.toBeNull();
    // HAProxy's own timers: delay x fall, plus one check interval of phase; the slack is for our
    // reader on a loaded machine, not for HAProxy.
    expect(down).toBeLessThanOrEqual((delay * fall + delay) * 1000 + 3000);
    console.log(`member marked down ${down} ms after its server stopped (delay ${delay}s x fall ${fall})`);
    const after = await httpGets(client, VIP, 30);
    expect(after.filter((b) => b.startsWith('!'))).toEqual([]);
    expect(tally(after)).toEqual({ m1: 15, m2: 15 });
    expect(sent.some((r) => r.kind === 'memberHealth' && r.memberId === m3.id && r.status === 'ERROR')).toBe(true);

    servers.set('m3', await startMember(instanceNs.get('m3') ?? '', 'm3'));
    const back = await until(
      async () => {
        await poll();
        return health.get(m3.id) === 'ONLINE' ? true : null;
      },
      (delay * rise + 3) * 1000,
      50,
    );
    expect(back).toBe(true);
    expect(new Set(await httpGets(client, VIP, 9))).toEqual(new Set(['m1', 'm2', 'm3']));
    // Only changes are reported: another poll with nothing new sends no member health.
    expect((await poll()).filter((r) => r.kind === 'memberHealth')).toEqual([]);
  });

  it('(3) SOURCE_IP persistence keeps one client on one member; HTTP_COOKIE persistence follows the cookie', async () => {
    desire(withPool(current, (p) => ({ ...p, sessionPersistence: { type: 'SOURCE_IP', cookieName: null } })));
    expectClean(await agent.runPass());
    const sticky = await httpGets(client, VIP, 20);
    expect(new Set(sticky).size).toBe(1);
    expect(sticky[0]).toMatch(/^m[123]$/);

    desire(withPool(current, (p) => ({ ...p, sessionPersistence: { type: 'HTTP_COOKIE', cookieName: null } })));
    expectClean(await agent.runPass());
    const withCookie = await httpGets(client, VIP, 20, { cookies: true });
    expect(new Set(withCookie).size).toBe(1);
    const withoutCookie = await httpGets(client, VIP, 9);
    expect(new Set(withoutCookie)).toEqual(new Set(['m1', 'm2', 'm3']));
    const headers = await execa('ip', ['netns', 'exec', client, 'curl', '-s', '-D', '-', '-o', '/dev/null', `http://${VIP}/`]);
    expect(String(headers.stdout)).toMatch(/Set-Cookie: SRV=[0-9a-f-]{36}/i);

    desire(withPool(current, (p) => ({ ...p, sessionPersistence: null })));
    expectClean(await agent.runPass());
  });

  it('(4) an established streaming connection survives adding and removing a member (seamless reloads)', async () => {
    const before = await workers();
    const stream = spawn('ip', ['netns', 'exec', client, 'curl', '-s', '-N', '--max-time', '150', `http://${VIP}/slow/40`], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let body = '';
    stream.stdout.on('data', (d: Buffer) => (body += d.toString()));
    const exited = new Promise<number | null>((resolve) => stream.once('exit', (code) => resolve(code)));
    await until(async () => (body.length > 0 ? true : null), 30_000, 20);

    desire(withPool(current, (p) => ({ ...p, members: [...p.members, m4] })));
    expectClean(await agent.runPass());
    const mid = await workers();
    expect(mid.some((w) => !before.includes(w))).toBe(true);
    expect(new Set(await httpGets(client, VIP, 12))).toEqual(new Set(['m1', 'm2', 'm3', 'm4']));

    desire(withPool(current, (p) => ({ ...p, members: p.members.filter((m) => m.id !== m4.id) })));
    expectClean(await agent.runPass());
    expect(new Set(await httpGets(client, VIP, 9))).toEqual(new Set(['m1', 'm2', 'm3']));
    expect(body.length).toBeGreaterThan(0);

    expect(await exited).toBe(0);
    const lines = body.trim().split('\n');
    expect(lines).toHaveLength(40);
    const member = lines[0]?.split(' ')[0];
    expect(lines).toEqual(Array.from({ length: 40 }, (_, i) => `${member} ${i}`));
  }, 180_000);

  it('(5) the external host reaches the pool through a floating IP on the VIP', async () => {
    desire(current, true);
    expectClean(await agent.runPass());
    const bodies = await httpGets(extNs, FIP, 9);
    expect(tally(bodies)).toEqual({ m1: 3, m2: 3, m3: 3 });
  });

  it('(6) a killed HAProxy and a deleted namespace are each repaired by one pass', async () => {
    const pid = await readPidFile(paths().pid);
    expect(pid).not.toBeNull();
    process.kill(pid ?? 0, 'SIGKILL');
    await until(async () => (isAlive(pid ?? 0) ? null : true), 2000, 20);
    const repaired = await fullPass();
    expectClean(repaired);
    expect(repaired.keys.find((k) => k.key === `lb:${lab.lb.id}`)?.status).toBe('repaired');
    expect(tally(await httpGets(client, VIP, 9))).toEqual({ m1: 3, m2: 3, m3: 3 });

    await execa('ip', ['netns', 'del', lbaasNamespace(config, lab.lb.id)]);
    const rebuilt = await fullPass();
    expectClean(rebuilt);
    expect(rebuilt.keys.find((k) => k.key === `lb:${lab.lb.id}`)?.status).toBe('repaired');
    expect(tally(await httpGets(client, VIP, 9))).toEqual({ m1: 3, m2: 3, m3: 3 });
    expect(tally(await httpGets(extNs, FIP, 3))).toEqual({ m1: 1, m2: 1, m3: 1 });
    expect((await fullPass()).mutations).toBe(0);
  });

  it('(7) a configuration HAProxy rejects fails the apply with its message and leaves the running one serving', async () => {
    await poll();
    const good = current;
    const bad = withPool(current, (p) => ({ ...p, members: [...p.members, { ...m4, address: 'no-such-host.invalid' }] }));
    desire(bad);
    const badGeneration = generation;
    const report = await agent.runPass();
    const key = report.keys.find((k) => k.key === `lb:${lab.lb.id}`);
    expect(key?.status).toBe('failed');
    expect(key?.error).toMatch(/haproxy rejected the configuration: .*no-such-host\.invalid/);
    expect(tally(await httpGets(client, VIP, 9))).toEqual({ m1: 3, m2: 3, m3: 3 });
    const reports = await poll();
    expect(reports).toContainEqual(expect.objectContaining({ kind: 'applyFailed', generation: badGeneration }));

    desire(good);
    await agent.converge(); // waits out the failed key's backoff
    expect(agent.pendingKeys).toEqual([]);
    expect(await poll()).toContainEqual({ kind: 'applied', loadBalancerId: lab.lb.id, generation });
  });

  it('(8) removing the load balancer takes its namespace, HAProxy and files away', async () => {
    const pid = await readPidFile(paths().pid);
    desired = compileHostState(lbTopology(lab, null), HOST, config);
    agent.setDesired(desired);
    expectClean(await agent.runPass());
    expect(await namespacesWithPrefix(lbaasNamespace(config, ''))).toEqual([]);
    expect(isAlive(pid ?? 0) && (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).includes('haproxy')).toBe(false);
    expect(await readFile(paths().config, 'utf8').catch(() => null)).toBeNull();
    expect(await poll()).toContainEqual({ kind: 'removed', loadBalancerId: lab.lb.id });
    if (pid !== null && isAlive(pid)) await terminate(pid);
  });
});
