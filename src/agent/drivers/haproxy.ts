import { createHash } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirExists, readOrNull, writeAtomic } from '../files.js';
import { connect } from 'node:net';
import type { HaproxyFile, LoadBalancerUnit, UnitKey } from '../../projections/desired-state/index.js';
import {
  HAPROXY_HELPER_FILES,
  haproxyPaths,
  isLoadBalancerKey,
  lbaasDir,
  lbaasNamespace,
} from '../../projections/desired-state/haproxy.js';
import { idOfKey } from '../config.js';
import type { Driver, DriverContext } from '../driver.js';
import { probeNamespaces, type NamespaceObservation } from '../probe.js';
import {
  namespaceInode,
  pidsInNamespaces,
  processArgs,
  readPidFile,
  terminate,
  waitFor,
  observeDaemon,
  type DaemonProcess,
} from '../procs.js';
import { diffNamespace, linksDriver, type LinkAction } from './links.js';

/**
 * Load balancers: the `qlbaas-<lb>` namespace with its VIP port, and one HAProxy in master-worker
 * mode per load balancer. Like the neutron-lbaas namespace driver, this driver plumbs its own
 * namespace (with the links driver's diff and apply) and runs HAProxy on top.
 *
 * A configuration is checked with `haproxy -c` before it becomes `haproxy.cfg`; a rejected one fails the key
 * with HAProxy's own message and leaves the running HAProxy alone. Changes reload through the
 * master CLI: the master re-executes, the new worker takes the listening sockets over from the
 * stats socket (`expose-fd listeners`) and the old worker finishes its connections (soft stop),
 * so nothing established is cut. `<dir>/live` holds the digest of the configuration the running
 * master loaded; `<dir>/generation` the generation that is live (what the health reader reports).
 */

export type HaproxyProcess = DaemonProcess;

export interface LoadBalancerObservation {
  readonly host: NamespaceObservation;
  readonly own: NamespaceObservation;
  readonly dirExists: boolean;
  readonly config: string | null;
  readonly live: string | null;
  readonly generation: string | null;
  readonly files: ReadonlyMap<string, string | null>;
  readonly process: HaproxyProcess | null;
}

export type HaproxyAction =
  | { readonly kind: 'stop'; readonly pid: number }
  | { readonly kind: 'links'; readonly actions: readonly LinkAction[] }
  | { readonly kind: 'write-file'; readonly file: HaproxyFile }
  | { readonly kind: 'start'; readonly config: string; readonly generation: number }
  | { readonly kind: 'reload'; readonly pid: number; readonly config: string; readonly generation: number }
  | { readonly kind: 'write-config'; readonly config: string }
  | { readonly kind: 'mark'; readonly generation: number }
  | { readonly kind: 'remove-dir' };

const PHASE: Readonly<Record<HaproxyAction['kind'], number>> = {
  stop: 0,
  links: 1,
  'write-file': 2,
  'write-config': 3,
  start: 3,
  reload: 3,
  mark: 4,
  'remove-dir': 5,
};

/** A configuration HAProxy refused (`haproxy -c`), with its ALERT lines. */
export class HaproxyConfigError extends Error {
  constructor(readonly alerts: string) {
    super(`haproxy rejected the configuration: ${alerts}`);
    this.name = 'HaproxyConfigError';
  }
}

export const configDigest = (config: string): string => createHash('sha256').update(config).digest('hex');

/** Arguments after `haproxy`; a reloaded master appends `-sf <old workers> -x <socket>`, so compare as a prefix. */
export function haproxyArgs(dir: string): string[] {
  const p = haproxyPaths(dir);
  return ['-W', '-D', '-f', p.config, '-p', p.pid, '-S', `${p.master},mode,600`];
}

const observeProcess = (dir: string, namespace: string) =>
  observeDaemon(haproxyPaths(dir).pid, 'haproxy', haproxyPaths(dir).config, namespace);

/** One command on an HAProxy socket (stats or master CLI), answered and closed. */
/** Applying a load balancer's generation failed; the message is the cause's own. */
export class LoadBalancerApplyError extends Error {
  constructor(
    readonly generation: number,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'LoadBalancerApplyError';
  }
}

