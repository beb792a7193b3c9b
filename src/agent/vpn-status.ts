import type { Logger } from 'pino';
import { reportIpsecSiteConnectionStatus } from '../app/vpn/vpn.js';
import type { Services } from '../app/services.js';
import type { HostState } from '../projections/desired-state/index.js';
import { ipsecMode, readVpnStates, type VpnConnectionState } from './drivers/vpn.js';
import type { CommandRunner } from './exec.js';
import { silentLogger } from './logger.js';
import { agentMetadata } from './registration.js';
import { Poller } from './poller.js';

/**
 * What charon says of this host's site connections goes back into the log, on a short period
 * (a tunnel comes up or drops without any event): ACTIVE once a child SA is installed, DOWN with
 * the reason charon logged. Only changes are reported; the decider shrugs off repeats anyway.
 */
export class VpnStatusReporter {
  private readonly reported = new Map<string, string>();
  private readonly poller = new Poller(
    () => this.poll(),
    () => this.options.intervalMs ?? 1000,
    (err) => this.log.error({ err }, 'VPN status poll failed'),
  );
  private readonly log: Logger;

  constructor(
    private readonly report: (id: string, state: VpnConnectionState) => Promise<void>,
    private readonly desired: () => HostState | null,
    private readonly exec: CommandRunner,
    private readonly options: { intervalMs?: number; logger?: Logger } = {},
  ) {
    this.log = options.logger ?? silentLogger;
  }

  async poll(): Promise<number> {
    const state = this.desired();
    if (!state) return 0;
    let sent = 0;
    for (const r of state.routers) {
      if (!r.vpn) continue;
      const states = await readVpnStates(
        this.exec,
        r.vpn.dir,
        r.vpn.connections.map((c) => c.name),
      );
      for (const [id, st] of states) {
        const key = `${st.status}|${st.reason ?? ''}`;
        if (this.reported.get(id) === key) continue;
        try {
          await this.report(id, st);
          this.reported.set(id, key);
          sent += 1;
        } catch (err) {
          this.log.warn({ err, connection: id }, 'VPN status report failed');
        }
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

/** The reporter of a running agent, reporting through the site connection's command as the agent. */
export function startVpnStatus(
  s: Services,
  host: string,
  desired: () => HostState | null,
  exec: CommandRunner,
  logger?: Logger,
): VpnStatusReporter {
  const reporter = new VpnStatusReporter(
    async (id, st) => {
      const out = await reportIpsecSiteConnectionStatus(s, id, st.status, st.reason?.slice(0, 1000) ?? null, agentMetadata(host));
      if (!out.ok && out.error.code !== 'IPsecSiteConnectionNotFound') throw new Error(`${out.error.code}: ${out.error.message}`);
    },
    desired,
    exec,
    logger ? { logger } : {},
  );
  void ipsecMode(exec).then((mode) =>
    logger?.info(
      { ipsecMode: mode },
      mode === 'kernel' ? 'VPN: ESP in the kernel' : 'VPN: the kernel has no ESP, charon does it (kernel-libipsec)',
    ),
  );
  reporter.start();
  return reporter;
}
