/**
 * Load balancers on a real kernel (root): how long a member change takes to be served by HAProxy,
 * and requests/s through one VIP to three members beside the same load sent straight to the
 * members. All traffic stays inside this run's namespaces. The lab helpers are shared with
 * test/agent/haproxy.e2e.test.ts.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { haproxySocketCommand } from '../src/agent/drivers/haproxy.js';
import { CommandRunner } from '../src/agent/exec.js';
import { createExternalHost, plugInstance } from '../src/agent/lab.js';
import { isAlive, terminate } from '../src/agent/procs.js';
import { Reconciler } from '../src/agent/reconciler.js';
import { wipeHost } from '../src/agent/wipe.js';
import { parseShowStat } from '../src/agent/lb-health.js';
import {
  haproxyPaths,
  lbaasDir,
} from '../src/projections/desired-state/haproxy.js';
import type { TopologyListener, TopologyLoadBalancer, TopologyMember, TopologyPool } from '../src/projections/desired-state/topology.js';
import { compileHostState, type Topology, type TopologyPort } from '../src/projections/desired-state/index.js';
import { HOST, port, scenario, type Scenario } from '../test/agent/fixtures.js';
import { fmt, percentile } from './stats.js';

export const MEMBER_PORT = 8080;
export const LISTENER_PORT = 80;

// A member answers its own name; `/slow/N` streams N lines, one every 100 ms (for reload tests).
const MEMBER_SERVER = `
import http.server, sys, time
name, port = sys.argv[1], int(sys.argv[2])
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.0'
    def do_GET(self):
        if self.path.startswith('/slow/'):
            self.send_response(200); self.send_header('Content-Type', 'text/plain'); self.end_headers()
            for i in range(int(self.path.split('/')[2])):
                self.wfile.write(('%s %d\\n' % (name, i)).encode()); self.wfile.flush(); time.sleep(0.1)
            return
        body = name.encode()
        self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_HEAD(self):
        self.send_response(200); self.end_headers()
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(('0.0.0.0', port), H).serve_forever()
`;

// Sequential requests, a new connection each (so every one is balanced); optional cookie jar.
const CLIENT = `
import http.client, json, sys
host, port, n, jar, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == '1', sys.argv[5]
out, cookie = [], None
for i in range(n):
    try:
        c = http.client.HTTPConnection(host, port, timeout=3)
        c.request('GET', path, headers={'Cookie': cookie} if cookie else {})
        r = c.getresponse(); body = r.read().decode()
        sc = r.getheader('Set-Cookie')
        if jar and sc and not cookie: cookie = sc.split(';')[0]
        out.append(body if r.status == 200 else '!%d' % r.status)
        c.close()
    except Exception as e:
        out.append('!' + type(e).__name__)
print(json.dumps(out))
`;

export interface Process {
  readonly pid: number;
  stop(): Promise<void>;
}

/** Starts a member's HTTP server in `ns` (by PID, stopped by PID) and waits until it answers. */
export async function startMember(ns: string, name: string, listenPort = MEMBER_PORT): Promise<Process> {
  const child = spawn('ip', ['netns', 'exec', ns, 'python3', '-u', '-c', MEMBER_SERVER, name, String(listenPort)], { stdio: 'ignore' });
  const pid = child.pid;
  if (pid === undefined) throw new Error('member server did not start');
  child.unref();
  for (let i = 0; i < 50; i++) {
    const r = await execa('ip', ['netns', 'exec', ns, 'curl', '-s', '--max-time', '1', `http://127.0.0.1:${listenPort}/`], { reject: false });
    if (r.exitCode === 0) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  return { pid, stop: async () => (isAlive(pid) ? terminate(pid) : undefined) };
}

/** `n` GETs from namespace `ns`: response bodies, or `!<error>` for failures. */
export async function httpGets(ns: string, host: string, n: number, opts: { port?: number; cookies?: boolean; path?: string } = {}): Promise<string[]> {
  const r = await execa('ip', ['netns', 'exec', ns, 'python3', '-c', CLIENT, host, String(opts.port ?? LISTENER_PORT), String(n), opts.cookies ? '1' : '0', opts.path ?? '/'], {
    reject: false,
    timeout: 60_000,
  });
  if (r.exitCode !== 0) throw new Error(`client failed: ${String(r.stderr)}`);
  return JSON.parse(String(r.stdout)) as string[];
}

export function tally(bodies: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const b of bodies) out[b] = (out[b] ?? 0) + 1;
  return out;
}

