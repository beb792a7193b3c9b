import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { readOrNull, writeAtomic } from '../files.js';
import type { RouterVpnSpec, UnitKey } from '../../projections/desired-state/index.js';
import { routerNamespace } from '../../projections/desired-state/names.js';
import { ipsecDir, renderStrongswanConf, renderSwanctlConf, vpnPaths, type IpsecMode } from '../../projections/desired-state/vpn.js';
import { idOfKey } from '../config.js';
import type { Driver, DriverContext } from '../driver.js';
import type { CommandRunner } from '../exec.js';
import { namespaceInode, processArgs, processNamespaceInode, readPidFile, terminate, waitFor } from '../procs.js';

/**
 * VPNaaS: one strongSwan charon per router with site connections, inside its qrouter namespace.
 * charon compiles its pid file path in (/var/run/charon.pid), so each one runs in a mount
 * namespace of its own with the router's `run/` bind-mounted over /run; its strongswan.conf comes
 * from STRONGSWAN_CONF. Connections and secrets are (re)loaded through the vici socket with
 * swanctl; a connection that goes away has its SAs terminated. charon restarts only when its own
 * configuration (the ESP mode) changes.
 *
 * ESP: the kernel's (xfrm + esp4) where the kernel has it; otherwise charon's kernel-libipsec
 * does ESP in userspace over a TUN device, UDP-encapsulated. `ipsecMode` finds out once.
 */

export const CHARON = '/usr/lib/ipsec/charon';

export interface CharonProcess {
  readonly pid: number;
  /** Running inside the router's current namespace (not an orphaned one). */
  readonly inNamespace: boolean;
}

export interface VpnObservation {
  readonly mode: IpsecMode;
  readonly dirExists: boolean;
  readonly strongswanConf: string | null;
  readonly swanctlConf: string | null;
  /** Digest of each connection's block (and secret) as charon last loaded it; empty when unknown. */
  readonly loaded: ReadonlyMap<string, string>;
  readonly process: CharonProcess | null;
  /** Connection names charon has loaded; empty when it does not answer. */
  readonly connections: readonly string[];
}

export type VpnAction =
  | { readonly kind: 'stop'; readonly pid: number }
  | { readonly kind: 'write'; readonly file: 'strongswanConf' | 'swanctlConf'; readonly content: string }
  | { readonly kind: 'start' }
  | { readonly kind: 'load'; readonly digests: Readonly<Record<string, string>> }
  | { readonly kind: 'terminate'; readonly name: string }
  | { readonly kind: 'restart-connection'; readonly name: string; readonly initiate: boolean }
  | { readonly kind: 'remove-dir' };

export const digestOf = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Per connection: what charon must be told again when it changes (its own block and secret, rendered alone). */
export function connectionDigests(spec: RouterVpnSpec, mode: IpsecMode): Record<string, string> {
  return Object.fromEntries(spec.connections.map((c) => [c.name, digestOf(renderSwanctlConf({ ...spec, connections: [c] }, mode))]));
}

function parseLoaded(text: string | null): Map<string, string> {
  try {
    return new Map(Object.entries(JSON.parse(text ?? '{}') as Record<string, string>));
  } catch {
    return new Map();
  }
}

let detected: Promise<IpsecMode> | null = null;

/**
 * Whether this kernel does ESP: an ESP state added in a throwaway network namespace (gone when
 * `unshare` exits, so nothing on the host changes). Without CONFIG_INET_ESP the kernel answers
 * "Requested type not found". Asked once per agent process.
 */
