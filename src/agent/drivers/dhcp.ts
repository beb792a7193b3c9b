import { chmod, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirExists, readOrNull, writeAtomic } from '../files.js';
import type { DnsmasqSpec, UnitKey } from '../../projections/desired-state/index.js';
import { dhcpDir, dhcpNamespace } from '../../projections/desired-state/names.js';
import { idOfKey } from '../config.js';
import { startDaemon } from '../daemon.js';
import type { Driver, DriverContext } from '../driver.js';
import { signal, terminate, observeDaemon, type DaemonProcess } from '../procs.js';

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

export type DhcpAction =
  | { readonly kind: 'write'; readonly name: string; readonly content: string }
  | { readonly kind: 'stop'; readonly pid: number }
  | { readonly kind: 'start'; readonly spec: DnsmasqSpec }
  | { readonly kind: 'reload'; readonly pid: number }
  | { readonly kind: 'remove-dir' };

const FILE_NAMES = ['addn_hosts', 'host', 'opts'] as const;

const observeProcess = (dir: string, namespace: string) => observeDaemon(`${dir}/pid`, 'dnsmasq', `--pid-file=${dir}/pid`, namespace);

async function ensureWorldReadable(dir: string): Promise<void> {
  const { mode } = await stat(dir);
  if ((mode & 0o005) !== 0o005) await chmod(dir, (mode & 0o7777) | 0o005);
}

export function diffDhcp(spec: DnsmasqSpec | null, observed: DhcpObservation): DhcpAction[] {
  const actions: DhcpAction[] = [];
  const proc = observed.process;
  if (spec === null) {
    if (proc) actions.push({ kind: 'stop', pid: proc.pid });
    if (observed.dirExists) actions.push({ kind: 'remove-dir' });
    return actions;
  }
  for (const f of spec.files) {
    if (observed.files.get(f.name) !== f.content) actions.push({ kind: 'write', name: f.name, content: f.content });
  }
  const healthy =
    proc !== null && proc.inNamespace && proc.args.length === spec.args.length && proc.args.every((a, i) => a === spec.args[i]);
  if (!healthy) {
    if (proc) actions.push({ kind: 'stop', pid: proc.pid });
    actions.push({ kind: 'start', spec });
  } else if (actions.length > 0) {
    actions.push({ kind: 'reload', pid: proc.pid });
  }
  return actions;
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
        case 'stop':
          await ctx.exec.mutate(`stop dnsmasq ${a.pid}`, () => terminate(a.pid));
          break;
        case 'start':
          await start(a.spec, namespace, ctx);
          break;
        case 'reload':
          await ctx.exec.mutate(`SIGHUP dnsmasq ${a.pid}`, () => signal(a.pid, 'SIGHUP'));
          break;
        case 'remove-dir':
          await ctx.exec.mutate(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
          break;
      }
    }
  },

  async discover(ctx) {
    try {
      const ids = await readdir(`${ctx.config.stateDir}/dhcp`);
      return ids.map((id): UnitKey => `network:${id}`);
    } catch {
      return [];
    }
  },

  describe(a) {
    return a.kind === 'write' ? `write ${a.name}` : 'pid' in a ? `${a.kind} ${a.pid}` : a.kind;
  },
};
