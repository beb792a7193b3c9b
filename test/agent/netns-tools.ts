import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { execa } from 'execa';
import { isAlive, namespaceInode, pidsInNamespaces, processArgs, terminate } from '../../src/agent/procs.js';

/** Test-side helpers. Traffic only ever flows between namespaces this run created. */

export async function inNs(ns: string, argv: string[], timeoutMs = 10_000): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await execa('ip', ['netns', 'exec', ns, ...argv], { reject: false, timeout: timeoutMs });
  return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** One ping (-c 1 -W 1), retried a bounded number of times (ARP, a just-applied route). */
export async function ping(ns: string, target: string, tries = 4): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if ((await inNs(ns, ['ping', '-n', '-q', '-c', '1', '-W', '1', target])).exitCode === 0) return true;
  }
  return false;
}

/** A single try: for asserting that something is NOT reachable. */
export async function pingOnce(ns: string, target: string): Promise<boolean> {
  return (await inNs(ns, ['ping', '-n', '-q', '-c', '1', '-W', '1', target])).exitCode === 0;
}

// Answers every HTTP request with the peer address it saw: what SNAT/DNAT did is in the body.
const WHOAMI = `
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(16)
while True:
    c, a = s.accept()
    try:
        c.settimeout(2); c.recv(4096)
        c.sendall(("HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\n" + a[0]).encode())
    except OSError:
        pass
    finally:
        c.close()
`;

export interface Listener {
  readonly pid: number;
  stop(): Promise<void>;
}

/** A python3 server in `ns`, ready once its port listens (a connection then waits in the backlog). */
async function startPythonServer(ns: string, code: string, port: number, args: readonly string[] = []): Promise<Listener> {
  const child = spawn('ip', ['netns', 'exec', ns, 'python3', '-u', '-c', code, String(port), ...args], { stdio: 'ignore' });
  const pid = child.pid;
  if (pid === undefined) throw new Error('the listener did not start');
  child.unref();
  for (let i = 0; i < 100; i++) {
    if ((await inNs(ns, ['ss', '-H', '-tln', `sport = :${port}`])).stdout.includes(`:${port}`)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pid,
    stop: async () => {
      if (isAlive(pid)) await terminate(pid);
    },
  };
}

/** Answers each HTTP request with the address it came from. */
export function startWhoami(ns: string, port: number): Promise<Listener> {
  return startPythonServer(ns, WHOAMI, port);
}

// Answers every HTTP request with `bytes` bytes: a bulk transfer without any tool beyond python3.
const BLOB = `
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(8)
n = int(sys.argv[2]); chunk = b"x" * 65536
while True:
    c, _ = s.accept()
    c.recv(4096)
    c.sendall(b"HTTP/1.0 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n" % n)
    left = n
    while left > 0:
        c.sendall(chunk[:min(left, len(chunk))]); left -= min(left, len(chunk))
    c.close()
`;

export function startBlob(ns: string, port: number, bytes: number): Promise<Listener> {
  return startPythonServer(ns, BLOB, port, [String(bytes)]);
}

/** Bytes received and curl's average speed (bytes/s) for one GET from `ns`. */
export async function download(ns: string, url: string): Promise<{ size: number; speed: number }> {
  const r = await inNs(ns, ['curl', '-s', '-o', '/dev/null', '--max-time', '60', '-w', '%{size_download} %{speed_download}', url], 70_000);
  const [size, speed] = r.stdout.trim().split(' ').map(Number);
  return { size: size ?? 0, speed: speed ?? 0 };
}

/** The source address `target` saw for a request from `ns`, or null if it was unreachable. */
export async function whoami(ns: string, target: string, port: number, tries = 3): Promise<string | null> {
  for (let i = 0; i < tries; i++) {
    const r = await inNs(ns, ['curl', '-s', '--max-time', '2', `http://${target}:${port}/`]);
    if (r.exitCode === 0) return r.stdout.trim();
  }
  return null;
}

export async function namespacesWithPrefix(prefix: string): Promise<string[]> {
  try {
    return (await readdir('/run/netns')).filter((n) => n.startsWith(prefix)).sort();
  } catch {
    return [];
  }
}

/** PIDs of the dnsmasq processes running in any of `namespaces`. */
export async function dnsmasqPids(namespaces: readonly string[]): Promise<number[]> {
  const inodes = new Set<number>();
  for (const n of namespaces) {
    const ino = await namespaceInode(n);
    if (ino !== null) inodes.add(ino);
  }
  const out: number[] = [];
  for (const pid of await pidsInNamespaces(inodes)) if ((await processArgs(pid))?.[0]?.endsWith('dnsmasq')) out.push(pid);
  return out;
}

export async function requireHostTools(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('dataplane tests need root (network namespaces)');
  for (const tool of ['ip', 'nft', 'dnsmasq', 'udhcpc|dhclient', 'conntrack', 'ping', 'curl', 'python3']) {
    if (!(await hasTool(tool))) throw new Error(`${tool} missing: run scripts/dataplane-deps.sh`);
  }
}

/** `a|b`: either will do. */
export async function hasTool(tool: string): Promise<boolean> {
  for (const t of tool.split('|')) {
    if ((await execa('sh', ['-c', `command -v ${t}`], { reject: false })).exitCode === 0) return true;
  }
  return false;
}
