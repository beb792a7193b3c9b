/**
 * Many hosts (issue 16): simulated agents follow the log as `netledger agent` does (their own
 * subscription, a debounced rebuild from the read model, the compile of their host's desired
 * state, a diff of its units against the last) but build nothing: no namespaces, no commands.
 * 5,000 ports over 500 VXLAN networks, each network's ports on 10 hosts; then port changes, timed
 * from the commit until every agent has compiled past it. `npm run bench -- hosts`;
 * NL_BENCH_AGENTS (default 500,1000), NL_BENCH_NETWORKS, NL_BENCH_PORTS, NL_BENCH_CHANGES scale it.
 *
 * The agents share this one machine (and its cores) with PostgreSQL: the commit-to-every-agent
 * time is the time for this machine to do every host's work, which separate hosts would do side by
 * side. The per-host figures (topology read, compile) are what one host spends on one change.
 */
import { randomUUID } from 'node:crypto';
import { startServices, type Running } from '../src/app/bootstrap.js';
import { issueToken, setQuota } from '../src/app/tenancy.js';
import { createNetwork } from '../src/app/networking/networks.js';
import { createSubnet } from '../src/app/networking/subnets.js';
import { createPort } from '../src/app/networking/ports.js';
import { applyBindings } from '../src/agent/reports.js';
import { planBindings } from '../src/agent/scheduler.js';
import { registerAgent } from '../src/agent/registration.js';
import { logHead } from '../src/agent/applied.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { compileHostState, hostStateUnits, unitFingerprint, type UnitKey } from '../src/projections/desired-state/index.js';
import { buildTopology } from '../src/projections/topology/index.js';
import { comparePositions, decodeCursor, type LogPosition } from '../src/store/cursor.js';
import { subscribe } from '../src/store/subscribe.js';
import { fmt, percentile } from './stats.js';
import { loadAvg } from './scale.js';

const DEBOUNCE_MS = 20;

interface Sample {
  topologyMs: number;
  compileMs: number;
  changedUnits: number;
}

/** One simulated host: follows the log, and on a change reads the topology, compiles and diffs. */
class SimulatedAgent {
  private seen: LogPosition;
  private applied: LogPosition;
  private dirty = false;
  private running: Promise<void> | null = null;
  private units = new Map<UnitKey, string>();
  private waiters: { position: LogPosition; resolve: () => void }[] = [];
  readonly samples: Sample[] = [];

  constructor(
    private readonly s: Running,
    readonly host: string,
    private readonly underlayAddress: string,
    head: LogPosition,
    signal: AbortSignal,
  ) {
    this.seen = head;
    this.applied = head;
    void this.follow(signal);
  }

  private async follow(signal: AbortSignal): Promise<void> {
    try {
      for await (const e of subscribe(this.s.store, this.s.waker, { after: this.seen, signal })) {
        this.seen = e.position;
        this.poke();
      }
    } catch {
      // aborted
    }
  }

  private poke(): void {
    this.dirty = true;
    if (this.running) return;
    this.running = (async () => {
      while (this.dirty) {
        this.dirty = false;
        await new Promise((r) => setTimeout(r, DEBOUNCE_MS));
        await this.round();
      }
      this.running = null;
    })();
  }

  async round(): Promise<void> {
    const target = this.seen;
    const t0 = performance.now();
    const snapshot = await buildTopology(this.s.sql);
    const t1 = performance.now();
    const state = compileHostState(snapshot.topology, this.host, { underlayAddress: this.underlayAddress });
    const next = new Map([...hostStateUnits(state)].map(([k, u]) => [k, unitFingerprint(u)]));
    let changed = 0;
    for (const k of new Set([...next.keys(), ...this.units.keys()])) if (next.get(k) !== this.units.get(k)) changed++;
    this.units = next;
    const t2 = performance.now();
    this.samples.push({ topologyMs: t1 - t0, compileMs: t2 - t1, changedUnits: changed });
    this.applied = target;
    const due = this.waiters.filter((w) => comparePositions(target, w.position) >= 0);
    this.waiters = this.waiters.filter((w) => !due.includes(w));
    for (const w of due) w.resolve();
  }

  whenApplied(position: LogPosition): Promise<void> {
    if (comparePositions(this.applied, position) >= 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ position, resolve }));
  }

  get unitCount(): number {
    return this.units.size;
  }
}

const hostName = (i: number) => `sim-${String(i).padStart(4, '0')}`;
const underlay = (i: number) => `10.200.${i >> 8}.${i & 255}`;

/** Transactions and rows read by the database since `since` (pg_stat_database, this database). */
async function dbStats(s: Running): Promise<{ xacts: number; rows: number }> {
  const [r] = await s.sql<{ xacts: string; rows: string }[]>`select (xact_commit + xact_rollback)::text as xacts, tup_returned::text as rows
    from pg_stat_database where datname = current_database()`;
  return { xacts: Number(r!.xacts), rows: Number(r!.rows) };
}

