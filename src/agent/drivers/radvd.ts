import { mkdir } from 'node:fs/promises';
import { dirExists, readOrNull, writeAtomic } from '../files.js';
import type { RadvdSpec, UnitKey } from '../../projections/desired-state/index.js';
import { radvdDir, routerNamespace } from '../../projections/desired-state/names.js';
import { idOfKey } from '../config.js';
import { applyDaemonLifecycle, daemonLifecycle, startDaemon, unitsInStateDir, type DaemonLifecycle } from '../daemon.js';
import type { Driver, DriverContext } from '../driver.js';
import { observeDaemon, type DaemonProcess } from '../procs.js';

/**
 * Router advertisements: one radvd per qrouter namespace, as Neutron's L3 agent runs it, with its
 * config, pid file and log under `<stateDir>/ra/<router id>/`. The running process is checked
 * through its pid file, its command line and its network namespace (one left in a deleted
 * namespace advertises to nobody); a changed config is written and radvd re-reads it on SIGHUP.
 */

export type RadvdProcess = DaemonProcess;

export interface RadvdObservation {
  readonly dirExists: boolean;
  readonly config: string | null;
  readonly process: RadvdProcess | null;
}

export type RadvdAction = { readonly kind: 'write-config'; readonly spec: RadvdSpec } | DaemonLifecycle<RadvdSpec>;

const pidFileOf = (dir: string): string => `${dir}/radvd.pid`;

const observeProcess = (dir: string, namespace: string) => observeDaemon(pidFileOf(dir), 'radvd', pidFileOf(dir), namespace);

export function diffRadvd(spec: RadvdSpec | null, observed: RadvdObservation): RadvdAction[] {
  const changed = spec !== null && observed.config !== spec.config;
  return [
    ...(changed ? [{ kind: 'write-config', spec } as const] : []),
    ...daemonLifecycle(spec, observed.process, observed.dirExists, changed),
  ];
}

async function start(spec: RadvdSpec, namespace: string, ctx: DriverContext): Promise<void> {
  await startDaemon(ctx, {
    daemon: 'radvd',
    namespace,
    args: spec.args,
    pidFile: spec.pidFile,
    logFile: `${spec.dir}/radvd.out`,
    extraLogs: [`${spec.dir}/radvd.log`],
  });
}

export const radvdDriver: Driver<RadvdObservation, RadvdAction> = {
  name: 'radvd',

  async observe(keys, _snapshot, ctx) {
    const out = new Map<UnitKey, RadvdObservation>();
    for (const key of keys) {
      if (!key.startsWith('router:')) continue;
      const id = idOfKey(key);
      const dir = radvdDir(ctx.config, id);
      out.set(key, {
        dirExists: await dirExists(dir),
        config: await readOrNull(`${dir}/radvd.conf`),
        process: await observeProcess(dir, routerNamespace(ctx.config, id)),
      });
    }
    return out;
  },

  diff(key, unit, observed) {
    if (!key.startsWith('router:') || !observed) return [];
    return diffRadvd(unit?.kind === 'router' ? (unit.router.radvd ?? null) : null, observed);
  },

  async apply(key, actions, ctx) {
    const id = idOfKey(key);
    const dir = radvdDir(ctx.config, id);
    const namespace = routerNamespace(ctx.config, id);
    for (const a of actions) {
      switch (a.kind) {
        case 'write-config':
          await ctx.exec.mutate(`write ${a.spec.configFile}`, async () => {
            await mkdir(dir, { recursive: true, mode: 0o755 });
            await writeAtomic(a.spec.configFile, a.spec.config);
          });
          break;
        case 'start':
          await start(a.spec, namespace, ctx);
          break;
        default:
          await applyDaemonLifecycle(ctx, 'radvd', dir, a);
      }
    }
  },

  discover: (ctx) => unitsInStateDir(ctx, 'ra', 'router'),

  describe(a) {
    return 'pid' in a ? `${a.kind} radvd ${a.pid}` : `${a.kind} radvd`;
  },
};
