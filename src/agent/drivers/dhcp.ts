import { chmod, mkdir, stat } from 'node:fs/promises';
import { dirExists, readOrNull, writeAtomic } from '../files.js';
import type { DnsmasqSpec, UnitKey } from '../../projections/desired-state/index.js';
import { dhcpDir, dhcpNamespace } from '../../projections/desired-state/names.js';
import { idOfKey } from '../config.js';
import { applyDaemonLifecycle, daemonLifecycle, startDaemon, unitsInStateDir, type DaemonLifecycle } from '../daemon.js';
import type { Driver, DriverContext } from '../driver.js';
import { observeDaemon, type DaemonProcess } from '../procs.js';

/**
 * One dnsmasq per served network, in its qdhcp namespace. Files are compared with what is on
 * disk; the running process is checked through its pid file, its command line (so a changed
 * subnet set restarts it) and its network namespace (a namespace deleted under a running dnsmasq
 * leaves it serving nobody).
 */

export type DnsmasqProcess = DaemonProcess;

export interface DhcpObservation {
  readonly namespace: string;
  readonly dir: string;
  readonly dirExists: boolean;
  readonly files: ReadonlyMap<string, string | null>;
  readonly process: DnsmasqProcess | null;
}

export type DhcpAction = { readonly kind: 'write'; readonly name: string; readonly content: string } | DaemonLifecycle<DnsmasqSpec>;

const FILE_NAMES = ['addn_hosts', 'host', 'opts'] as const;

const observeProcess = (dir: string, namespace: string) => observeDaemon(`${dir}/pid`, 'dnsmasq', `--pid-file=${dir}/pid`, namespace);

async function ensureWorldReadable(dir: string): Promise<void> {
  const { mode } = await stat(dir);
  if ((mode & 0o005) !== 0o005) await chmod(dir, (mode & 0o7777) | 0o005);
}

export function diffDhcp(spec: DnsmasqSpec | null, observed: DhcpObservation): DhcpAction[] {
  const writes = (spec?.files ?? [])
    .filter((f) => observed.files.get(f.name) !== f.content)
    .map((f) => ({ kind: 'write', name: f.name, content: f.content }) as const);
  return [...writes, ...daemonLifecycle(spec, observed.process, observed.dirExists, writes.length > 0)];
}

async function start(spec: DnsmasqSpec, namespace: string, ctx: DriverContext): Promise<void> {
  await startDaemon(ctx, { daemon: 'dnsmasq', namespace, args: spec.args, pidFile: spec.pidFile, logFile: `${spec.dir}/dnsmasq.log` });
}

export const dhcpDriver: Driver<DhcpObservation, DhcpAction> = {
  name: 'dhcp',

  async observe(keys, _snapshot, ctx) {
    const out = new Map<UnitKey, DhcpObservation>();
    for (const key of keys) {
      if (!key.startsWith('network:')) continue;
      const id = idOfKey(key);
      const dir = dhcpDir(ctx.config, id);
      const namespace = dhcpNamespace(ctx.config, id);
      const contents = await Promise.all(FILE_NAMES.map((n) => readOrNull(`${dir}/${n}`)));
      out.set(key, {
        namespace,
        dir,
        dirExists: await dirExists(dir),
        files: new Map(FILE_NAMES.map((n, i) => [n, contents[i] ?? null])),
        process: await observeProcess(dir, namespace),
      });
    }
    return out;
  },

  diff(key, unit, observed) {
    if (!key.startsWith('network:') || !observed) return [];
    return diffDhcp(unit?.kind === 'network' ? (unit.network.dhcp?.dnsmasq ?? null) : null, observed);
  },

  async apply(key, actions, ctx) {
    const id = idOfKey(key);
    const dir = dhcpDir(ctx.config, id);
    const namespace = dhcpNamespace(ctx.config, id);
    for (const a of actions) {
      switch (a.kind) {
        case 'write':
          await ctx.exec.mutate(`write ${dir}/${a.name}`, async () => {
            // dnsmasq drops privileges and re-reads these on SIGHUP: keep them world-readable.
            await mkdir(dir, { recursive: true, mode: 0o755 });
            for (const d of [ctx.config.stateDir, `${ctx.config.stateDir}/dhcp`, dir]) await ensureWorldReadable(d);
            await writeAtomic(`${dir}/${a.name}`, a.content);
          });
          break;
        case 'start':
          await start(a.spec, namespace, ctx);
          break;
        default:
          await applyDaemonLifecycle(ctx, 'dnsmasq', dir, a);
      }
    }
  },

  discover: (ctx) => unitsInStateDir(ctx, 'dhcp', 'network'),

  describe(a) {
    return a.kind === 'write' ? `write ${a.name}` : 'pid' in a ? `${a.kind} ${a.pid}` : a.kind;
  },
};
