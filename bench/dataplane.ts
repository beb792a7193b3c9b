import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { agentConfig, type AgentConfig } from '../src/agent/config.js';
import { CommandRunner } from '../src/agent/exec.js';
import { wipeHost } from '../src/agent/wipe.js';
import { startServices, type Running } from '../src/app/bootstrap.js';
import type { CommandOutcome } from '../src/app/command-runtime.js';
import { DataplaneAgent } from '../src/agent/agent.js';
import { buildTopology } from '../src/projections/topology/index.js';
import { createNetwork } from '../src/app/networking/networks.js';
import { createPort } from '../src/app/networking/ports.js';
import { createSubnet } from '../src/app/networking/subnets.js';
import { associateFloatingIp, createFloatingIp, disassociateFloatingIp } from '../src/app/routing/floating-ips.js';
import { addRouterInterface, createRouter, setRouterGateway } from '../src/app/routing/routers.js';
import { ensureProject, setQuota } from '../src/app/tenancy.js';
import { loadConfig } from '../src/config.js';
import type { QuotaResource } from '../src/domain/project/events.js';
import { createLogger } from '../src/log.js';
import { compileHostState, type HostState, type NamespaceSpec, type UnitKey } from '../src/projections/desired-state/index.js';
import { decodeCursor } from '../src/store/cursor.js';
import { fmt, percentile } from './stats.js';

const HOST = 'bench-host';
const NETWORKS = 50;
const ROUTERS = 25;
const PORTS = 500;
const FIPS = 100;
const SAMPLES = 40;
const META = { actor: 'bench' };

function ok<R>(o: CommandOutcome<R>, what: string): { result: R; cursor: string | null } {
  if (!o.ok) throw new Error(`${what}: ${o.error.code}: ${o.error.message}`);
  return o;
}

/** 50 networks with DHCP, 25 routers (gateway + 2 interfaces each), 500 instance ports, 100 floating IPs. */
async function populate(s: Running) {
  const project = ok(await ensureProject(s, 'dpbench'), 'project').result;
  for (const r of ['network', 'subnet', 'port', 'router', 'floatingip', 'security_group', 'security_group_rule'] as QuotaResource[])
    await setQuota(s, project, r, -1);
  const actor = { projectId: project, isAdmin: true };
  const ext = ok(await createNetwork(s, actor, { name: 'ext', external: true }, META), 'ext').result;
  ok(await createSubnet(s, actor, { networkId: ext, ipVersion: 4, cidr: '198.18.0.0/16', enableDhcp: false }, META), 'ext subnet');
  const subnets: string[] = [];
  const nets: string[] = [];
  for (let i = 0; i < NETWORKS; i++) {
    const net = ok(await createNetwork(s, actor, { name: `net-${i}` }, META), 'net').result;
    nets.push(net);
    subnets.push(ok(await createSubnet(s, actor, { networkId: net, ipVersion: 4, cidr: `10.100.${i}.0/24` }, META), 'subnet').result);
  }
  for (let r = 0; r < ROUTERS; r++) {
    const router = ok(await createRouter(s, actor, { name: `r-${r}` }, META), 'router').result;
    ok(await setRouterGateway(s, actor, router, { networkId: ext }, undefined, META), 'gateway');
    for (const k of [2 * r, 2 * r + 1]) ok(await addRouterInterface(s, actor, router, { subnetId: subnets[k]! }, META), 'interface');
  }
  const ports: string[] = [];
  for (let i = 0; i < PORTS; i++) {
    const input = {
      networkId: nets[i % NETWORKS]!,
      deviceOwner: 'compute:nova',
      deviceId: randomUUID(),
      bindingHost: HOST,
      portSecurityEnabled: false,
    };
    ports.push(ok(await createPort(s, actor, input, META), 'port').result);
  }
  const fips: string[] = [];
  for (let i = 0; i < FIPS; i++)
    fips.push(ok(await createFloatingIp(s, actor, { floatingNetworkId: ext, portId: ports[i]! }, META), 'fip').result);
  return { actor, nets, ports, fips };
}