export function haproxySocketCommand(path: string, command: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let out = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${path}: no answer to '${command}' within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    // The master CLI keeps the connection open after a command unless told to quit.
    socket.on('connect', () => socket.write(`${command}; quit\n`));
    socket.on('data', (d: string) => (out += d));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

export interface MasterProcs {
  readonly reloads: number;
  readonly failedReloads: number;
  readonly workers: readonly number[];
}

/** The master CLI's `show proc`: the master's reload counters and its current (not old) workers. */
export function parseShowProc(text: string): MasterProcs | null {
  let reloads = -1;
  let failedReloads = 0;
  const workers: number[] = [];
  let section = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) {
      section = line.startsWith('# workers') ? 'workers' : line.startsWith('# ') ? 'other' : section;
      continue;
    }
    const master = /^(\d+)\s+master\s+(\d+)(?:\s+\[failed:\s*(\d+)\])?/.exec(line);
    if (master) {
      reloads = Number(master[2]);
      failedReloads = Number(master[3] ?? 0);
    } else if (section === 'workers') {
      const w = /^(\d+)\s+worker\b/.exec(line);
      if (w) workers.push(Number(w[1]));
    }
  }
  return reloads < 0 ? null : { reloads, failedReloads, workers };
}

async function showProc(dir: string): Promise<MasterProcs | null> {
  try {
    return parseShowProc(await haproxySocketCommand(haproxyPaths(dir).master, 'show proc'));
  } catch {
    return null;
  }
}

async function logTail(dir: string): Promise<string> {
  const log = (await readOrNull(haproxyPaths(dir).log)) ?? '';
  return alertsOf(log.split('\n').slice(-20).join('\n')) || log.slice(-500).trim();
}

/** HAProxy's ALERT lines, without the pid noise, for error messages. */
export function alertsOf(output: string): string {
  return output
    .split('\n')
    .filter((l) => l.includes('[ALERT]'))
    .map((l) =>
      l
        .replace(/^\[ALERT\]\s*\(\d+\)\s*:\s*/, '')
        .replace(/haproxy\.cfg\.new/g, 'haproxy.cfg')
        .trim(),
    )
    .join('; ');
}

/**
 * Writes the candidate next to the live file, has `haproxy -c` check exactly those bytes and only
 * then renames it into place: a rejected configuration never becomes `haproxy.cfg`.
 */
async function writeConfig(dir: string, config: string, ctx: DriverContext): Promise<void> {
  const target = haproxyPaths(dir).config;
  const candidate = `${target}.new`;
  await ctx.exec.mutate(`write ${candidate}`, async () => {
    await mkdir(dir, { recursive: true, mode: 0o755 });
    await writeFile(candidate, config, { mode: 0o644 });
  });
  const r = await ctx.exec.run('haproxy', ['-c', '-f', candidate], { mutating: false, reject: false });
  if (r.exitCode !== 0) {
    await ctx.exec.mutate(`remove ${candidate}`, () => rm(candidate, { force: true }));
    throw new HaproxyConfigError(alertsOf(`${r.stdout}\n${r.stderr}`) || `${r.stdout}${r.stderr}`.trim().slice(-1000));
  }
  await ctx.exec.mutate(`install ${target}`, () => rename(candidate, target));
}

async function start(dir: string, namespace: string, config: string, ctx: DriverContext): Promise<void> {
  await writeConfig(dir, config, ctx);
  const paths = haproxyPaths(dir);
  const ino = await namespaceInode(namespace);
  if (ino === null) throw new Error(`namespace ${namespace} does not exist`);
  // An HAProxy left behind (agent killed before it read the pid file) would hold the ports.
  for (const pid of await pidsInNamespaces(new Set([ino]))) {
    if ((await processArgs(pid))?.[0]?.endsWith('haproxy')) await ctx.exec.mutate(`stop stray haproxy ${pid}`, () => terminate(pid));
  }
  await ctx.exec.mutate('remove stale pid and live files', async () => {
    await rm(paths.pid, { force: true });
    await rm(paths.live, { force: true });
  });
  const r = await ctx.exec.run('ip', ['netns', 'exec', namespace, 'haproxy', ...haproxyArgs(dir)], {
    mutating: true,
    daemon: 'haproxy',
    logFile: paths.log,
    reject: false,
  });
  if (r.exitCode !== 0) throw new Error(`haproxy in ${namespace} did not start: ${await logTail(dir)}`);
  const pid = await waitFor(() => readPidFile(paths.pid), ctx.config.daemonStartTimeoutMs);
  const procs = await waitFor(async () => {
    const p = await showProc(dir);
    return p && p.workers.length > 0 ? p : null;
  }, ctx.config.daemonStartTimeoutMs);
  if (pid === null || procs === null) throw new Error(`haproxy in ${namespace} has no worker: ${await logTail(dir)}`);
  await ctx.exec.mutate('record live config', () => writeAtomic(paths.live, configDigest(config)));
}