export function ipsecMode(exec: CommandRunner): Promise<IpsecMode> {
  detected ??= (async () => {
    const spi = `0x${randomBytes(4).toString('hex')}`;
    const r = await exec.run(
      'unshare',
      [
        '--net',
        'ip',
        'xfrm',
        'state',
        'add',
        'src',
        '192.0.2.1',
        'dst',
        '192.0.2.2',
        'proto',
        'esp',
        'spi',
        spi,
        'mode',
        'tunnel',
        'enc',
        'cbc(aes)',
        `0x${'00'.repeat(16)}`,
        'auth',
        'hmac(sha1)',
        `0x${'00'.repeat(20)}`,
      ],
      { mutating: false, reject: false },
    );
    return r.exitCode === 0 ? 'kernel' : 'libipsec';
  })();
  return detected;
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function observeCharon(dir: string, namespace: string): Promise<CharonProcess | null> {
  const pid = await readPidFile(vpnPaths(dir).pid);
  if (pid === null) return null;
  // A recycled PID is someone else's: ours is a charon reading our strongswan.conf.
  if ((await processArgs(pid))?.[0] !== CHARON) return null;
  const environ = await readOrNull(`/proc/${pid}/environ`);
  if (!environ?.split('\0').includes(`STRONGSWAN_CONF=${vpnPaths(dir).strongswanConf}`)) return null;
  const [nsIno, procIno] = await Promise.all([namespaceInode(namespace), processNamespaceInode(pid)]);
  return { pid, inNamespace: nsIno !== null && nsIno === procIno };
}

/** `swanctl` against one router's charon, with that charon's configuration. */
export function swanctl(exec: CommandRunner, dir: string, args: readonly string[], mutating: boolean) {
  const p = vpnPaths(dir);
  return exec.run('env', [`STRONGSWAN_CONF=${p.strongswanConf}`, 'swanctl', ...args, '--uri', `unix://${p.vici}`], {
    mutating,
    reject: false,
    timeoutMs: 15_000,
  });
}

/** Connection names in `swanctl --list-conns` output (top-level lines `name: IKEv1, ...`). */
export function parseListConns(text: string): string[] {
  return text
    .split('\n')
    .map((l) => /^(\S+): IKE/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined)
    .sort();
}

export function diffVpn(spec: RouterVpnSpec | null, observed: VpnObservation): VpnAction[] {
  const actions: VpnAction[] = [];
  const proc = observed.process;
  if (spec === null) {
    if (proc) actions.push({ kind: 'stop', pid: proc.pid });
    if (observed.dirExists) actions.push({ kind: 'remove-dir' });
    return actions;
  }
  const ss = renderStrongswanConf(spec.dir, observed.mode);
  const sw = renderSwanctlConf(spec, observed.mode);
  const restart = proc !== null && (!proc.inNamespace || observed.strongswanConf !== ss);
  if (restart) actions.push({ kind: 'stop', pid: proc.pid });
  if (observed.strongswanConf !== ss) actions.push({ kind: 'write', file: 'strongswanConf', content: ss });
  if (observed.swanctlConf !== sw) actions.push({ kind: 'write', file: 'swanctlConf', content: sw });
  const running = proc !== null && !restart;
  if (!running) actions.push({ kind: 'start' });
  const wanted = spec.connections.map((c) => c.name);
  const digests = connectionDigests(spec, observed.mode);
  const sameConns = running && wanted.length === observed.connections.length && wanted.every((n) => observed.connections.includes(n));
  const sameDigests = wanted.length === observed.loaded.size && wanted.every((n) => observed.loaded.get(n) === digests[n]);
  if (!running || !sameConns || !sameDigests) actions.push({ kind: 'load', digests });
  if (running) {
    for (const name of observed.connections) if (!wanted.includes(name)) actions.push({ kind: 'terminate', name });
    // A replaced connection keeps its SAs (negotiated with the old settings): renegotiate it.
    for (const c of spec.connections) {
      const before = observed.loaded.get(c.name);
      if (before !== undefined && before !== digests[c.name])
        actions.push({ kind: 'restart-connection', name: c.name, initiate: c.startAction === 'start' });
    }
  }
  return actions;
}

const PHASE: Readonly<Record<VpnAction['kind'], number>> = {
  stop: 0,
  write: 1,
  start: 2,
  load: 3,
  terminate: 4,
  'restart-connection': 4,
  'remove-dir': 5,
};

async function startCharon(dir: string, namespace: string, ctx: DriverContext): Promise<void> {
  const p = vpnPaths(dir);
  if ((await namespaceInode(namespace)) === null) throw new Error(`namespace ${namespace} does not exist`);
  await ctx.exec.mutate(`prepare ${p.run}`, async () => {
    await mkdir(p.run, { recursive: true, mode: 0o700 });
    await rm(p.pid, { force: true });
    await rm(p.vici, { force: true });
    await rm(p.loaded, { force: true });
  });
  // The shell backgrounds charon (it does not daemonise) and exits; the mount namespace lives on with it.
  const script = 'mount --bind "$1" /run && { env STRONGSWAN_CONF="$2" setsid "$3" </dev/null >>"$4" 2>&1 & }';
  await ctx.exec.run(
    'ip',
    [
      'netns',
      'exec',
      namespace,
      'unshare',
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      script,
      'sh',
      p.run,
      p.strongswanConf,
      CHARON,
      p.log,
    ],
    {
      mutating: true,
      daemon: 'charon',
    },
  );
  const up = await waitFor(
    async () => ((await swanctl(ctx.exec, dir, ['--stats'], false)).exitCode === 0 ? true : null),
    ctx.config.daemonStartTimeoutMs,
    50,
  );
  if (up === null) throw new Error(`charon in ${namespace} did not start: ${((await readOrNull(p.log)) ?? '').slice(-500).trim()}`);
}

async function load(dir: string, digests: Readonly<Record<string, string>>, ctx: DriverContext): Promise<void> {
  const p = vpnPaths(dir);
  for (const args of [['--load-creds', '--clear', '--noprompt'], ['--load-conns']]) {
    const r = await swanctl(ctx.exec, dir, [...args, '--file', p.swanctlConf], true);
    if (r.exitCode !== 0)
      throw new Error(
        `swanctl ${args[0]} failed: ${(r.stderr || r.stdout)
          .split('\n')
          .filter((l) => !l.startsWith('opening directory'))
          .join(' ')
          .trim()
          .slice(-500)}`,
      );
  }
  await ctx.exec.mutate(`record loaded ${p.loaded}`, () => writeAtomic(p.loaded, `${JSON.stringify(digests)}\n`, 0o600));
}

export const vpnDriver: Driver<VpnObservation, VpnAction> = {
  name: 'vpn',

  async observe(keys, _snapshot, ctx) {
    const out = new Map<UnitKey, VpnObservation>();
    for (const key of keys) {
      if (!key.startsWith('router:')) continue;
      const id = idOfKey(key);
      const dir = ipsecDir(ctx.config, id);
      const namespace = routerNamespace(ctx.config, id);
      const dirExists = await isDir(dir);
      const p = vpnPaths(dir);
      const process = dirExists ? await observeCharon(dir, namespace) : null;
      const listed = process ? await swanctl(ctx.exec, dir, ['--list-conns'], false) : null;
      out.set(key, {
        mode: await ipsecMode(ctx.exec),
        dirExists,
        strongswanConf: await readOrNull(p.strongswanConf),
        swanctlConf: await readOrNull(p.swanctlConf),
        loaded: parseLoaded(await readOrNull(p.loaded)),
        process,
        connections: listed?.exitCode === 0 ? parseListConns(listed.stdout) : [],
      });
    }
    return out;
  },

  diff(key, unit, observed) {
    if (!key.startsWith('router:') || !observed) return [];
    const spec = unit?.kind === 'router' ? (unit.router.vpn ?? null) : null;
    if (spec === null && !observed.dirExists && observed.process === null) return [];
    return diffVpn(spec, observed);
  },

  async apply(key, actions, ctx) {
    const id = idOfKey(key);
    const dir = ipsecDir(ctx.config, id);
    const namespace = routerNamespace(ctx.config, id);
    const p = vpnPaths(dir);
    for (const a of [...actions].sort((x, y) => PHASE[x.kind] - PHASE[y.kind])) {
      switch (a.kind) {
        case 'stop':
          await ctx.exec.mutate(`stop charon ${a.pid}`, () => terminate(a.pid));
          break;
        case 'write':
          // swanctl.conf holds the pre-shared keys.
          await ctx.exec.mutate(`write ${p[a.file]}`, async () => {
            await mkdir(dir, { recursive: true, mode: 0o700 });
            await writeAtomic(p[a.file], a.content, 0o600);
          });
          break;
        case 'start':
          await startCharon(dir, namespace, ctx);
          break;
        case 'load':
          await load(dir, a.digests, ctx);
          break;
        case 'terminate':
          await swanctl(ctx.exec, dir, ['--terminate', '--ike', a.name, '--force', '--timeout', '5'], true);
          break;
        case 'restart-connection':
          await swanctl(ctx.exec, dir, ['--terminate', '--ike', a.name, '--force', '--timeout', '5'], true);
          // Initiation goes on in charon (retried there) after swanctl stops waiting.
          if (a.initiate) await swanctl(ctx.exec, dir, ['--initiate', '--child', a.name, '--timeout', '1'], true);
          break;
        case 'remove-dir':
          await ctx.exec.mutate(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
          break;
      }
    }
  },

  async discover(ctx) {
    return (await readdir(`${ctx.config.stateDir}/ipsec`).catch(() => [] as string[])).map((id): UnitKey => `router:${id}`);
  },

  describe(a) {
    switch (a.kind) {
      case 'stop':
        return `stop charon ${a.pid}`;
      case 'write':
        return `write ${a.file}`;
      case 'terminate':
        return `terminate ${a.name}`;
      case 'restart-connection':
        return `renegotiate ${a.name}`;
      default:
        return a.kind;
    }
  },
};

export interface VpnConnectionState {
  readonly status: 'ACTIVE' | 'DOWN';
  /** Why it is down, from charon's log of that connection; null when up or unknown. */
  readonly reason: string | null;
}

/** Child SAs (`  <name>: #n, reqid r, INSTALLED, …`) in `swanctl --list-sas`: INSTALLED means the tunnel carries traffic. */
export function parseInstalledChildren(text: string): Set<string> {
  const up = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^\s+(\S+): #\d+, reqid \d+, (\w+)/.exec(line);
    if (m?.[1] !== undefined && m[2] === 'INSTALLED') up.add(m[1]);
  }
  return up;
}

const FAILURE =
  /AUTHENTICATION_FAILED|authentication .* failed|NO_PROPOSAL_CHOSEN|no matching|invalid HASH|INVALID_|giving up|retransmit .* of request|peer not responding|establishing .* failed|unable to|deleting IKE_SA/i;

/** The last failure charon logged for `name` (lines tagged `<name|n>`), without its timestamp and thread. */
export function lastFailure(log: string, name: string): string | null {
  const tag = `<${name}|`;
  const lines = log.split('\n').filter((l) => l.includes(tag) && FAILURE.test(l));
  const last = lines.at(-1);
  return last === undefined
    ? null
    : last
        .slice(last.indexOf(tag))
        .replace(/^<[^>]*>\s*/, '')
        .trim();
}

/**
 * What charon says of a router's connections: ACTIVE when a child SA is installed, else DOWN with
 * the last failure it logged. A charon that does not answer reports every connection DOWN.
 */
export async function readVpnStates(exec: CommandRunner, dir: string, names: readonly string[]): Promise<Map<string, VpnConnectionState>> {
  const r = await swanctl(exec, dir, ['--list-sas'], false);
  const up = r.exitCode === 0 ? parseInstalledChildren(r.stdout) : new Set<string>();
  const log = up.size === names.length ? '' : ((await readOrNull(vpnPaths(dir).log)) ?? '').slice(-200_000);
  const out = new Map<string, VpnConnectionState>();
  for (const name of names) {
    out.set(
      name,
      up.has(name)
        ? { status: 'ACTIVE', reason: null }
        : { status: 'DOWN', reason: r.exitCode === 0 ? lastFailure(log, name) : 'charon does not answer' },
    );
  }
  return out;
}