/** Server rows of `show stat`: member id → status. */
export async function serverStatuses(stateDir: string, loadBalancerId: string): Promise<Map<string, string>> {
  const csv = await haproxySocketCommand(haproxyPaths(lbaasDir({ stateDir }, loadBalancerId)).stats, 'show stat -1 4 -1');
  return new Map(parseShowStat(csv).map((r) => [r.server, r.status]));
}

export interface LbLab {
  readonly s: Scenario;
  /** Member instances m1..m4 (m4 starts outside the pool). */
  readonly members: readonly { readonly name: string; readonly port: TopologyPort; readonly member: TopologyMember }[];
  readonly vip: TopologyPort;
  readonly lb: TopologyLoadBalancer;
}

/** The dataplane scenario (tenant network, router, external network) plus four instance ports, a VIP and a load balancer. */
export function lbLab(octet: number): LbLab {
  const s = scenario(octet);
  const extra = [13, 14].map((h) => port(s.net, `10.${octet}.1.${h}`, 'compute:nova'));
  const vip = port(s.net, `10.${octet}.1.100`, 'Octavia', { host: null });
  const members = [s.vm1, s.vm2, ...extra].map((p, i) => ({
    name: `m${i + 1}`,
    port: p,
    member: {
      id: randomUUID(),
      adminStateUp: true,
      address: p.fixedIps[0]?.ipAddress ?? '',
      protocolPort: MEMBER_PORT,
      weight: 1,
      backup: false,
      monitorAddress: null,
      monitorPort: null,
    },
  }));
  const pool: TopologyPool = {
    id: randomUUID(),
    adminStateUp: true,
    protocol: 'HTTP',
    lbAlgorithm: 'ROUND_ROBIN',
    sessionPersistence: null,
    members: members.slice(0, 3).map((m) => m.member),
    healthMonitor: null,
  };
  const listener: TopologyListener = {
    id: randomUUID(),
    adminStateUp: true,
    protocol: 'HTTP',
    protocolPort: LISTENER_PORT,
    connectionLimit: -1,
    timeoutClientData: 50000,
    timeoutMemberConnect: 5000,
    timeoutMemberData: 50000,
    timeoutTcpInspect: 0,
    defaultPoolId: pool.id,
  };
  const lb: TopologyLoadBalancer = {
    id: randomUUID(),
    adminStateUp: true,
    vipPortId: vip.id,
    vipAddress: vip.fixedIps[0]?.ipAddress ?? '',
    generation: 1,
    listeners: [listener],
    pools: [pool],
  };
  return { s, members, vip, lb };
}

/** The lab's topology with `lb` (and the floating IP on the VIP when `fip`). */
export function lbTopology(lab: LbLab, lb: TopologyLoadBalancer | null, fip = false): Topology {
  const t = lab.s.topology;
  return {
    ...t,
    ports: [...t.ports, ...lab.members.slice(2).map((m) => m.port), lab.vip],
    floatingIps: [fip ? { ...lab.s.fip, fixedIpAddress: lb?.vipAddress ?? null, portId: lab.vip.id, routerId: lab.s.router.id } : lab.s.fip],
    loadBalancers: lb ? [lb] : [],
  };
}

/** `lb` with its only pool changed by `change`. */
export function withPool(lb: TopologyLoadBalancer, change: (p: TopologyPool) => TopologyPool): TopologyLoadBalancer {
  return { ...lb, pools: lb.pools.map(change) };
}

// ---- the benchmark ---------------------------------------------------------------------------------

// Keep-alive HTTP load for a fixed time from `concurrency` workers over `targets` (host:port), round robin.
const LOAD_CLIENT = `
const http = require('http');
const [targets, concurrency, ms] = [process.argv[1].split(','), Number(process.argv[2]), Number(process.argv[3])];
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
let done = 0, failed = 0, next = 0; const end = Date.now() + ms; const lat = [];
function one() {
  return new Promise((resolve) => {
    const [host, port] = targets[next++ % targets.length].split(':'); const t = process.hrtime.bigint();
    const req = http.get({ host, port, path: '/', agent }, (res) => { res.resume(); res.on('end', () => { done++; lat.push(Number(process.hrtime.bigint() - t) / 1e6); resolve(); }); });
    req.on('error', () => { failed++; resolve(); });
  });
}
(async () => {
  const start = Date.now();
  await Promise.all(Array.from({ length: concurrency }, async () => { while (Date.now() < end) await one(); }));
  lat.sort((a, b) => a - b);
  console.log(JSON.stringify({ done, failed, seconds: (Date.now() - start) / 1000, p50: lat[Math.floor(lat.length / 2)] ?? 0, p99: lat[Math.floor(lat.length * 0.99)] ?? 0 }));
})();
`;