// ---- the naive baseline: the same host state, one process per command, no observation ----------

type Cmd = { argv: string[]; input?: string };

/** Commands that build a namespace and its veths from nothing (`fresh`), or re-assert them (idempotent forms). */
function namespaceCommands(hostNs: string, ns: NamespaceSpec, fresh: boolean): Cmd[] {
  const ip = (n: string, ...a: string[]): Cmd => ({ argv: ['ip', '-n', n, ...a] });
  const out: Cmd[] = fresh ? [{ argv: ['ip', 'netns', 'add', ns.name] }, ip(ns.name, 'link', 'set', 'lo', 'up')] : [];
  for (const s of ns.sysctls) out.push({ argv: ['ip', 'netns', 'exec', ns.name, 'sysctl', '-qw', `${s.key}=${s.value}`] });
  for (const i of ns.interfaces) {
    if (fresh) out.push(ip(hostNs, 'link', 'add', i.peer, 'type', 'veth', 'peer', 'name', i.name, 'netns', ns.name));
    out.push(ip(hostNs, 'link', 'set', i.peer, 'master', i.bridge, 'mtu', String(i.mtu), 'up'));
    out.push(ip(ns.name, 'link', 'set', i.name, 'address', i.mac, 'mtu', String(i.mtu), 'up'));
    for (const a of i.addresses) out.push(ip(ns.name, 'addr', 'replace', a, 'dev', i.name));
  }
  for (const r of ns.routes) {
    const hop = r.nexthops[0];
    out.push(
      ip(
        ns.name,
        'route',
        'replace',
        r.destination,
        ...(hop?.via ? ['via', hop.via] : []),
        ...(hop?.dev ? ['dev', hop.dev] : []),
        'proto',
        'static',
      ),
    );
  }
  return out;
}

/** The naive agent's work for a unit (or the whole host): build it (`fresh`) or re-assert it. */
async function naiveApply(
  state: HostState,
  keys: ReadonlySet<UnitKey> | 'all',
  fresh: boolean,
): Promise<{ processes: number; failed: number }> {
  const want = (k: UnitKey) => keys === 'all' || keys.has(k);
  const H = state.hostNamespace;
  const cmds: Cmd[] = [];
  const dnsmasq: { dir: string; files: { name: string; content: string }[]; start: Cmd | null; pidFile: string }[] = [];
  if (fresh && keys === 'all') cmds.push({ argv: ['ip', 'netns', 'add', H] }, { argv: ['ip', '-n', H, 'link', 'set', 'lo', 'up'] });
  for (const n of state.networks.filter((x) => want(x.key))) {
    if (fresh) cmds.push({ argv: ['ip', '-n', H, 'link', 'add', n.bridge.name, 'type', 'bridge'] });
    cmds.push({ argv: ['ip', '-n', H, 'link', 'set', n.bridge.name, 'mtu', String(n.bridge.mtu), 'up'] });
    if (n.dhcp) {
      cmds.push(...namespaceCommands(H, n.dhcp.namespace, fresh));
      const d = n.dhcp.dnsmasq;
      dnsmasq.push({
        dir: d.dir,
        files: [...d.files],
        start: fresh ? { argv: ['ip', 'netns', 'exec', n.dhcp.namespace.name, 'dnsmasq', ...d.args] } : null,
        pidFile: d.pidFile,
      });
    }
  }
  for (const r of state.routers.filter((x) => want(x.key))) {
    cmds.push(...namespaceCommands(H, r.namespace, fresh));
    if (r.nat) cmds.push({ argv: ['ip', 'netns', 'exec', r.namespace.name, 'nft', '-f', '-'], input: r.nat.ruleset });
  }
  let processes = 0;
  let failed = 0;
  const run = async (c: Cmd) => {
    processes += 1;
    const r = await execa(c.argv[0]!, c.argv.slice(1), { reject: false, input: c.input ?? '', timeout: 30_000 });
    if (r.exitCode !== 0) failed += 1;
  };
  for (const c of cmds) await run(c);
  for (const d of dnsmasq) {
    await mkdir(d.dir, { recursive: true });
    for (const f of d.files) await writeFile(`${d.dir}/${f.name}`, f.content, { mode: 0o644 });
    if (d.start) await run(d.start);
    else {
      const pid = (await readFile(d.pidFile, 'utf8').catch(() => '')).trim();
      if (pid) await run({ argv: ['kill', '-HUP', pid] });
    }
  }
  return { processes, failed };
}

