/**
 * Load balancers on a real kernel (root): how long a member change takes to be served by HAProxy,
 * and requests/s through one VIP to three members beside the same load sent straight to the
 * members. All traffic stays inside this run's namespaces. The lab is test/support/lb-lab.ts.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { CommandRunner } from '../src/agent/exec.js';
import { createExternalHost, plugInstance } from '../src/agent/lab.js';
import { isAlive, terminate } from '../src/agent/procs.js';
import { Reconciler } from '../src/agent/reconciler.js';
import { wipeHost } from '../src/agent/wipe.js';
import { compileHostState, type TopologyLoadBalancer } from '../src/projections/desired-state/index.js';
import { HOST } from '../test/agent/fixtures.js';
import { LISTENER_PORT, MEMBER_PORT, lbLab, lbTopology, serverStatuses, withPool, type Process } from '../test/support/lb-lab.js';
import { fmt, percentile } from './stats.js';

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
  const r = await execa(
    'ip',
    ['netns', 'exec', ns, process.execPath, '-e', LOAD_CLIENT, targets.join(','), String(concurrency), String(ms)],
    { timeout: ms + 30_000 },
  );
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
  const desire = (lb: TopologyLoadBalancer) =>
    agent.setDesired(compileHostState(lbTopology(lab, { ...lb, generation: ++generation }), HOST, config));
  try {
    desire(lab.lb);
    await agent.converge();
    if (agent.pendingKeys.length > 0) throw new Error(`lab did not converge: ${JSON.stringify([...agent.failures()])}`);
    const client = await createExternalHost(agent.exec, agent.config, {
      name: 'client',
      networkId: lab.s.net.id,
      address: `10.40.1.50/24`,
    });
    for (const m of lab.members) {
      const inst = await plugInstance(agent.exec, agent.config, { portId: m.port.id, networkId: lab.s.net.id, mac: m.port.macAddress });
      const child = spawn('ip', ['netns', 'exec', inst.namespace, process.execPath, '-e', NODE_MEMBER, m.name, String(MEMBER_PORT)], {
        stdio: 'ignore',
      });
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
      rows.push(
        `| concurrency ${c} | ${fmt(through.done / through.seconds, 0)} (p50 ${fmt(through.p50, 2)} ms, p99 ${fmt(through.p99, 2)} ms, ${through.failed} failed) | ${fmt(straight.done / straight.seconds, 0)} (p50 ${fmt(straight.p50, 2)} ms, p99 ${fmt(straight.p99, 2)} ms, ${straight.failed} failed) |`,
      );
    }
    console.log('\n## Load balancers (HAProxy 2.6, master-worker, one VIP, three members)');
    console.log('| measure | p50 ms | p99 ms | samples |');
    console.log('|---|---|---|---|');
    console.log(
      `| member added/removed → HAProxy serves the new set (compile, pass with \`haproxy -c\` + master reload) | ${fmt(percentile(samples, 50))} | ${fmt(percentile(samples, 99))} | ${samples.length} |`,
    );
    console.log('\n| keep-alive HTTP load, 3 s | through the VIP (req/s) | straight to the members (req/s) |');
    console.log('|---|---|---|');
    for (const r of rows) console.log(r);
  } finally {
    for (const p of procs) await p.stop().catch(() => undefined);
    await wipeHost(new CommandRunner(), agent.config);
    await rm(stateDir, { recursive: true, force: true });
  }
}
