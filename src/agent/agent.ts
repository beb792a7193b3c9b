import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { agentConfig, type AgentConfig } from './config.js';
import { ReconcileLoop } from './loop.js';
import { Reconciler, type PassReport } from './reconciler.js';
import { startLoadBalancerHealth, type LoadBalancerHealthReporter } from './lb-health.js';
import { compileHostState, type HostState, type UnitKey } from '../projections/desired-state/index.js';
import { comparePositions, START, type LogPosition } from '../store/cursor.js';
import { subscribe } from '../store/subscribe.js';
import type { WakeEvent } from '../store/log-waker.js';
import type { Services } from '../app/services.js';
import { agentProgress, logHead, recordApplied, type AgentProgress } from './applied.js';
import { markAgentDown, recordHeartbeat, registerAgent, stopAgent } from './registration.js';
import { applyBindings, reportStatuses } from './reports.js';
import { planBindings, type Binding } from './scheduler.js';
import { zoneFactsOf } from './zone-choice.js';
import { scheduleHaRouters } from './ha-scheduler.js';
import { scheduleDvrPorts } from './dvr-scheduler.js';
import { firewallGroupStatusChanges, floatingIpStatusChanges, portStatusChanges, type KeyHealth } from './status.js';
import {
  buildHostTopology,
  registerTopologyPart,
  schedulingRecords,
  vpnTopologyPart,
  type HostInterest,
  type HostTopologySnapshot,
} from '../projections/topology/index.js';
import { needsRebuild, wakesHost } from './interest.js';
import { secretKey } from '../app/vpn/vpn.js';
import { openSecret } from '../store/seal/secret-key.js';
import { startVpnStatus, type VpnStatusReporter } from './vpn-status.js';
import { ipsecMode } from './drivers/vpn.js';
import { startHaStatus, type HaStatusReporter } from './ha-status.js';

/**
 * How long a change that touches nothing here may stay unread while notifications arrive: it only
 * moves the applied cursor (waitForApplied nudges every agent to read at once).
 */
export const IDLE_POLL_MS = 10_000;

export interface DataplaneAgentOptions {
  /** The host name ports are bound to (NETLEDGER_HOST_NAME). */
  readonly host: string;
  /** Naming and reconciler settings (namespace prefix, host namespace, state dir, resync...). */
  readonly config?: Partial<AgentConfig>;
  readonly logger?: Logger;
  /** Events arriving within this window become one rebuild (default 20 ms). */
  readonly debounceMs?: number;
  /** How often the agent checks in and looks for agents that died; a heartbeat is recorded only every
   * config.heartbeatIntervalMs (default 10 s). */
  readonly heartbeatCheckMs?: number;
  /** Run the periodic jittered full resync (drift repair); default true. */
  readonly periodicResync?: boolean;
  /** Called after every sync (benchmarks, diagnostics). */
  readonly onSync?: (stats: Readonly<SyncStats>) => void;
}

export interface SyncStats {
  syncs: number;
  rebuilds: number;
  bindings: number;
  statusReports: number;
  lastSyncMs: number;
  /** Where the last sync's time went (ms): topology read + scheduling, compile, reconcile pass, status reports, cursor. */
  lastPhases: Record<'topology' | 'compile' | 'pass' | 'statuses' | 'applied', number>;
  lastPass: PassReport | null;
}

/**
 * The dataplane agent of one host: follows the log, and on any change (debounced) rebuilds the
 * topology from the read model, compiles this host's desired state, lets the reconciler converge
 * it, reports port and floating IP statuses, and records the log position it has fully applied.
 * Events are only a wake-up: what is built always comes from the read model, so a missed or
 * repeated event cannot leave the host wrong.
 */