// ---- the run ------------------------------------------------------------------------------------

const ms = (t: number) => performance.now() - t;

export async function dataplaneBench(url: string): Promise<void> {
  console.log('\n## dataplane agent');
  if (process.getuid?.() !== 0) {
    console.log('skipped: needs root (network namespaces)');
    return;
  }
  const tag = randomBytes(3).toString('hex');
  const ourDir = await mkdtemp(join(tmpdir(), `nlb${tag}-`));
  const naiveDir = await mkdtemp(join(tmpdir(), `nlbn${tag}-`));
  const ours: AgentConfig = agentConfig({ namespacePrefix: `nlb${tag}-`, hostNamespace: `nlb${tag}-host`, stateDir: ourDir });
  const naive: AgentConfig = agentConfig({ namespacePrefix: `nlbn${tag}-`, hostNamespace: `nlbn${tag}-host`, stateDir: naiveDir });
  const log = createLogger('warn', { pretty: false });
  const s = await startServices(loadConfig({ ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' }), log, { poolSize: 10 });
  const agents: DataplaneAgent[] = [];
  const exec = new CommandRunner();
  try {
    let t = performance.now();
    const data = await populate(s);
    const populateMs = ms(t);

    // First start: schedules the DHCP and router ports, then builds everything.
    const first = new DataplaneAgent(s, { host: HOST, config: ours, periodicResync: false, logger: log });
    agents.push(first);
    t = performance.now();
    await first.start();
    const firstStartMs = ms(t);
    if (first.reconciler.pendingKeys.length > 0) throw new Error(`not converged: ${first.reconciler.pendingKeys.join(', ')}`);
    await first.stop();

    // Full restore: a new agent on a wiped host, from the read model.
    await wipeHost(exec, ours);
    const phases: Record<string, number>[] = [];
    let recording = false;
    const agent = new DataplaneAgent(s, {
      host: HOST,
      config: ours,
      periodicResync: false,
      logger: log,
      onSync: (st) => recording && (st.lastPass?.mutations ?? 0) > 0 && phases.push({ ...st.lastPhases }),
    });
    agents.push(agent);
    t = performance.now();
    await agent.start();
    const restoreMs = ms(t);
    const restoreCounts = { ...agent.reconciler.exec.counts };
    const desired = agent.desiredState!;

    t = performance.now();
    await agent.reconciler.resync();
    const noop = await agent.reconciler.runPass();
    const noopMs = ms(t);

    // Commit-to-applied: from the command's commit to the agent's applied position covering it.
    recording = true;
    const portLatency: number[] = [];
    const changedPorts: string[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const out = ok(
        await createPort(
          s,
          data.actor,
          {
            networkId: data.nets[i % NETWORKS]!,
            deviceOwner: 'compute:nova',
            deviceId: randomUUID(),
            bindingHost: HOST,
            portSecurityEnabled: false,
          },
          META,
        ),
        'port',
      );
      const committed = performance.now();
      await agent.whenApplied(decodeCursor(out.cursor!));
      portLatency.push(ms(committed));
      changedPorts.push(data.nets[i % NETWORKS]!);
    }
    const fipLatency: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const fip = data.fips[i % FIPS]!;
      const out =
        i % 2 === 0
          ? ok(await disassociateFloatingIp(s, data.actor, fip, undefined, META), 'disassociate')
          : ok(await associateFloatingIp(s, data.actor, fip, data.ports[i % FIPS]!, undefined, undefined, META), 'associate');
      const committed = performance.now();
      await agent.whenApplied(decodeCursor(out.cursor!));
      fipLatency.push(ms(committed));
    }
    recording = false;
    if (agent.reconciler.pendingKeys.length > 0) throw new Error('agent left keys pending');

    // The naive baseline, same state, same run.
    const naiveState = compileHostState((await buildTopology(s.sql)).topology, HOST, naive);
    t = performance.now();
    const naiveRestore = await naiveApply(naiveState, 'all', true);
    const naiveRestoreMs = ms(t);
    t = performance.now();
    const naiveNoop = await naiveApply(naiveState, 'all', false);
    const naiveNoopMs = ms(t);
    // Per change: rebuild the topology, compile, re-assert the changed unit (it cannot tell what changed inside it).
    const naiveChange = async (key: UnitKey) => {
      const start = performance.now();
      const state = compileHostState((await buildTopology(s.sql)).topology, HOST, naive);
      const r = await naiveApply(state, new Set([key]), false);
      return { ms: ms(start), processes: r.processes };
    };
    const naivePort: number[] = [];
    const naiveFip: number[] = [];
    let naivePortProcs = 0;
    let naiveFipProcs = 0;
    const routerKeys = naiveState.routers.map((r) => r.key);
    for (let i = 0; i < SAMPLES; i++) {
      const p = await naiveChange(`network:${changedPorts[i]!}`);
      naivePort.push(p.ms);
      naivePortProcs = p.processes;
      const f = await naiveChange(routerKeys[i % routerKeys.length]!);
      naiveFip.push(f.ms);
      naiveFipProcs = f.processes;
    }

    const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
    const pct = (xs: number[]) => `${fmt(percentile(sorted(xs), 50))} / ${fmt(percentile(sorted(xs), 99))}`;
    console.log(
      `${NETWORKS} networks with DHCP, ${ROUTERS} routers with gateways (${ROUTERS * 2} interfaces), ${PORTS} instance ports, ${FIPS} floating IPs;`,
    );
    console.log(
      `host state: ${desired.networks.length + 1} network/host keys, ${desired.routers.length} router keys. Populating through the app layer: ${fmt(populateMs / 1000)} s; first start (scheduling ${first.stats.bindings} ports, then building): ${fmt(firstStartMs / 1000)} s.`,
    );
    console.log('');
    console.log('| measure | netledger agent | naive baseline (one process per command) |');
    console.log('|---|---|---|');
    console.log(
      `| full restore from an empty host | ${fmt(restoreMs / 1000, 2)} s, ${restoreCounts.commands} processes (${restoreCounts.mutatingCommands} mutating) + ${restoreCounts.inProcessMutations} in-process changes | ${fmt(naiveRestoreMs / 1000, 2)} s, ${naiveRestore.processes} processes (${naiveRestore.failed} failed) |`,
    );
    console.log(
      `| no-op pass over every key | ${fmt(noopMs)} ms, ${noop.commands} process(es), ${noop.mutations} mutating | ${fmt(naiveNoopMs)} ms, ${naiveNoop.processes} processes, all mutating (no observation) |`,
    );
    console.log(
      `| commit-to-applied, new port (p50 / p99 ms, n=${SAMPLES}) | ${pct(portLatency)} | ${pct(naivePort)} (${naivePortProcs} processes per change, change detection not counted) |`,
    );
    console.log(
      `| commit-to-applied, floating IP (dis)associate (p50 / p99 ms, n=${SAMPLES}) | ${pct(fipLatency)} | ${pct(naiveFip)} (${naiveFipProcs} processes per change, change detection not counted) |`,
    );
    const median = (k: string) => fmt(percentile(sorted(phases.map((p) => p[k] ?? 0)), 50));
    console.log('');
    console.log(
      `Where a change's time goes in the agent (median over the syncs that changed the host, ms): topology read ${median('topology')}, compile ${median('compile')}, reconcile pass ${median('pass')}, status reports ${median('statuses')}, cursor ${median('applied')}; plus a ${20} ms debounce.`,
    );
  } finally {
    for (const a of agents) await a.stop().catch(() => undefined);
    await wipeHost(exec, ours).catch(() => undefined);
    await wipeHost(exec, naive).catch(() => undefined);
    await rm(ourDir, { recursive: true, force: true });
    await rm(naiveDir, { recursive: true, force: true });
    await s.stop();
  }
}
