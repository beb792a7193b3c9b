import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { reportHaState } from '../app/routing/ha.js';
import type { Services } from '../app/services.js';
import type { HaState } from '../domain/router/index.js';
import type { HostState } from '../projections/desired-state/index.js';
import { silentLogger } from './logger.js';
import { agentMetadata } from './registration.js';
import { Poller } from './poller.js';

/** keepalived's notify states → Neutron's ha_state (a FAULT instance holds nothing: standby). */
export function haStateOf(keepalivedState: string): HaState | null {
  switch (keepalivedState.trim()) {
    case 'MASTER':
      return 'active';
    case 'BACKUP':
    case 'FAULT':
      return 'standby';
    default:
      return null;
  }
}

/**
 * This host's keepalived states go back into the log as they change: the notify script writes
 * `ha_confs/<router>/state`, read here on a short period (the file is a few bytes, and a failover
 * waits on this report to move the router's ports). Only changes are reported.
 */
export class HaStatusReporter {
  private readonly reported = new Map<string, HaState>();
  private readonly poller = new Poller(
    () => this.poll(),
    () => this.options.intervalMs ?? 100,
    (err) => this.log.error({ err }, 'HA state poll failed'),
  );
  private readonly log: Logger;

  constructor(
    private readonly report: (routerId: string, state: HaState) => Promise<void>,
    private readonly desired: () => HostState | null,
    private readonly options: { intervalMs?: number; logger?: Logger; changed?: () => void } = {},
  ) {
    this.log = options.logger ?? silentLogger;
  }

  /** The state this host last reported for the router; null before its first report. */
  stateOf(routerId: string): HaState | null {
    return this.reported.get(routerId) ?? null;
  }

  async poll(): Promise<number> {
    const state = this.desired();
    if (!state) return 0;
    let sent = 0;
    for (const r of state.routers) {
      if (!r.keepalived) continue;
      let raw: string;
      try {
        raw = await readFile(r.keepalived.stateFile, 'utf8');
      } catch {
        continue;
      }
      const st = haStateOf(raw);
      if (st === null || this.reported.get(r.routerId) === st) continue;
      try {
        await this.report(r.routerId, st);
        this.reported.set(r.routerId, st);
        this.options.changed?.();
        sent += 1;
        this.log.info({ routerId: r.routerId, haState: st }, 'HA router state changed');
      } catch (err) {
        this.log.warn({ err, routerId: r.routerId }, 'HA state report failed');
      }
    }
    return sent;
  }

  start(): void {
    this.poller.start();
  }

  stop(): Promise<void> {
    return this.poller.stop();
  }
}

/**
 * `changed` is told after each state this host reports: what the agent says for the router's
 * floating IPs follows its own state, and the report wakes no agent (RouterHaStateChanged needs no rebuild).
 */
export function startHaStatus(
  s: Services,
  host: string,
  desired: () => HostState | null,
  changed: () => void,
  logger?: Logger,
): HaStatusReporter {
  const reporter = new HaStatusReporter(
    async (routerId, st) => {
      const out = await reportHaState(s, agentMetadata(host), host, routerId, st);
      if (!out.ok && out.error.code !== 'RouterNotFound') throw new Error(`${out.error.code}: ${out.error.message}`);
    },
    desired,
    { changed, ...(logger ? { logger } : {}) },
  );
  reporter.start();
  return reporter;
}
