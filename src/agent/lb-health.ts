import { readFile, stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { haproxySocketCommand, LoadBalancerApplyError } from './drivers/haproxy.js';
import { silentLogger } from './logger.js';
import type { LoadBalancerState, MemberHealth } from '../domain/loadbalancer/index.js';
import { haproxyPaths, lbaasNamespace } from '../projections/desired-state/haproxy.js';
import type { HaproxyServerRef, HostState, LoadBalancerUnit, UnitKey } from '../projections/desired-state/index.js';
import { loadBalancerStreamId } from '../projections/kinds/loadbalancer-kind.js';
import { recordApplied, recordApplyFailed, recordMemberHealth } from '../app/loadbalancing/index.js';
import type { Services } from '../app/services.js';
import type { KeyFailure } from './reconciler.js';
import { Poller } from './poller.js';

/**
 * What the agent tells the control plane about its load balancers, read from the host on a short
 * period: member health from HAProxy's stats socket (`show stat`), the generation that is live
 * (`<dir>/generation`, written by the haproxy driver once HAProxy runs it), the last failed apply
 * (what the driver threw, kept by the reconciler in this process) and, for a load balancer that left this host, that it is gone. Only
 * changes are reported; the deciders shrug off repeats and late reports anyway.
 */

export interface LoadBalancerStatusSink {
  applied(loadBalancerId: string, generation: number): Promise<void>;
  applyFailed(loadBalancerId: string, generation: number, reason: string): Promise<void>;
  memberHealth(loadBalancerId: string, memberId: string, status: MemberHealth): Promise<void>;
  /** Everything of the load balancer is gone from this host (its removal, if it was deleted, is applied). */
  removed(loadBalancerId: string): Promise<void>;
}

export interface StatRow {
  readonly backend: string;
  readonly server: string;
  readonly status: string;
  readonly checkStatus: string;
}

/** `show stat` CSV (header `# pxname,svname,...`) → server rows. */
export function parseShowStat(csv: string): StatRow[] {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  const header = lines[0]?.replace(/^#\s*/, '').split(',') ?? [];
  const col = (name: string) => header.indexOf(name);
  const [px, sv, st, ck] = [col('pxname'), col('svname'), col('status'), col('check_status')];
  if (px < 0 || sv < 0 || st < 0) return [];
  return lines.slice(1).flatMap((l) => {
    const f = l.split(',');
    const server = f[sv] ?? '';
    if (server === 'FRONTEND' || server === 'BACKEND') return [];
    return [{ backend: f[px] ?? '', server, status: f[st] ?? '', checkStatus: ck >= 0 ? (f[ck] ?? '') : '' }];
  });
}

/**
 * Octavia's reading of a server's status (reference 5.2): UP (also `UP 1/3`, going down) →
 * ONLINE, DOWN (also `DOWN 1/2`, coming up) → ERROR, DRAIN → DRAINING, `no check` → NO_MONITOR.
 * MAINT is an admin-down member, whose OFFLINE the status roll-up derives: nothing to report.
 */
export function memberHealthOf(status: string): MemberHealth | null {
  const s = status.trim();
  if (s.startsWith('UP')) return 'ONLINE';
  if (s.startsWith('DOWN')) return 'ERROR';
  if (s.startsWith('DRAIN')) return 'DRAINING';
  if (s === 'no check') return 'NO_MONITOR';
  return null;
}

/** Member id → health; a member in several backends takes its first backend's row. */
export function memberHealthFromStats(servers: readonly HaproxyServerRef[], rows: readonly StatRow[]): Map<string, MemberHealth> {
  const byRow = new Map(rows.map((r) => [`${r.backend}\u0000${r.server}`, r]));
  const out = new Map<string, MemberHealth>();
  for (const s of servers) {
    if (out.has(s.memberId)) continue;
    const row = byRow.get(`${s.backend}\u0000${s.server}`);
    const health = row ? memberHealthOf(row.status) : null;
    if (health) out.set(s.memberId, health);
  }
  return out;
}

export interface LoadBalancerReading {
  readonly loadBalancerId: string;
  /** Generation that is live on this host; null before the first success. */
  readonly generation: number | null;
  /** Empty when HAProxy does not run or did not answer. */
  readonly members: ReadonlyMap<string, MemberHealth>;
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

async function present(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** One load balancer's state on the host: files the driver wrote, and HAProxy's own view. */
export async function readLoadBalancer(unit: LoadBalancerUnit): Promise<LoadBalancerReading> {
  const paths = haproxyPaths(unit.dir);
  const generationText = await readText(paths.generation);
  const generation = generationText === null ? null : Number.parseInt(generationText, 10);
  let members: ReadonlyMap<string, MemberHealth> = new Map();
  if (unit.haproxy && unit.haproxy.servers.length > 0) {
    try {
      // -1 4 -1: every proxy, server rows only.
      members = memberHealthFromStats(unit.haproxy.servers, parseShowStat(await haproxySocketCommand(paths.stats, 'show stat -1 4 -1')));
    } catch {
      members = new Map();
    }
  }
  return { loadBalancerId: unit.loadBalancerId, generation: Number.isNaN(generation) ? null : generation, members };
}

export interface HealthReporterOptions {
  readonly sink: LoadBalancerStatusSink;
  /** The host state the agent converges to (DataplaneAgent.desiredState). */
  readonly desired: () => HostState | null;
  /** The reconciler's failing keys (Reconciler.failures): a failed load balancer apply is one. */
  readonly failures?: () => ReadonlyMap<UnitKey, KeyFailure>;
  /** Default 2000 ms: well under the shortest health monitor delay Octavia users pick. */
  readonly intervalMs?: number;
  readonly logger?: Logger;
}

export interface HealthReport {
  readonly kind: 'applied' | 'applyFailed' | 'memberHealth' | 'removed';
  readonly loadBalancerId: string;
  readonly generation?: number;
  readonly memberId?: string;
  readonly status?: MemberHealth;
  readonly reason?: string;
}

/** Polls the host's load balancers and reports what changed since the last poll. */
export class LoadBalancerHealthReporter {
  private readonly sink: LoadBalancerStatusSink;
  private readonly log: Logger;
  private readonly intervalMs: number;
  private readonly health = new Map<string, MemberHealth>();
  private readonly applied = new Map<string, number>();
  private readonly failed = new Map<string, string>();
  /** Load balancers this host ran, with where their traces live, until they are gone. */
  private readonly known = new Map<string, { dir: string; namespace: string }>();
  private readonly poller = new Poller(
    () => this.poll(),
    () => this.intervalMs,
    (err) => this.log.error({ err }, 'load balancer health poll failed'),
  );

  constructor(private readonly options: HealthReporterOptions) {
    this.sink = options.sink;
    this.log = options.logger ?? silentLogger;
    this.intervalMs = options.intervalMs ?? 2000;
  }

  /** One round over every load balancer of the desired state (and those that just left it). */
  async poll(): Promise<HealthReport[]> {
    const state = this.options.desired();
    if (!state) return [];
    const reports: HealthReport[] = [];
    const send = async (report: HealthReport, call: () => Promise<void>): Promise<boolean> => {
      try {
        await call();
        reports.push(report);
        return true;
      } catch (err) {
        this.log.warn({ err, report }, 'load balancer status report failed');
        return false;
      }
    };
    const current = new Set<string>();
    for (const unit of state.loadBalancers) {
      const id = unit.loadBalancerId;
      current.add(id);
      this.known.set(id, { dir: unit.dir, namespace: lbaasNamespace(state, id) });
      const r = await readLoadBalancer(unit);
      const applied = this.applied.get(id) ?? 0;
      if (r.generation !== null && r.generation > applied) {
        const g = r.generation;
        if (await send({ kind: 'applied', loadBalancerId: id, generation: g }, () => this.sink.applied(id, g))) this.applied.set(id, g);
      }
      const cause = this.options.failures?.().get(unit.key)?.cause;
      const f = cause instanceof LoadBalancerApplyError ? { generation: cause.generation, reason: cause.message } : null;
      if (f && f.generation > (this.applied.get(id) ?? 0) && this.failed.get(id) !== `${f.generation}|${f.reason}`) {
        const report: HealthReport = { kind: 'applyFailed', loadBalancerId: id, generation: f.generation, reason: f.reason };
        if (await send(report, () => this.sink.applyFailed(id, f.generation, f.reason))) this.failed.set(id, `${f.generation}|${f.reason}`);
      }
      for (const [memberId, status] of r.members) {
        const k = `${id}/${memberId}`;
        if (this.health.get(k) === status) continue;
        if (
          await send({ kind: 'memberHealth', loadBalancerId: id, memberId, status }, () => this.sink.memberHealth(id, memberId, status))
        ) {
          this.health.set(k, status);
        }
      }
    }
    for (const [id, where] of this.known) {
      if (current.has(id)) continue;
      if ((await present(where.dir)) || (await present(`/run/netns/${where.namespace}`))) continue;
      if (await send({ kind: 'removed', loadBalancerId: id }, () => this.sink.removed(id))) {
        this.known.delete(id);
        this.applied.delete(id);
        this.failed.delete(id);
        for (const k of [...this.health.keys()]) if (k.startsWith(`${id}/`)) this.health.delete(k);
      }
    }
    return reports;
  }

  start(): void {
    this.poller.start();
  }

  stop(): Promise<void> {
    return this.poller.stop();
  }
}

/** Reports through the load balancer commands (actor: the agent). */
export function servicesSink(s: Services): LoadBalancerStatusSink {
  const must = async (
    p: Promise<{ ok: boolean; error?: { code: string; message: string } }>,
    tolerate: readonly string[] = [],
  ): Promise<void> => {
    const out = await p;
    if (!out.ok && out.error && !tolerate.includes(out.error.code)) throw new Error(`${out.error.code}: ${out.error.message}`);
  };
  return {
    applied: (id, generation) => must(recordApplied(s, id, generation), ['LoadBalancerNotFound']),
    applyFailed: (id, generation, reason) => must(recordApplyFailed(s, id, generation, reason.slice(0, 1000)), ['LoadBalancerNotFound']),
    // a member deleted since the last topology build is not worth an error
    memberHealth: (id, memberId, status) => must(recordMemberHealth(s, id, memberId, status), ['LoadBalancerNotFound', 'MemberNotFound']),
    async removed(id) {
      const { state } = await s.aggregates.load<LoadBalancerState>(s.sql, loadBalancerStreamId(id));
      // Only a deleted load balancer's removal is news; one that moved hosts runs elsewhere.
      if (state.loadBalancer?.deletedGeneration == null) return;
      await must(recordApplied(s, id, state.generation), ['LoadBalancerNotFound']);
    },
  };
}

/** The reporter for a running agent: `startLoadBalancerHealth(s, () => agent.desiredState)`. */
export function startLoadBalancerHealth(
  s: Services,
  desired: () => HostState | null,
  options: { failures?: () => ReadonlyMap<UnitKey, KeyFailure>; intervalMs?: number; logger?: Logger } = {},
): LoadBalancerHealthReporter {
  const reporter = new LoadBalancerHealthReporter({
    sink: servicesSink(s),
    desired,
    failures: options.failures,
    intervalMs: options.intervalMs,
    logger: options.logger ?? s.log,
  });
  reporter.start();
  return reporter;
}