export class DataplaneAgent {
  private lbHealth: LoadBalancerHealthReporter | undefined;
  private vpnStatus: VpnStatusReporter | undefined;
  private haStatus: HaStatusReporter | undefined;
  readonly host: string;
  readonly instanceId = randomUUID();
  readonly reconciler: Reconciler;
  readonly stats: SyncStats = {
    syncs: 0,
    rebuilds: 0,
    bindings: 0,
    statusReports: 0,
    lastSyncMs: 0,
    lastPass: null,
    lastPhases: { topology: 0, compile: 0, pass: 0, statuses: 0, applied: 0 },
  };
  private readonly log: Logger;
  private readonly debounceMs: number;
  private seen: LogPosition = START;
  private applied: LogPosition | null = null;
  private rebuildNeeded = true;
  private snapshot: HostTopologySnapshot | null = null;
  /** What the last slice held; null until the first: every change counts then. */
  private interest: HostInterest | null = null;
  private rebuilding = false;
  private desired: HostState | null = null;
  private readonly reported = new Map<string, string>();
  private lastError: string | null = null;
  private stopping = false;
  private readonly loop: ReconcileLoop;
  private followDone: Promise<void> | null = null;
  private readonly abort = new AbortController();
  private readonly timers = new Set<NodeJS.Timeout>();
  private appliedWaiters: { position: LogPosition; resolve: () => void }[] = [];
  private firstSync: { promise: Promise<void>; resolve: () => void };
  private startSyncs = 0;
  /** The live hosts as last scheduled against: a change (an agent died or came) means schedule again. */
  private liveHosts = '';

  constructor(
    private readonly s: Services,
    private readonly options: DataplaneAgentOptions,
  ) {
    this.host = options.host;
    this.log = (options.logger ?? s.log).child({ agent: options.host });
    this.debounceMs = options.debounceMs ?? 20;
    this.reconciler = new Reconciler({ config: agentConfig(options.config), logger: this.log });
    // Site connections reach the topology with their PSK unsealed by this deployment's key file.
    const key = secretKey(s);
    registerTopologyPart(
      'vpn',
      vpnTopologyPart((sealed) => openSecret(key, sealed)),
    );
    this.loop = new ReconcileLoop({
      reconciler: this.reconciler,
      round: (resync) => this.sync(resync),
      onError: (err) => {
        this.rebuildNeeded = true;
        this.setLastError(`sync failed: ${err instanceof Error ? err.message : String(err)}`);
        this.roundDone();
      },
      periodicResync: options.periodicResync !== false,
      debounceMs: this.debounceMs,
      logger: this.log,
    });
    let resolve = () => {};
    const promise = new Promise<void>((r) => (resolve = r));
    this.firstSync = { promise, resolve };
  }

  get config(): AgentConfig {
    return this.reconciler.config;
  }

  /** Registers, converges the host from the read model once, then follows the log. */
  async start(): Promise<void> {
    // Probed once per process: VPN connections and operators see where ESP runs.
    const esp = await ipsecMode(this.reconciler.exec).catch(() => null);
    const reg = await registerAgent(
      this.s,
      this.host,
      this.instanceId,
      this.config.underlayAddress,
      this.config.agentMode,
      esp,
      this.config.availabilityZone,
    );
    if (!reg.ok) throw new Error(`agent registration failed: ${reg.error.code}: ${reg.error.message}`);
    this.seen = await logHead(this.s.sql);
    this.loop.start();
    this.followDone = this.follow(this.seen);
    this.every(this.options.heartbeatCheckMs ?? 10_000, () => this.tick());
    // HAProxy's own view of member health and of the config it runs goes back into the log.
    this.lbHealth = startLoadBalancerHealth(this.s, () => this.desired, { failures: () => this.reconciler.failures(), logger: this.log });
    // charon's view of each site connection (a tunnel comes up or fails without an event).
    this.vpnStatus = startVpnStatus(this.s, this.host, () => this.desired, this.reconciler.exec, this.log);
    // keepalived's VRRP state of each HA router here (its notify script), as transitions happen.
    this.haStatus = startHaStatus(
      this.s,
      this.host,
      () => this.desired,
      () => this.loop.poke(),
      this.log,
    );
    await this.firstSync.promise;
    this.log.info({ instanceId: this.instanceId, pending: this.reconciler.pendingKeys.length }, 'dataplane agent started');
  }