// Node member: faster than python's http.server, so the proxy, not the member, is measured.
const NODE_MEMBER = `require('http').createServer((q, s) => s.end(process.argv[1])).listen(Number(process.argv[2]), '0.0.0.0');`;

async function loadFrom(ns: string, targets: readonly string[], concurrency: number, ms: number) {
  const r = await execa('ip', ['netns', 'exec', ns, process.execPath, '-e', LOAD_CLIENT, targets.join(','), String(concurrency), String(ms)], { timeout: ms + 30_000 });
  return JSON.parse(String(r.stdout)) as { done: number; failed: number; seconds: number; p50: number; p99: number };
}

export async function haproxyBench(_url: string): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('\n## Load balancers (HAProxy): skipped, needs root');
    return;
  }
  const prefix = `nlb${randomBytes(3).toString('hex')}-`;
  const stateDir = await mkdtemp(join(tmpdir(), prefix));
  const config = { namespacePrefix: prefix, hostNamespace: `${prefix}host`, stateDir };
  const agent = new Reconciler({ config });
  const lab = lbLab(40);
  const procs: Process[] = [];
  let generation = 1;
  const desire = (lb: TopologyLoadBalancer) => agent.setDesired(compileHostState(lbTopology(lab, { ...lb, generation: ++generation }), HOST, config));
  try {
    desire(lab.lb);
    await agent.converge();
    if (agent.pendingKeys.length > 0) throw new Error(`lab did not converge: ${JSON.stringify([...agent.failures()])}`);
    const client = await createExternalHost(agent.exec, agent.config, { name: 'client', networkId: lab.s.net.id, address: `10.40.1.50/24` });
    for (const m of lab.members) {
      const inst = await plugInstance(agent.exec, agent.config, { portId: m.port.id, networkId: lab.s.net.id, mac: m.port.macAddress });
      const child = spawn('ip', ['netns', 'exec', inst.namespace, process.execPath, '-e', NODE_MEMBER, m.name, String(MEMBER_PORT)], { stdio: 'ignore' });
      child.unref();
      const pid = child.pid;
      if (pid !== undefined) procs.push({ pid, stop: async () => (isAlive(pid) ? terminate(pid) : undefined) });
    }
    await new Promise((r) => setTimeout(r, 500));

    // Member change → served: toggle m4 in and out of the pool; time from setDesired until HAProxy's stats list the new set.
    const samples: number[] = [];
    const m4 = lab.members[3]!.member;
    for (let i = 0; i < 20; i++) {
      const adding = i % 2 === 0;
      const lb = withPool(lab.lb, (p) => ({ ...p, members: adding ? [...p.members, m4] : p.members }));
      const t = performance.now();
      desire(lb);
      await agent.runPass();
      for (let k = 0; k < 200; k++) {
        const servers = await serverStatuses(stateDir, lab.lb.id).catch(() => new Map<string, string>());
        if (servers.has(m4.id) === adding) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      samples.push(performance.now() - t);
    }
    samples.sort((a, b) => a - b);

    const vip = lab.lb.vipAddress;
    const direct = lab.members.slice(0, 3).map((m) => `${m.member.address}:${MEMBER_PORT}`);
    const rows: string[] = [];
    for (const c of [1, 16]) {
      const through = await loadFrom(client, [`${vip}:${LISTENER_PORT}`], c, 3000);
      const straight = await loadFrom(client, direct, c, 3000);
      rows.push(`| concurrency ${c} | ${fmt(through.done / through.seconds, 0)} (p50 ${fmt(through.p50, 2)} ms, p99 ${fmt(through.p99, 2)} ms, ${through.failed} failed) | ${fmt(straight.done / straight.seconds, 0)} (p50 ${fmt(straight.p50, 2)} ms, p99 ${fmt(straight.p99, 2)} ms, ${straight.failed} failed) |`);
    }
    console.log('\n## Load balancers (HAProxy 2.6, master-worker, one VIP, three members)');
    console.log('| measure | p50 ms | p99 ms | samples |');
    console.log('|---|---|---|---|');
    console.log(`| member added/removed → HAProxy serves the new set (compile, pass with \`haproxy -c\` + master reload) | ${fmt(percentile(samples, 50))} | ${fmt(percentile(samples, 99))} | ${samples.length} |`);
    console.log('\n| keep-alive HTTP load, 3 s | through the VIP (req/s) | straight to the members (req/s) |');
    console.log('|---|---|---|');
    for (const r of rows) console.log(r);
  } finally {
    for (const p of procs) await p.stop().catch(() => undefined);
    await wipeHost(new CommandRunner(), agent.config);
    await rm(stateDir, { recursive: true, force: true });
  }
}
