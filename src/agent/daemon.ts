import { readdir, rm } from 'node:fs/promises';
import type { UnitKey } from '../projections/desired-state/index.js';
import type { DriverContext } from './driver.js';
import type { Daemon } from './exec.js';
import { readOrNull } from './files.js';
import { namespaceInode, pidsInNamespaces, processArgs, readPidFile, signal, terminate, waitFor, type DaemonProcess } from './procs.js';

export interface DaemonStart {
  readonly daemon: Daemon;
  readonly namespace: string;
  readonly args: readonly string[];
  readonly pidFile: string;
  /** Where its stdout and stderr go; quoted when it fails to start. */
  readonly logFile: string;
  /** Files of an earlier run this one must not be taken for (its pid file always is). */
  readonly staleFiles?: readonly string[];
  /** More logs to quote when it fails to start. */
  readonly extraLogs?: readonly string[];
}

/**
 * Starts one daemon inside a namespace and waits for its pid file. A copy of it left behind (the
 * agent killed before it read the pid file) would be a second speaker on the same port, so any
 * process of that binary in the namespace is stopped first, and stale files go with it.
 */
export async function startDaemon(ctx: DriverContext, d: DaemonStart): Promise<number> {
  const ino = await namespaceInode(d.namespace);
  if (ino === null) throw new Error(`namespace ${d.namespace} does not exist`);
  for (const pid of await pidsInNamespaces(new Set([ino]))) {
    if ((await processArgs(pid))?.[0]?.endsWith(d.daemon)) await ctx.exec.mutate(`stop stray ${d.daemon} ${pid}`, () => terminate(pid));
  }
  await ctx.exec.mutate(`remove stale ${d.daemon} files`, async () => {
    for (const f of [d.pidFile, ...(d.staleFiles ?? [])]) await rm(f, { force: true });
  });
  await ctx.exec.run('ip', ['netns', 'exec', d.namespace, d.daemon, ...d.args], { mutating: true, daemon: d.daemon, logFile: d.logFile });
  const pid = await waitFor(() => readPidFile(d.pidFile), ctx.config.daemonStartTimeoutMs);
  if (pid === null) {
    let log = '';
    for (const f of [d.logFile, ...(d.extraLogs ?? [])]) log += (await readOrNull(f)) ?? '';
    throw new Error(`${d.daemon} in ${d.namespace} wrote no pid file: ${log.slice(-500)}`);
  }
  return pid;
}

/**
 * What a driver that runs one daemon per unit (dnsmasq, radvd, keepalived) does with the process
 * and its directory, around writing its own files.
 */
export type DaemonLifecycle<S> =
  | { readonly kind: 'stop'; readonly pid: number }
  | { readonly kind: 'start'; readonly spec: S }
  | { readonly kind: 'reload'; readonly pid: number }
  | { readonly kind: 'remove-dir' };

/**
 * Not wanted: stop it and remove its directory. Wanted: start one that is missing, running in a
 * namespace other than its own (a deleted one serves nobody) or with other arguments (the old one
 * stopped first); a healthy one whose files changed re-reads them on SIGHUP.
 */
export function daemonLifecycle<S extends { readonly args: readonly string[] }>(
  spec: S | null,
  proc: DaemonProcess | null,
  dirExists: boolean,
  filesChanged: boolean,
): DaemonLifecycle<S>[] {
  if (spec === null)
    return [...(proc ? [{ kind: 'stop', pid: proc.pid } as const] : []), ...(dirExists ? [{ kind: 'remove-dir' } as const] : [])];
  const healthy =
    proc !== null && proc.inNamespace && proc.args.length === spec.args.length && proc.args.every((a, i) => a === spec.args[i]);
  if (!healthy) return [...(proc ? [{ kind: 'stop', pid: proc.pid } as const] : []), { kind: 'start', spec }];
  return filesChanged ? [{ kind: 'reload', pid: proc.pid }] : [];
}

/** Carries out a stop, a reload or the removal of the unit's directory `dir`. */
export async function applyDaemonLifecycle(
  ctx: DriverContext,
  daemon: Daemon,
  dir: string,
  a: Exclude<DaemonLifecycle<unknown>, { kind: 'start' }>,
): Promise<void> {
  switch (a.kind) {
    case 'stop':
      await ctx.exec.mutate(`stop ${daemon} ${a.pid}`, () => terminate(a.pid));
      break;
    case 'reload':
      await ctx.exec.mutate(`SIGHUP ${daemon} ${a.pid}`, () => signal(a.pid, 'SIGHUP'));
      break;
    case 'remove-dir':
      await ctx.exec.mutate(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
      break;
  }
}

/** The units whose directories are under `<stateDir>/<sub>`: what a host still holds, wanted or not. */
export async function unitsInStateDir(ctx: DriverContext, sub: string, kind: 'router' | 'network'): Promise<UnitKey[]> {
  const ids = await readdir(`${ctx.config.stateDir}/${sub}`).catch(() => [] as string[]);
  return ids.map((id): UnitKey => `${kind}:${id}`);
}