  /** Stops following and reconciling (the dataplane stays as it is) and tells the others. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    await this.halt();
    const out = await stopAgent(this.s, this.host, this.instanceId).catch((err: unknown) => ({ ok: false as const, err }));
    if (!out.ok) this.log.warn({ out }, 'could not record the agent stop');
  }

  /** Stops at once without a word to the log, as a host that lost power would: the others find out
   * from its silence (failover tests, the lab). */
  async crash(): Promise<void> {
    await this.halt();
  }

  /** Stops following and reconciling, without a word to the log (a superseded agent has none to say). */
  private async halt(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.abort.abort();
    await this.lbHealth?.stop();
    await this.vpnStatus?.stop();
    await this.haStatus?.stop();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.loop.stop();
    await this.followDone;
    for (const w of this.appliedWaiters) w.resolve();
    this.appliedWaiters = [];
  }

  /** The newest log position whose effects this host has fully applied. */
  get appliedPosition(): LogPosition | null {
    return this.applied;
  }

  /** Resolves when the applied position reaches `position` (or the agent stops). */
  whenApplied(position: LogPosition): Promise<void> {
    if (this.stopping || (this.applied && comparePositions(this.applied, position) >= 0)) return Promise.resolve();
    return new Promise((resolve) => this.appliedWaiters.push({ position, resolve }));
  }

  /** The last compiled desired state of this host. */
  get desiredState(): HostState | null {
    return this.desired;
  }

  private after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  private every(ms: number, fn: () => Promise<void>): void {
    const tick = () => {
      if (this.stopping) return;
      void fn().finally(() => this.after(ms, tick));
    };
    this.after(ms, tick);
  }

