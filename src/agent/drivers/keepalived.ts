import { chmod, mkdir } from 'node:fs/promises';
import { dirExists, readOrNull, writeAtomic } from '../files.js';
import type { KeepalivedSpec, UnitKey } from '../../projections/desired-state/index.js';
import { haConfDir } from '../../projections/desired-state/keepalived.js';
import { routerNamespace } from '../../projections/desired-state/names.js';
import { idOfKey } from '../config.js';
import { applyDaemonLifecycle, daemonLifecycle, startDaemon, unitsInStateDir, type DaemonLifecycle } from '../daemon.js';
import type { Driver, DriverContext } from '../driver.js';
import { observeDaemon, type DaemonProcess } from '../procs.js';

/**
 * VRRP for HA routers: one keepalived per hosting qrouter namespace, as Neutron's L3 agent runs
 * it (`keepalived -P -f <conf> -p <pid> -r <pid>-vrrp`), with its files under
 * `<stateDir>/ha_confs/<router id>/`. The process is checked through its pid file, its command
 * line and its namespace; a changed config is written and re-read on SIGHUP (keepalived keeps its
 * VRRP state across a reload), so a converged router costs no command at all.
 */

export type KeepalivedProcess = DaemonProcess;

export interface KeepalivedObservation {
  readonly dirExists: boolean;
  readonly config: string | null;
  readonly notifyScript: string | null;
  readonly process: KeepalivedProcess | null;
}

export type KeepalivedAction = { readonly kind: 'write-files'; readonly spec: KeepalivedSpec } | DaemonLifecycle<KeepalivedSpec>;

const pidFileOf = (dir: string): string => `${dir}/keepalived.pid`;

const observeProcess = (dir: string, namespace: string) => observeDaemon(pidFileOf(dir), 'keepalived', pidFileOf(dir), namespace);

export function diffKeepalived(spec: KeepalivedSpec | null, observed: KeepalivedObservation): KeepalivedAction[] {
  const changed = spec !== null && (observed.config !== spec.config || observed.notifyScript !== spec.notifyScript);
  return [
    ...(changed ? [{ kind: 'write-files', spec } as const] : []),
    ...daemonLifecycle(spec, observed.process, observed.dirExists, changed),
  ];
}

async function start(spec: KeepalivedSpec, namespace: string, ctx: DriverContext): Promise<void> {
  // A stray keepalived would be a second VRRP speaker; a state left by an earlier run would be
  // reported as this one's (keepalived's first notify writes it again).
  await startDaemon(ctx, {
    daemon: 'keepalived',
    namespace,
    args: spec.args,
    pidFile: spec.pidFile,
    logFile: `${spec.dir}/keepalived.out`,
    staleFiles: [`${spec.pidFile}-vrrp`, spec.stateFile],
  });
}

export const keepalivedDriver: Driver<KeepalivedObservation, KeepalivedAction> = {
  name: 'keepalived',

  async observe(keys, _snapshot, ctx) {
    const out = new Map<UnitKey, KeepalivedObservation>();
    for (const key of keys) {
      if (!key.startsWith('router:')) continue;
      const id = idOfKey(key);
      const dir = haConfDir(ctx.config.stateDir, id);
      out.set(key, {
        dirExists: await dirExists(dir),
        config: await readOrNull(`${dir}/keepalived.conf`),
        notifyScript: await readOrNull(`${dir}/notify.sh`),
        process: await observeProcess(dir, routerNamespace(ctx.config, id)),
      });
    }
    return out;
  },

  diff(key, unit, observed) {
    if (!key.startsWith('router:') || !observed) return [];
    return diffKeepalived(unit?.kind === 'router' ? (unit.router.keepalived ?? null) : null, observed);
  },

  async apply(key, actions, ctx) {
    const id = idOfKey(key);
    const dir = haConfDir(ctx.config.stateDir, id);
    const namespace = routerNamespace(ctx.config, id);
    for (const a of actions) {
      switch (a.kind) {
        case 'write-files':
          await ctx.exec.mutate(`write ${a.spec.configFile}`, async () => {
            // enable_script_security: the script and every directory above it writable by root only.
            await mkdir(dir, { recursive: true, mode: 0o755 });
            await chmod(dir, 0o755);
            await writeAtomic(`${dir}/notify.sh`, a.spec.notifyScript, 0o755);
            await writeAtomic(a.spec.configFile, a.spec.config);
          });
          break;
        case 'start':
          await start(a.spec, namespace, ctx);
          break;
        default:
          await applyDaemonLifecycle(ctx, 'keepalived', dir, a);
      }
    }
  },

  discover: (ctx) => unitsInStateDir(ctx, 'ha_confs', 'router'),

  describe(a) {
    return 'pid' in a ? `${a.kind} keepalived ${a.pid}` : `${a.kind} keepalived`;
  },
};
