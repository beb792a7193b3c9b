import { readFile, readdir, stat } from 'node:fs/promises';

/** Process helpers. Processes are only ever signalled by PID, never by name. */

export async function readPidFile(path: string): Promise<number | null> {
  try {
    const pid = Number.parseInt((await readFile(path, 'utf8')).trim(), 10);
    return Number.isInteger(pid) && pid > 1 ? pid : null;
  } catch {
    return null;
  }
}

export async function processArgs(pid: number): Promise<string[] | null> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    if (raw === '') return null; // zombie or kernel thread
    return raw.replace(/\0$/, '').split('\0');
  } catch {
    return null;
  }
}

async function inode(path: string): Promise<number | null> {
  try {
    return (await stat(path)).ino;
  } catch {
    return null;
  }
}

/** Inode of a named network namespace (`/run/netns/<name>`), null if absent. */
export function namespaceInode(name: string): Promise<number | null> {
  return inode(`/run/netns/${name}`);
}

export function processNamespaceInode(pid: number): Promise<number | null> {
  return inode(`/proc/${pid}/ns/net`);
}

/** PIDs of every process whose network namespace is one of `inodes`. */
export async function pidsInNamespaces(inodes: ReadonlySet<number>): Promise<number[]> {
  if (inodes.size === 0) return [];
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const ino = await processNamespaceInode(pid);
    if (ino !== null && inodes.has(ino)) pids.push(pid);
  }
  return pids;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, wait, then SIGKILL. Zombies (children of a dead parent not yet reaped) count as gone. */
export async function terminate(pid: number, graceMs = 2000): Promise<void> {
  if (!signal(pid, 'SIGTERM')) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid) || (await processArgs(pid)) === null) return;
    await sleep(20);
  }
  signal(pid, 'SIGKILL');
  for (let i = 0; i < 100 && isAlive(pid) && (await processArgs(pid)) !== null; i++) await sleep(20);
}

export async function waitFor<T>(probe: () => Promise<T | null>, timeoutMs: number, intervalMs = 25): Promise<T | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() >= deadline) return null;
    await sleep(intervalMs);
  }
}

/** A daemon the agent runs inside a namespace, as observed. */
export interface DaemonProcess {
  readonly pid: number;
  readonly args: readonly string[];
  /** Running inside the namespace as it is now (not in an orphaned copy of it). */
  readonly inNamespace: boolean;
}

/**
 * The `binary` behind `pidFile`, if it is ours: a recycled PID belongs to someone else, so only a
 * process of that binary whose command line holds `mark` (our pid file or configuration) counts.
 */
export async function observeDaemon(pidFile: string, binary: string, mark: string, namespace: string): Promise<DaemonProcess | null> {
  const pid = await readPidFile(pidFile);
  if (pid === null) return null;
  const argv = await processArgs(pid);
  if (!argv || !argv[0]?.endsWith(binary) || !argv.includes(mark)) return null;
  const [nsIno, procIno] = await Promise.all([namespaceInode(namespace), processNamespaceInode(pid)]);
  return { pid, args: argv.slice(1), inNamespace: nsIno !== null && nsIno === procIno };
}