  private async follow(after: LogPosition): Promise<void> {
    let from = after;
    while (!this.stopping) {
      try {
        const wakesFor = (events: readonly WakeEvent[]) => wakesHost(events, this.interest, this.host, this.rebuilding);
        const options = { after: from, signal: this.abort.signal, idlePollMs: IDLE_POLL_MS, wakesFor };
        for await (const e of subscribe(this.s.store, this.s.waker, options)) {
          from = e.position;
          this.seen = e.position;
          // A change that touches nothing this host holds moves the cursor without a rebuild. While
          // a rebuild runs, its slice may come to hold what the change touches: every change counts.
          if (needsRebuild(e, this.interest, this.host, this.rebuilding)) this.rebuildNeeded = true;
          this.loop.poke();
        }
      } catch (err) {
        if (this.stopping) break;
        this.log.error({ err }, 'following the log failed; retrying');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /** Started means converged, or a few rounds made (a host that cannot converge reports it in
   * lastError rather than hanging start-up). */
  private roundDone(): void {
    if (this.reconciler.pendingKeys.length === 0 || ++this.startSyncs >= 5) this.firstSync.resolve();
  }

  /** One round of the loop: rebuild when the log said so, one pass, reports, the applied cursor. */
  private async sync(resync: boolean): Promise<void> {
    const started = performance.now();
    const phases = { topology: 0, compile: 0, pass: 0, statuses: 0, applied: 0 };
    let t = started;
    const lap = (phase: keyof typeof phases) => {
      const now = performance.now();
      phases[phase] += now - t;
      t = now;
    };
    // Everything up to `target` is in the read model we are about to read.
    const target = this.seen;
    if (this.rebuildNeeded) {
      this.rebuildNeeded = false;
      this.rebuilding = true;
      let snapshot: HostTopologySnapshot;
      try {
        snapshot = await this.readTopology();
      } finally {
        this.rebuilding = false;
      }
      lap('topology');
      this.snapshot = snapshot;
      this.interest = snapshot.interest;
      this.reported.clear();
      this.desired = compileHostState(snapshot.topology, this.host, this.config);
      this.reconciler.setDesired(this.desired);
      lap('compile');
    }
    if (resync) await this.reconciler.resync();
    const pass = await this.reconciler.runPass();
    this.stats.lastPass = pass;
    lap('pass');
    await this.reportStatuses();
    lap('statuses');
    const failures = this.reconciler.failures();
    if (this.reconciler.pendingKeys.length === 0) {
      this.setLastError(null);
      await this.markApplied(target);
    } else {
      // Keys left dirty are the loop's to retry: at once when marked again mid-pass, when their
      // backoff ends when they failed.
      const failing = [...failures].map(([k, f]) => `${k}: ${f.lastError}`);
      this.setLastError(failing.length > 0 ? failing.join('; ') : null);
    }
    lap('applied');
    this.stats.syncs += 1;
    this.stats.lastSyncMs = performance.now() - started;
    this.stats.lastPhases = phases;
    this.options.onSync?.(this.stats);
    this.roundDone();
  }

  /**
   * This host's slice of the topology; unbound DHCP and router ports get a host first, those of
   * dead agents a new one. Scheduling reads only the platform's own ports, the slice only what
   * this host holds: a rebuild costs what the host holds, not what the deployment holds.
   */
  private async readTopology(): Promise<HostTopologySnapshot> {
    this.stats.rebuilds += 1;
    const agents = await agentProgress(this.s.sql, new Date(), this.config.agentDownMs);
    await this.markSilentAgentsDown(agents);
    const live = this.liveOf(agents);
    const dead = new Set(agents.filter((a) => !live.includes(a.host)).map((a) => a.host));
    this.liveHosts = [...live].sort().join(' ');
    // A disabled agent keeps what it hosts (not dead) but is given nothing new.
    const disabled = new Set(agents.filter((a) => !a.adminStateUp).map((a) => a.host));
    const eligible = live.filter((h) => !disabled.has(h));
    // A distributed router's SNAT goes to a dvr_snat agent only.
    const snatHosts = eligible.filter((h) => agents.find((a) => a.host === h)?.agentMode === 'dvr_snat');
    const { ports, routers, floatingIps, networkHints } = await schedulingRecords(this.s.sql, this.host);
    // This host's zone as configured, until its registration is in the agents read.
    const zones = zoneFactsOf([{ host: this.host, availabilityZone: this.config.availabilityZone }, ...agents], networkHints);
    const bindings = planBindings(ports, routers, eligible, dead, snatHosts, zones);
    await scheduleHaRouters(this.s, this.host, ports, routers, eligible, this.log, zones);
    await scheduleDvrPorts(this.s, this.host, this.config.agentMode, ports, routers, floatingIps, this.log);
    // A move off a dead agent is recorded with the reason, so the port's history says why it moved.
    const hostOf = new Map(ports.map((p) => [p.id, p.doc.bindingHost]));
    const groups = new Map<string, Binding[]>();
    for (const b of bindings) {
      const from = hostOf.get(b.portId) ?? '';
      groups.set(from, [...(groups.get(from) ?? []), b]);
    }
    for (const [from, list] of groups) {
      const reason = from === '' ? null : `rescheduled: agent ${from} is down`;
      const { bound } = await applyBindings(this.s, this.host, list, reason);
      this.stats.bindings += bound;
      this.log.info(
        { planned: list.length, bound, from: from || undefined },
        from === '' ? 'scheduled ports' : 'rescheduled ports of a dead agent',
      );
    }
    // Read after the bindings just made (or those a racing agent made): the applied cursor must
    // not cover a router this host was given but did not build.
    return buildHostTopology(this.s.sql, this.host);
  }

  /** The hosts to schedule over: the live agents, and this one (it is running this code). */
  private liveOf(agents: readonly AgentProgress[]): string[] {
    const live = agents.filter((a) => a.alive || a.host === this.host).map((a) => a.host);
    if (!live.includes(this.host)) live.push(this.host);
    return live;
  }

  /**
   * Records AgentMarkedDown for agents silent past agent_down_time. The live agent with the lowest
   * host name does it; the others too once the silence is twice as long (the first may be stuck).
   * The decider records it once, however many ask.
   */
  private async markSilentAgentsDown(agents: readonly AgentProgress[]): Promise<void> {
    const now = Date.now();
    const live = this.liveOf(agents).sort();
    const first = live[0] === this.host;
    for (const a of agents) {
      if (a.host === this.host || a.alive || a.down || a.stopped) continue;
      const silentMs = now - Date.parse(a.lastHeartbeatAt);
      if (!first && silentMs <= 2 * this.config.agentDownMs) continue;
      const out = await markAgentDown(this.s, this.host, a.host, this.config.agentDownMs);
      if (!out.ok) this.log.warn({ host: a.host, code: out.error.code }, 'could not mark a silent agent down');
      else if (out.events.length > 0)
        this.log.warn({ host: a.host, silentMs }, 'agent marked down: its routers, DHCP and load balancers move');
    }
  }

  private health(key: UnitKey): KeyHealth {
    const failure = this.reconciler.failures().get(key);
    if (failure) return { state: 'failed', error: failure.lastError };
    return this.reconciler.pendingKeys.includes(key) ? { state: 'pending' } : { state: 'ok' };
  }

  private async reportStatuses(): Promise<void> {
    if (!this.snapshot || !this.desired) return;
    const keys = new Set<UnitKey>(['host', ...this.desired.networks.map((n) => n.key), ...this.desired.routers.map((r) => r.key)]);
    const inputs = {
      host: this.host,
      keys,
      health: (k: UnitKey) => this.health(k),
      haState: (routerId: string) => this.haStatus?.stateOf(routerId) ?? null,
    };
    const { ports, routers, floatingIps, firewallGroups } = this.snapshot.records;
    const said = (c: { status: string; reason?: string | null }) => `${c.status}|${c.reason ?? ''}`;
    const fresh = <C extends { id: string; status: string; reason?: string | null }>(list: readonly C[]) =>
      list.filter((c) => this.reported.get(c.id) !== said(c));
    const portChanges = fresh(portStatusChanges(inputs, ports, routers));
    const fipChanges = fresh(floatingIpStatusChanges(inputs, floatingIps, ports, routers));
    const fwChanges = fresh(firewallGroupStatusChanges(inputs, firewallGroups, this.desired.routers));
    if (portChanges.length === 0 && fipChanges.length === 0 && fwChanges.length === 0) return;
    const n = await reportStatuses(this.s, this.host, portChanges, fipChanges, fwChanges);
    for (const c of [...portChanges, ...fipChanges, ...fwChanges]) this.reported.set(c.id, said(c));
    this.stats.statusReports += n;
  }

  private async markApplied(target: LogPosition): Promise<void> {
    if (this.applied && comparePositions(this.applied, target) >= 0) return;
    await recordApplied(this.s.sql, this.host, target);
    this.applied = target;
    const due = this.appliedWaiters.filter((w) => comparePositions(target, w.position) >= 0);
    this.appliedWaiters = this.appliedWaiters.filter((w) => !due.includes(w));
    for (const w of due) w.resolve();
  }

  private setLastError(error: string | null): void {
    if (error === this.lastError) return;
    this.lastError = error;
    void this.heartbeat();
  }

  /** An agent that dies logs nothing: the survivors notice its silence, record it, and schedule again. */
  private async watchLiveness(): Promise<void> {
    const agents = await agentProgress(this.s.sql, new Date(), this.config.agentDownMs);
    await this.markSilentAgentsDown(agents);
    const live = this.liveOf(agents);
    if (this.liveHosts === '' || live.sort().join(' ') === this.liveHosts) return;
    this.log.info({ live }, 'the set of live agents changed; scheduling again');
    this.rebuildNeeded = true;
    this.loop.poke();
  }

  private async tick(): Promise<void> {
    await this.heartbeat();
    if (this.stopping) return;
    await this.watchLiveness().catch((err: unknown) => this.log.warn({ err }, "could not read the agents' liveness"));
  }

  private async heartbeat(): Promise<void> {
    if (this.stopping) return;
    try {
      const out = await recordHeartbeat(this.s, this.host, this.instanceId, this.lastError, this.config.heartbeatIntervalMs);
      if (out.ok) return;
      this.log.error({ code: out.error.code, message: out.error.message }, 'heartbeat refused');
      // Another process registered this host since: two agents must not fight over one host.
      if (out.error.code === 'AgentConflict') void this.halt();
    } catch (err) {
      this.log.warn({ err }, 'heartbeat failed');
    }
  }
}