export async function hostsBench(url: string): Promise<void> {
  const agentCounts = (process.env.NL_BENCH_AGENTS ?? '500,1000').split(',').map(Number);
  const networks = Number(process.env.NL_BENCH_NETWORKS ?? 500);
  const portsTotal = Number(process.env.NL_BENCH_PORTS ?? 5000);
  const changes = Number(process.env.NL_BENCH_CHANGES ?? 5);
  const perNetwork = Math.max(1, Math.round(portsTotal / networks));
  const spread = Math.min(10, perNetwork);
  const base = Math.min(...agentCounts);
  const s = await startServices(
    loadConfig({ ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' }),
    createLogger('warn', { pretty: false }),
    { poolSize: 20 },
  );
  const tok = await issueToken(s, { project: 'bench-hosts', role: 'member' });
  if (!tok.ok) throw new Error(tok.error.message);
  for (const r of ['port', 'network', 'subnet'] as const) await setQuota(s, tok.projectId, r, -1);
  const actor = { projectId: tok.projectId, isAdmin: false };
  const meta = { actor: 'bench' };

  console.log(`\n## Many hosts: ${networks} VXLAN networks, ${networks * perNetwork} ports (each network on ${spread} hosts)`);
  const setupStart = performance.now();
  for (let i = 0; i < Math.max(...agentCounts); i++) {
    const r = await registerAgent(s, hostName(i), randomUUID(), underlay(i));
    if (!r.ok) throw new Error(r.error.message);
  }
  // Each network's ports on `spread` hosts among the first `base`; the hosts beyond hold nothing.
  const networkIds: string[] = [];
  for (let n = 0; n < networks; n++) {
    const net = await createNetwork(s, actor, { name: `n${n}` }, meta);
    if (!net.ok) throw new Error(net.error.message);
    networkIds.push(net.result);
    const sub = await createSubnet(s, actor, { networkId: net.result, ipVersion: 4, cidr: `10.${100 + (n >> 8)}.${n & 255}.0/24` }, meta);
    if (!sub.ok) throw new Error(sub.error.message);
    for (let j = 0; j < perNetwork; j++) {
      const host = hostName((n + (j % spread) * Math.floor(base / spread)) % base);
      const p = await createPort(
        s,
        actor,
        { networkId: net.result, deviceOwner: 'compute:nova', deviceId: randomUUID(), bindingHost: host },
        meta,
      );
      if (!p.ok) throw new Error(p.error.message);
    }
  }
  // The DHCP ports, scheduled once as the agents would.
  const snap = await buildTopology(s.sql);
  const live = Array.from({ length: base }, (_, i) => hostName(i));
  await applyBindings(s, 'bench', planBindings(snap.records.ports, snap.records.routers, live));
  console.log(`setup: ${fmt((performance.now() - setupStart) / 1000)} s`);

  console.log(
    '| agents | units per host (mean) | topology read per host p50 / p99 ms | compile+diff per host p50 / p99 ms | commit → every agent p50 / p99 ms | DB transactions/s | DB rows read/s | RSS MiB | heap MiB | load avg |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const count of agentCounts) {
    const abort = new AbortController();
    const head = await logHead(s.sql);
    const agents = Array.from({ length: count }, (_, i) => new SimulatedAgent(s, hostName(i), underlay(i), head, abort.signal));
    // The first round of each, as an agent's start does: not measured.
    for (const a of agents) await a.round();
    if (process.env.NL_BENCH_DEBUG) console.error(`first rounds done: ${count}`);
    for (const a of agents) a.samples.length = 0;
    const latencies: number[] = [];
    const before = await dbStats(s);
    const started = performance.now();
    for (let c = 0; c < changes; c++) {
      // A new instance port on one network, on a host that had none of it: that host gains the
      // network, and the network's other hosts gain a tunnel endpoint and MAC/IP entries.
      const n = (c * 97 + count) % networks;
      const t = performance.now();
      const out = await createPort(
        s,
        actor,
        { networkId: networkIds[n]!, deviceOwner: 'compute:nova', deviceId: randomUUID(), bindingHost: hostName((n + 1 + c) % base) },
        meta,
      );
      if (!out.ok || out.cursor === null) throw new Error(out.ok ? 'no cursor' : out.error.message);
      const position = decodeCursor(out.cursor);
      await Promise.all(agents.map((a) => a.whenApplied(position)));
      latencies.push(performance.now() - t);
      if (process.env.NL_BENCH_DEBUG) console.error(`change ${c}: ${performance.now() - t} ms`);
    }
    const seconds = (performance.now() - started) / 1000;
    const after = await dbStats(s);
    const mem = process.memoryUsage();
    abort.abort();
    const samples = agents.flatMap((a) => a.samples);
    const topo = samples.map((x) => x.topologyMs).sort((a, b) => a - b);
    const comp = samples.map((x) => x.compileMs).sort((a, b) => a - b);
    latencies.sort((a, b) => a - b);
    const units = agents.reduce((n, a) => n + a.unitCount, 0) / agents.length;
    console.log(
      `| ${count} | ${fmt(units)} | ${fmt(percentile(topo, 50))} / ${fmt(percentile(topo, 99))} | ${fmt(percentile(comp, 50))} / ${fmt(percentile(comp, 99))} | ` +
        `${fmt(percentile(latencies, 50))} / ${fmt(percentile(latencies, 99))} | ${fmt((after.xacts - before.xacts) / seconds)} | ` +
        `${fmt((after.rows - before.rows) / seconds, 0)} | ${fmt(mem.rss / 2 ** 20, 0)} | ${fmt(mem.heapUsed / 2 ** 20, 0)} | ${loadAvg()} |`,
    );
    const affected = samples.filter((x) => x.changedUnits > 0).length;
    console.log(`  (${changes} port changes: ${samples.length} rebuilds, of which ${affected} changed a unit of their host)`);
  }
  await s.stop();
}
