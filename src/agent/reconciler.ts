import type { Logger } from 'pino';
import {
  compareKeys,
  hostStateUnits,
  unitFingerprint,
  type HostState,
  type HostUnit,
  type UnitKey,
} from '../projections/desired-state/index.js';
import { agentConfig, namespacesOfKey, type AgentConfig } from './config.js';
import type { Driver, DriverContext } from './driver.js';
import { dhcpDriver } from './drivers/dhcp.js';
import { dvrDriver } from './drivers/dvr.js';
import { dvrRouterDriver } from './drivers/dvr-router.js';
import { firewallDriver } from './drivers/firewall.js';
import { exceptLoadBalancers, haproxyDriver } from './drivers/haproxy.js';
import { keepalivedDriver } from './drivers/keepalived.js';
import { linksDriver } from './drivers/links.js';
import { natDriver } from './drivers/nat.js';
import { overlayDriver } from './drivers/overlay.js';
import { radvdDriver } from './drivers/radvd.js';
import { uplinkDriver } from './drivers/uplink.js';
import { vpnDriver } from './drivers/vpn.js';
import { CommandRunner } from './exec.js';
import { silentLogger } from './logger.js';
import { probeNamespaces, type Snapshot } from './probe.js';

/** Apply order within a key: plumbing, then what runs on top of it. */
// `lb:` keys plumb their own namespace (haproxy driver); the links driver would look for a qdhcp one.
export const DEFAULT_DRIVERS: readonly Driver[] = [
  exceptLoadBalancers(linksDriver),
  dvrDriver,
  dvrRouterDriver,
  overlayDriver,
  uplinkDriver,
  natDriver,
  firewallDriver,
  vpnDriver,
  dhcpDriver,
  radvdDriver,
  keepalivedDriver,
  haproxyDriver,
];

export interface ReconcilerOptions {
  readonly config?: Partial<AgentConfig>;
  readonly logger?: Logger;
  readonly exec?: CommandRunner;
  readonly drivers?: readonly Driver[];
  /** Injected for tests; jitter only. */
  readonly random?: () => number;
}

export type KeyStatus = 'converged' | 'repaired' | 'failed' | 'deferred';

export interface KeyReport {
  readonly key: UnitKey;
  readonly status: KeyStatus;
  /** Action descriptions applied (empty when converged). */
  readonly actions: readonly string[];
  readonly error?: string;
}

export interface PassReport {
  readonly keys: readonly KeyReport[];
  /** Mutating commands plus in-process mutations during this pass. */
  readonly mutations: number;
  readonly commands: number;
  readonly ms: number;
}

/** A key that failed: how often in a row, and the last error (`cause`: what the driver threw). */
export interface KeyFailure {
  readonly failures: number;
  readonly lastError: string;
  readonly cause?: unknown;
}

interface Backoff {
  failures: number;
  nextAt: number;
  lastError: string;
  cause?: unknown;
}

/**
 * Level-triggered reconciler. Keys (`host`, `network:<id>`, `router:<id>`, `lb:<id>`) are marked
 * dirty when their desired unit changes, on resync, or after a failure. It has no loop of its own:
 * `ReconcileLoop` (loop.ts) decides when a pass runs. A pass takes every due dirty key:
 * observe (one batched probe for all of them) → diff → apply the minimal actions (keys side by
 * side, `applyConcurrency` at a time) → re-observe (again one probe for all applied keys); a key
 * is clean only when the re-observation diffs empty. A failing key backs off exponentially
 * (capped) without holding up the others.
 */
export class Reconciler {
  readonly config: AgentConfig;
  readonly exec: CommandRunner;
  private readonly logger: Logger;
  private readonly drivers: readonly Driver[];
  private readonly random: () => number;
  private units = new Map<UnitKey, HostUnit>();
  private readonly dirty = new Set<UnitKey>();
  /**
   * How often each key was marked dirty, and the count each key of the running pass started from:
   * a pass clears only marks nobody made while it ran, so a desired state set mid-pass is not lost.
   */
  private readonly marks = new Map<UnitKey, number>();
  private passMarks = new Map<UnitKey, number>();
  private readonly backoff = new Map<UnitKey, Backoff>();
  private passInFlight: Promise<PassReport> | null = null;
  private readonly passListeners = new Set<(report: PassReport) => void>();

  constructor(options: ReconcilerOptions = {}) {
    this.config = agentConfig(options.config);
    this.logger = options.logger ?? silentLogger;
    this.exec = options.exec ?? new CommandRunner(this.logger);
    this.drivers = options.drivers ?? DEFAULT_DRIVERS;
    this.random = options.random ?? Math.random;
  }

