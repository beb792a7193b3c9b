/**
 * Many hosts (issue 16): simulated agents follow the log as `netledger agent` does (their own
 * subscription, the same judgement of which changes touch their host, a debounced read of their
 * host's slice of the read model, the compile of their host's desired state, a diff of its units
 * against the last, the applied cursor written after each round) but build nothing: no
 * namespaces, no commands. 5,000 ports over 500 VXLAN networks, each network's ports on 10 hosts;
 * then port changes, timed from the commit until every agent the change affects (the hosts of the
 * network's ports, and the new port's) has compiled past it. An agent reads the log only when a
 * change's notification may touch its host (`wakesHost`); the others read it at their idle poll.
 * `npm run bench -- hosts`; NL_BENCH_AGENTS (default 500,1000), NL_BENCH_NETWORKS, NL_BENCH_PORTS,
 * NL_BENCH_CHANGES scale it (NL_BENCH_POLL_MS: the agents' poll while notifications do not
 * arrive, NL_BENCH_IDLE_POLL_MS while they do); NL_BENCH_WHOLE=1 runs the agents as before the
 * slice (every change, whole topology).
 *
 * The ports are in a security group without remote-group rules (as Neutron's scale advice has
 * it): a remote group puts every member's address on every host that uses the group, so a change
 * of any member touches all of them (NL_BENCH_REMOTE_GROUP=1 measures that, with the default group).
 *
 * The agents share this one machine (and its cores) with PostgreSQL: the commit-to-every-agent
 * time is the time for this machine to do every touched host's work, which separate hosts would do
 * side by side. The per-host figures (slice read, compile) are what one host spends on one change.
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import postgres from 'postgres';
import { startServices, type Running } from '../src/app/bootstrap.js';
import { issueToken, setQuota } from '../src/app/tenancy.js';
import { createNetwork } from '../src/app/networking/networks.js';
import { createSubnet } from '../src/app/networking/subnets.js';
import { createPort } from '../src/app/networking/ports.js';
import { createSecurityGroup } from '../src/app/security/security-groups.js';
import { applyBindings } from '../src/agent/reports.js';
import { planBindings } from '../src/agent/scheduler.js';
import { registerAgent } from '../src/agent/registration.js';
import { logHead, recordApplied } from '../src/agent/applied.js';
import { NO_REBUILD, needsRebuild, wakesHost } from '../src/agent/interest.js';
import { IDLE_POLL_MS } from '../src/agent/agent.js';
import { loadConfig } from '../src/config.js';
import type { Sql } from '../src/db/sql.js';
import { createLogger } from '../src/log.js';
import { compileHostState, hostStateUnits, unitFingerprint, type UnitKey } from '../src/projections/desired-state/index.js';
import {
  buildHostTopology,
  buildTopology,
  schedulingRecords,
  type HostInterest,
  type TopologySnapshot,
} from '../src/projections/topology/index.js';
import { comparePositions, decodeCursor, type LogPosition } from '../src/store/cursor.js';
import { subscribe } from '../src/store/subscribe.js';
import type { EventStore } from '../src/store/event-store.js';
import { fmt, percentile } from './stats.js';
import { loadAvg } from './scale.js';

const DEBOUNCE_MS = 20;
// As the agent: 500 ms while notifications do not arrive, IDLE_POLL_MS while they do.
const POLL_MS = Number(process.env.NL_BENCH_POLL_MS ?? 500);
const IDLE_MS = Number(process.env.NL_BENCH_IDLE_POLL_MS ?? IDLE_POLL_MS);
const WHOLE = process.env.NL_BENCH_WHOLE === '1';

interface Sample {
  topologyMs: number;
  compileMs: number;
  changedUnits: number;
}

/** One simulated host: follows the log, and on a change that touches it reads its slice, compiles and diffs. */
class SimulatedAgent {
  private seen: LogPosition;
  private applied: LogPosition;
  private rebuild = true;
  private rebuilding = false;
  private dirty = false;
  private running: Promise<void> | null = null;
  private interest: HostInterest | null = null;
  private units = new Map<UnitKey, string>();
  private waiters: { position: LogPosition; resolve: (rebuilt: boolean) => void }[] = [];
  readonly samples: Sample[] = [];