async function reload(dir: string, config: string, ctx: DriverContext): Promise<void> {
  const before = await showProc(dir);
  if (!before) throw new Error(`haproxy master CLI ${haproxyPaths(dir).master} does not answer`);
  await writeConfig(dir, config, ctx);
  await ctx.exec.mutate('haproxy reload', () => haproxySocketCommand(haproxyPaths(dir).master, 'reload'));
  // The master re-executes (its CLI is briefly away), then forks a worker on the new file.
  const after = await waitFor(async () => {
    const p = await showProc(dir);
    if (!p || p.reloads <= before.reloads) return null;
    if (p.failedReloads > before.failedReloads) return p;
    return p.workers.length > 0 && p.workers.every((w) => !before.workers.includes(w)) ? p : null;
  }, ctx.config.daemonStartTimeoutMs);
  if (!after) throw new Error(`haproxy reload did not complete: ${await logTail(dir)}`);
  if (after.failedReloads > before.failedReloads) throw new Error(`haproxy reload failed: ${await logTail(dir)}`);
  await ctx.exec.mutate('record live config', () => writeAtomic(haproxyPaths(dir).live, configDigest(config)));
}

export function diffLoadBalancer(spec: LoadBalancerUnit | null, observed: LoadBalancerObservation, hostNamespace: string): HaproxyAction[] {
  const actions: HaproxyAction[] = [];
  const proc = observed.process;
  if (spec === null) {
    if (proc) actions.push({ kind: 'stop', pid: proc.pid });
    if (observed.own.exists) actions.push({ kind: 'links', actions: [{ kind: 'netns-del', ns: observed.own.name }] });
    if (observed.dirExists) actions.push({ kind: 'remove-dir' });
    return actions;
  }
  const links = diffNamespace(spec.namespace, observed.own, observed.host, hostNamespace);
  const hp = spec.haproxy;
  const running = proc !== null && proc.inNamespace && haproxyArgs(spec.dir).every((a, i) => proc.args[i] === a);
  if (proc && (!running || !hp)) actions.push({ kind: 'stop', pid: proc.pid });
  if (links.length > 0) actions.push({ kind: 'links', actions: links });
  if (hp) {
    for (const f of hp.files) if (observed.files.get(f.name) !== f.content) actions.push({ kind: 'write-file', file: f });
    if (!running) actions.push({ kind: 'start', config: hp.config, generation: spec.generation });
    else if (observed.live !== configDigest(hp.config))
      actions.push({ kind: 'reload', pid: proc.pid, config: hp.config, generation: spec.generation });
    else if (observed.config !== hp.config) actions.push({ kind: 'write-config', config: hp.config });
  }
  if (observed.generation?.trim() !== String(spec.generation)) actions.push({ kind: 'mark', generation: spec.generation });
  return actions;
}

/**
 * Reconcile keys the load balancer driver owns outright: other drivers that know nothing of
 * `lb:` keys (the links driver would look for a qdhcp namespace) are wrapped with this.
 */
export function exceptLoadBalancers<O, A>(driver: Driver<O, A>): Driver<O, A> {
  return {
    ...driver,
    observe: (keys, snapshot, ctx) =>
      driver.observe(
        keys.filter((k) => !isLoadBalancerKey(k)),
        snapshot,
        ctx,
      ),
    diff: (key, unit, observed, ctx) => (isLoadBalancerKey(key) ? [] : driver.diff(key, unit, observed, ctx)),
  };
}