  private get ctx(): DriverContext {
    return { config: this.config, exec: this.exec, logger: this.logger };
  }

  /** Replace the desired state; keys whose unit changed (or vanished) become dirty. */
  setDesired(state: HostState): void {
    if (
      state.hostNamespace !== this.config.hostNamespace ||
      state.namespacePrefix !== this.config.namespacePrefix ||
      state.stateDir !== this.config.stateDir
    ) {
      throw new Error('host state was compiled with naming options other than the agent config');
    }
    const next = hostStateUnits(state);
    for (const key of new Set([...this.units.keys(), ...next.keys()])) {
      if (unitFingerprint(this.units.get(key)) !== unitFingerprint(next.get(key))) this.markDirty(key);
    }
    this.units = next;
  }

  markDirty(...keys: UnitKey[]): void {
    for (const k of keys) {
      this.dirty.add(k);
      this.marks.set(k, (this.marks.get(k) ?? 0) + 1);
    }
  }

  get pendingKeys(): UnitKey[] {
    return [...this.dirty].sort(compareKeys);
  }

  failures(): ReadonlyMap<UnitKey, KeyFailure> {
    return this.backoff;
  }

  /** Mark every desired key and every key found on the host (stale ones) dirty. */
  async resync(): Promise<void> {
    const found = await Promise.all(this.drivers.map((d) => d.discover?.(this.ctx) ?? Promise.resolve([])));
    this.markDirty('host', ...this.units.keys(), ...found.flat());
  }

  /** One pass over the due dirty keys. Passes never overlap. */
  async runPass(): Promise<PassReport> {
    while (this.passInFlight) await this.passInFlight.catch(() => undefined);
    this.passInFlight = this.pass();
    let report: PassReport;
    try {
      report = await this.passInFlight;
    } finally {
      this.passInFlight = null;
    }
    for (const listener of this.passListeners) listener(report);
    return report;
  }

  /** Calls `listener` with the report of every pass from now on (metrics); answers how to stop. */
  onPass(listener: (report: PassReport) => void): () => void {
    this.passListeners.add(listener);
    return () => this.passListeners.delete(listener);
  }

  /** Resync, then run passes (waiting out backoffs) until nothing is dirty or `maxPasses` is hit. */
  async converge(maxPasses = 8): Promise<PassReport[]> {
    await this.resync();
    const reports: PassReport[] = [];
    for (let i = 0; i < maxPasses && this.dirty.size > 0; i++) {
      const wait = this.nextDueIn();
      if (wait > 0) await sleep(wait);
      reports.push(await this.runPass());
    }
    return reports;
  }

  /** ms until the earliest dirty key may be tried (0: now). */
  nextDueIn(): number {
    const now = Date.now();
    let min = Number.POSITIVE_INFINITY;
    for (const k of this.dirty) min = Math.min(min, Math.max(0, (this.backoff.get(k)?.nextAt ?? 0) - now));
    return min === Number.POSITIVE_INFINITY ? 0 : min;
  }

  private async probe(keys: readonly UnitKey[]): Promise<Snapshot> {
    const namespaces = keys.flatMap((k) => namespacesOfKey(this.config, k));
    const sysctls = this.drivers.flatMap((d) => d.probeSysctls ?? []);
    return probeNamespaces(this.exec, namespaces, sysctls);
  }

  private async observe(keys: readonly UnitKey[]): Promise<Map<Driver, Map<UnitKey, unknown>>> {
    const snapshot = await this.probe(keys);
    const out = new Map<Driver, Map<UnitKey, unknown>>();
    for (const d of this.drivers) out.set(d, await d.observe(keys, snapshot, this.ctx));
    return out;
  }

  private diff(key: UnitKey, observed: Map<Driver, Map<UnitKey, unknown>>): { driver: Driver; actions: unknown[] }[] {
    const unit = this.units.get(key);
    return this.drivers
      .map((driver) => ({ driver, actions: driver.diff(key, unit, observed.get(driver)?.get(key), this.ctx) }))
      .filter((p) => p.actions.length > 0);
  }