  constructor(
    private readonly s: Running,
    private readonly store: EventStore,
    private readonly sql: Sql,
    readonly host: string,
    private readonly underlayAddress: string,
    head: LogPosition,
    private readonly signal: AbortSignal,
  ) {
    this.seen = head;
    this.applied = head;
    void this.follow(signal);
  }

  private async follow(signal: AbortSignal): Promise<void> {
    try {
      const wakesFor = WHOLE
        ? undefined
        : (events: Parameters<typeof wakesHost>[0]) => wakesHost(events, this.interest, this.host, this.rebuilding);
      const options = { after: this.seen, signal, pollMs: POLL_MS, idlePollMs: IDLE_MS, ...(wakesFor ? { wakesFor } : {}) };
      for await (const e of subscribe(this.store, this.s.waker, options)) {
        this.seen = e.position;
        if (WHOLE ? !NO_REBUILD.has(e.type) : needsRebuild(e, this.interest, this.host, this.rebuilding)) this.rebuild = true;
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
        // A round still running when the run ends finds the pools closed.
        await this.round().catch((err: unknown) => {
          if (!this.signal.aborted) throw err;
        });
      }
      this.running = null;
    })();
  }

  async round(): Promise<void> {
    const target = this.seen;
    const rebuilt = this.rebuild;
    if (rebuilt) {
      this.rebuild = false;
      this.rebuilding = true;
      const t0 = performance.now();
      let snapshot: TopologySnapshot;
      try {
        if (WHOLE) snapshot = await buildTopology(this.sql);
        else {
          const slice = await buildHostTopology(this.sql, this.host);
          this.interest = slice.interest;
          snapshot = slice;
        }
      } finally {
        this.rebuilding = false;
      }
      const t1 = performance.now();
      const state = compileHostState(snapshot.topology, this.host, { underlayAddress: this.underlayAddress });
      const next = new Map([...hostStateUnits(state)].map(([k, u]) => [k, unitFingerprint(u)]));
      let changed = 0;
      for (const k of new Set([...next.keys(), ...this.units.keys()])) if (next.get(k) !== this.units.get(k)) changed++;
      this.units = next;
      const t2 = performance.now();
      this.samples.push({ topologyMs: t1 - t0, compileMs: t2 - t1, changedUnits: changed });
    }
    // As the agent: the cursor moves in the database after every round, rebuilt or not (an agent
    // the change does not touch reads it later, at its idle poll or when asked by waitForApplied).
    await recordApplied(this.sql, this.host, target);
    this.applied = target;
    const due = this.waiters.filter((w) => comparePositions(target, w.position) >= 0);
    this.waiters = this.waiters.filter((w) => !due.includes(w));
    for (const w of due) w.resolve(rebuilt);
  }

  /** Resolves when the agent's cursor passes `position`, saying whether it rebuilt on the way. */
  whenApplied(position: LogPosition): Promise<boolean> {
    if (comparePositions(this.applied, position) >= 0) return Promise.resolve(false);
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
  const remoteGroup = process.env.NL_BENCH_REMOTE_GROUP === '1';
  const perNetwork = Math.max(1, Math.round(portsTotal / networks));
  const spread = Math.min(10, perNetwork);
  const base = Math.min(...agentCounts);
  const s = await startServices(
    loadConfig({ ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' }),
    createLogger('warn', { pretty: false }),
    { poolSize: 20 },
  );
  // The agents' own pool, counting their queries (slice reads, cursor writes; their subscriptions
  // read through the services' pool and are in the database's transaction count).
  let queries = 0;
  const agentSql = postgres(s.ownerUrl, {
    max: 20,
    onnotice: () => {},
    types: { bigint: postgres.BigInt },
    debug: () => {
      queries += 1;
    },
  }) as unknown as Sql;
  const tok = await issueToken(s, { project: 'bench-hosts', role: 'member' });
  if (!tok.ok) throw new Error(tok.error.message);
  for (const r of ['port', 'network', 'subnet', 'security_group'] as const) await setQuota(s, tok.projectId, r, -1);
  const actor = { projectId: tok.projectId, isAdmin: false };
  const meta = { actor: 'bench' };
  const group = await createSecurityGroup(s, actor, { name: 'bench' }, meta);
  if (!group.ok) throw new Error(group.error.message);
  const securityGroups = remoteGroup ? {} : { securityGroups: [group.result] };

  console.log(
    `\n## Many hosts: ${networks} VXLAN networks, ${networks * perNetwork} ports (each network on ${spread} hosts)` +
      `${remoteGroup ? ', default security group (remote group)' : ''}${WHOLE ? ', whole topology on every change (before)' : ''}`,
  );
  const setupStart = performance.now();
  for (let i = 0; i < Math.max(...agentCounts); i++) {
    const r = await registerAgent(s, hostName(i), randomUUID(), underlay(i));
    if (!r.ok) throw new Error(r.error.message);
  }
  // Each network's ports on `spread` hosts among the first `base`; the hosts beyond hold nothing.
  const networkIds: string[] = new Array<string>(networks);
  const createOne = async (n: number) => {
    const net = await createNetwork(s, actor, { name: `n${n}` }, meta);
    if (!net.ok) throw new Error(net.error.message);
    networkIds[n] = net.result;
    const sub = await createSubnet(s, actor, { networkId: net.result, ipVersion: 4, cidr: `10.${100 + (n >> 8)}.${n & 255}.0/24` }, meta);
    if (!sub.ok) throw new Error(sub.error.message);
    for (let j = 0; j < perNetwork; j++) {
      const host = hostName((n + (j % spread) * Math.floor(base / spread)) % base);
      const p = await createPort(
        s,
        actor,
        { networkId: net.result, deviceOwner: 'compute:nova', deviceId: randomUUID(), bindingHost: host, ...securityGroups },
        meta,
      );
      if (!p.ok) throw new Error(p.error.message);
    }
  };
  // Four networks at a time: setup only.
  for (let n = 0; n < networks; n += 4) await Promise.all([n, n + 1, n + 2, n + 3].filter((i) => i < networks).map(createOne));
  // The DHCP ports, scheduled once as the agents would.
  const live = Array.from({ length: base }, (_, i) => hostName(i));
  const sched = await schedulingRecords(s.sql, 'bench');
  await applyBindings(s, 'bench', planBindings(sched.ports, sched.routers, live));
  console.log(`setup: ${fmt((performance.now() - setupStart) / 1000)} s`);

  // The agents' log reads, counted (their subscriptions read through the services' pool).
  let logReads = 0;
  const store = Object.create(s.store) as EventStore;
  store.readAll = (...args: Parameters<EventStore['readAll']>) => {
    logReads += 1;
    return s.store.readAll(...args);
  };

  console.log(
    '| agents | units per host (mean) | slice read per host p50 / p99 ms | compile+diff per host p50 / p99 ms | log reads per change | rebuilds per change | ' +
      'commit → every affected agent compiled p50 / p99 ms | agent queries per change | DB transactions per change | DB transactions/s idle | RSS MiB | heap MiB | load avg |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const count of agentCounts) {
    const abort = new AbortController();
    setMaxListeners(count + 10, abort.signal);
    const head = await logHead(s.sql);
    const agents = Array.from(
      { length: count },
      (_, i) => new SimulatedAgent(s, store, agentSql, hostName(i), underlay(i), head, abort.signal),
    );
    const byHost = new Map(agents.map((a) => [a.host, a]));
    // The first round of each, as an agent's start does: not measured.
    for (let i = 0; i < agents.length; i += 8) await Promise.all(agents.slice(i, i + 8).map((a) => a.round()));
    if (process.env.NL_BENCH_DEBUG) console.error(`first rounds done: ${count}`);
    for (const a of agents) a.samples.length = 0;
    // Idle: notifications of nothing, the agents' polls only (one whole idle poll period: agents
    // started together poll together).
    const idleBefore = await dbStats(s);
    const idleStart = performance.now();
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const idleXacts = ((await dbStats(s)).xacts - idleBefore.xacts - 1) / ((performance.now() - idleStart) / 1000);
    const affectedMs: number[] = [];
    const before = await dbStats(s);
    const queriesBefore = queries;
    const readsBefore = logReads;
    for (let c = 0; c < changes; c++) {
      // A new instance port on one network, on a host that had none of it: that host gains the
      // network, and the network's other hosts gain a tunnel endpoint and MAC/IP entries.
      const n = (c * 97 + count) % networks;
      const newHost = hostName((n + 1 + c) % base);
      const holders = await s.sql<{ host: string }[]>`select distinct doc->>'bindingHost' as host from rm_resources
        where kind = 'port' and network_id = ${networkIds[n]!}::uuid and doc->>'bindingHost' <> ''`;
      const affected = [...new Set([newHost, ...holders.map((h) => h.host)])].flatMap((h) => byHost.get(h) ?? []);
      const t = performance.now();
      const out = await createPort(
        s,
        actor,
        { networkId: networkIds[n]!, deviceOwner: 'compute:nova', deviceId: randomUUID(), bindingHost: newHost, ...securityGroups },
        meta,
      );
      if (!out.ok || out.cursor === null) throw new Error(out.ok ? 'no cursor' : out.error.message);
      const position = decodeCursor(out.cursor);
      const rebuilt = await Promise.all(affected.map((a) => a.whenApplied(position)));
      affectedMs.push(performance.now() - t);
      if (rebuilt.includes(false)) throw new Error(`change ${c}: an affected agent moved past it without a rebuild`);
      if (process.env.NL_BENCH_DEBUG) console.error(`change ${c}: ${fmt(performance.now() - t)} ms, ${affected.length} affected`);
    }
    const after = await dbStats(s);
    const agentQueries = queries - queriesBefore;
    const reads = logReads - readsBefore;
    const mem = process.memoryUsage();
    const samples = agents.flatMap((a) => a.samples);
    // One affected host's slice read and compile alone (nothing else running in this process).
    const solo = { topology: [] as number[], compile: [] as number[] };
    for (const a of agents.slice(0, 20)) {
      const t0 = performance.now();
      const slice = await buildHostTopology(agentSql, a.host);
      const t1 = performance.now();
      compileHostState(slice.topology, a.host, { underlayAddress: '10.0.0.1' });
      solo.topology.push(t1 - t0);
      solo.compile.push(performance.now() - t1);
    }
    abort.abort();
    // Rounds in flight finish before the next run (or the pools close).
    await new Promise((r) => setTimeout(r, 1000));
    const topo = samples.map((x) => x.topologyMs).sort((a, b) => a - b);
    const comp = samples.map((x) => x.compileMs).sort((a, b) => a - b);
    affectedMs.sort((a, b) => a - b);
    const units = agents.reduce((n, a) => n + a.unitCount, 0) / agents.length;
    console.log(
      `| ${count} | ${fmt(units)} | ${fmt(percentile(topo, 50))} / ${fmt(percentile(topo, 99))} | ${fmt(percentile(comp, 50))} / ${fmt(percentile(comp, 99))} | ` +
        `${fmt(reads / changes)} | ${fmt(samples.length / changes)} | ${fmt(percentile(affectedMs, 50))} / ${fmt(percentile(affectedMs, 99))} | ` +
        `${fmt(agentQueries / changes)} | ${fmt((after.xacts - before.xacts) / changes)} | ${fmt(idleXacts)} | ` +
        `${fmt(mem.rss / 2 ** 20, 0)} | ${fmt(mem.heapUsed / 2 ** 20, 0)} | ${loadAvg()} |`,
    );
    const changedUnits = samples.filter((x) => x.changedUnits > 0).length;
    const med = (xs: number[]) =>
      fmt(
        percentile(
          [...xs].sort((a, b) => a - b),
          50,
        ),
      );
    console.log(
      `  (${changes} port changes: ${samples.length} rebuilds, of which ${changedUnits} changed a unit of their host; ` +
        `one host alone: slice read ${med(solo.topology)} ms, compile ${med(solo.compile)} ms (median of 20))`,
    );
  }
  await agentSql.end({ timeout: 5 });
  await s.stop();
}