export const haproxyDriver: Driver<LoadBalancerObservation, HaproxyAction> = {
  name: 'haproxy',

  async observe(keys, snapshot, ctx) {
    const out = new Map<UnitKey, LoadBalancerObservation>();
    const ours = keys.filter(isLoadBalancerKey);
    if (ours.length === 0) return out;
    const host = snapshot.get(ctx.config.hostNamespace);
    if (!host) throw new Error('host namespace missing from probe');
    // The shared probe does not know qlbaas namespaces: one more batched read for all of them.
    const namespaces = ours.map((k) => lbaasNamespace(ctx.config, idOfKey(k)));
    const own = await probeNamespaces(ctx.exec, namespaces, []);
    for (const key of ours) {
      const id = idOfKey(key);
      const dir = lbaasDir(ctx.config, id);
      const paths = haproxyPaths(dir);
      const namespace = lbaasNamespace(ctx.config, id);
      const ns = own.get(namespace);
      if (!ns) throw new Error(`namespace ${namespace} missing from probe`);
      const names = HAPROXY_HELPER_FILES;
      const contents = await Promise.all(names.map((n) => readOrNull(`${dir}/${n}`)));
      const [config, live, generation] = await Promise.all([
        readOrNull(paths.config),
        readOrNull(paths.live),
        readOrNull(paths.generation),
      ]);
      out.set(key, {
        host,
        own: ns,
        dirExists: await dirExists(dir),
        config,
        live: live?.trim() ?? null,
        generation,
        files: new Map(names.map((n, i) => [n, contents[i] ?? null])),
        process: await observeProcess(dir, namespace),
      });
    }
    return out;
  },

  diff(key, unit, observed, ctx) {
    if (!isLoadBalancerKey(key) || !observed) return [];
    return diffLoadBalancer(unit?.kind === 'lb' ? unit.loadBalancer : null, observed, ctx.config.hostNamespace);
  },

  async apply(key, actions, ctx) {
    const id = idOfKey(key);
    const dir = lbaasDir(ctx.config, id);
    const namespace = lbaasNamespace(ctx.config, id);
    const paths = haproxyPaths(dir);
    const sorted = [...actions].sort((a, b) => PHASE[a.kind] - PHASE[b.kind]);
    const generation = sorted.map((a) => ('generation' in a ? a.generation : null)).find((g) => g !== null) ?? null;
    try {
      for (const a of sorted) {
        switch (a.kind) {
          case 'stop':
            await ctx.exec.mutate(`stop haproxy ${a.pid}`, async () => {
              await terminate(a.pid);
              await rm(paths.live, { force: true });
            });
            break;
          case 'links':
            await linksDriver.apply(key, a.actions, ctx);
            break;
          case 'write-file':
            await ctx.exec.mutate(`write ${dir}/${a.file.name}`, async () => {
              await mkdir(dir, { recursive: true, mode: 0o755 });
              await writeAtomic(`${dir}/${a.file.name}`, a.file.content, a.file.mode);
            });
            break;
          case 'start':
            await start(dir, namespace, a.config, ctx);
            break;
          case 'reload':
            await reload(dir, a.config, ctx);
            break;
          case 'write-config':
            await ctx.exec.mutate(`write ${paths.config}`, () => writeAtomic(paths.config, a.config));
            break;
          case 'mark':
            await ctx.exec.mutate(`mark generation ${a.generation}`, async () => {
              await mkdir(dir, { recursive: true, mode: 0o755 });
              await writeAtomic(paths.generation, `${a.generation}\n`);
            });
            break;
          case 'remove-dir':
            await ctx.exec.mutate(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
            break;
        }
      }
    } catch (err) {
      // The reconciler keeps what a key threw; the health reporter turns this into
      // recordApplyFailed for that generation.
      if (generation !== null) throw new LoadBalancerApplyError(generation, err);
      throw err;
    }
  },

  async discover(ctx) {
    const keys = new Set<UnitKey>();
    const prefix = lbaasNamespace(ctx.config, '');
    for (const n of await readdir('/run/netns').catch(() => [] as string[])) {
      if (n.startsWith(prefix) && n.length > prefix.length) keys.add(`lb:${n.slice(prefix.length)}`);
    }
    for (const id of await readdir(`${ctx.config.stateDir}/lbaas`).catch(() => [] as string[])) keys.add(`lb:${id}`);
    return [...keys];
  },

  describe(a) {
    switch (a.kind) {
      case 'links':
        return a.actions.map((x) => linksDriver.describe?.(x) ?? x.kind).join('; ');
      case 'write-file':
        return `write ${a.file.name}`;
      case 'stop':
      case 'reload':
        return `${a.kind} ${a.pid}`;
      case 'mark':
        return `mark generation ${a.generation}`;
      default:
        return a.kind;
    }
  },
};