  private async pass(): Promise<PassReport> {
    const started = performance.now();
    const mutationsBefore = this.exec.mutations;
    const commandsBefore = this.exec.counts.commands;
    const now = Date.now();
    const due = [...this.dirty].filter((k) => (this.backoff.get(k)?.nextAt ?? 0) <= now).sort(compareKeys);
    this.passMarks = new Map(due.map((k) => [k, this.marks.get(k) ?? 0]));
    const reports = new Map<UnitKey, KeyReport>();
    const applied = new Map<UnitKey, string[]>();
    if (due.length > 0) {
      let observed = await this.observe(due);
      let rest = due;
      if (due[0] === 'host') {
        // Everything else lives in the host namespace: settle it first, alone.
        const host = await this.applyKey('host', observed);
        if (host.status === 'failed') {
          reports.set('host', host);
          for (const k of due.slice(1)) reports.set(k, { key: k, status: 'deferred', actions: [] });
          rest = [];
        } else {
          if (host.status === 'converged') reports.set('host', host);
          else applied.set('host', [...host.actions]);
          rest = due.slice(1);
          if (host.status !== 'converged' && rest.length > 0) observed = await this.observe(rest);
        }
      }
      // Keys own disjoint kernel objects (their namespace, their bridge, their taps), so they can
      // be applied side by side from the same observation.
      await forEachLimited(rest, this.config.applyConcurrency, async (key) => {
        const r = await this.applyKey(key, observed);
        if (r.status === 'repaired') applied.set(key, [...r.actions]);
        else reports.set(key, r);
      });
      if (applied.size > 0) {
        // Re-observe everything that was changed in one probe: a key is done only if it now diffs empty.
        let verify: Map<Driver, Map<UnitKey, unknown>> | null = null;
        let probeError = '';
        try {
          verify = await this.observe([...applied.keys()]);
        } catch (err) {
          probeError = err instanceof Error ? err.message : String(err);
        }
        for (const [key, actions] of applied) {
          const remaining = verify ? this.diff(key, verify) : [];
          if (verify && remaining.length === 0) {
            this.settle(key);
            reports.set(key, { key, status: 'repaired', actions });
          } else {
            const left = remaining.flatMap(({ driver, actions: a }) =>
              a.map((x) => `${driver.name}: ${driver.describe?.(x) ?? JSON.stringify(x)}`),
            );
            reports.set(
              key,
              this.fail(key, verify ? `not converged after apply; still to do: ${left.slice(0, 10).join('; ')}` : probeError, actions),
            );
          }
        }
      }
    }
    const keys = due.map((k) => reports.get(k)).filter((r): r is KeyReport => r !== undefined);
    const report: PassReport = {
      keys,
      mutations: this.exec.mutations - mutationsBefore,
      commands: this.exec.counts.commands - commandsBefore,
      ms: Math.round(performance.now() - started),
    };
    if (report.mutations > 0 || keys.some((r) => r.status === 'failed')) {
      this.logger.info(
        {
          keys: keys.length,
          mutations: report.mutations,
          commands: report.commands,
          ms: report.ms,
          failed: keys.filter((r) => r.status === 'failed').map((r) => r.key),
        },
        'reconcile pass',
      );
    }
    return report;
  }

  /** Diff and apply one key. 'repaired' here means "applied, not yet verified". */
  private async applyKey(key: UnitKey, observed: Map<Driver, Map<UnitKey, unknown>>): Promise<KeyReport> {
    const applied: string[] = [];
    try {
      const plans = this.diff(key, observed);
      if (plans.length === 0) {
        this.settle(key);
        return { key, status: 'converged', actions: [] };
      }
      for (const { driver, actions } of plans) {
        const described = actions.map((a) => `${driver.name}: ${driver.describe?.(a) ?? JSON.stringify(a)}`);
        this.logger.info({ key, driver: driver.name, actions: described }, 'apply');
        await driver.apply(key, actions, this.ctx);
        applied.push(...described);
      }
      return { key, status: 'repaired', actions: applied };
    } catch (err) {
      return this.fail(key, err instanceof Error ? err.message : String(err), applied, err);
    }
  }

  private fail(key: UnitKey, message: string, actions: readonly string[], cause?: unknown): KeyReport {
    const b = this.backoff.get(key) ?? { failures: 0, nextAt: 0, lastError: '' };
    b.failures += 1;
    const delay = Math.min(this.config.backoffBaseMs * 2 ** (b.failures - 1), this.config.backoffMaxMs);
    b.nextAt = Date.now() + delay * (0.5 + this.random() * 0.5);
    b.lastError = message;
    b.cause = cause;
    this.backoff.set(key, b);
    this.logger.warn({ key, failures: b.failures, retryInMs: Math.round(b.nextAt - Date.now()), err: message }, 'reconcile failed');
    return { key, status: 'failed', actions, error: message };
  }

  private settle(key: UnitKey): void {
    this.backoff.delete(key);
    // Marked again while this pass ran (a new desired state): it stays dirty for the next pass.
    if ((this.marks.get(key) ?? 0) !== this.passMarks.get(key)) return;
    this.dirty.delete(key);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
