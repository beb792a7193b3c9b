import { rm } from 'node:fs/promises';
import type { DriverContext } from './driver.js';
import type { Daemon } from './exec.js';
import { readOrNull } from './files.js';
import { namespaceInode, pidsInNamespaces, processArgs, readPidFile, terminate, waitFor } from './procs.js';

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
