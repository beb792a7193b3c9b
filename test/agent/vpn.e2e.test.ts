import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipsecMode, readVpnStates } from '../../src/agent/drivers/vpn.js';
import { CommandRunner } from '../../src/agent/exec.js';
import { plugInstance, type PluggedInstance } from '../../src/agent/lab.js';
import { isAlive, processArgs, readPidFile, terminate, waitFor } from '../../src/agent/procs.js';
import { Reconciler, type PassReport } from '../../src/agent/reconciler.js';
import { wipeHost } from '../../src/agent/wipe.js';
import {
  compileHostState,
  ipsecDir,
  vpnPaths,
  type Topology,
  type TopologyRouter,
  type TopologyVpnConnection,
} from '../../src/projections/desired-state/index.js';
import { tapName } from '../../src/projections/desired-state/names.js';
import { HOST, network, port, runPrefix } from './fixtures.js';
import {
  download,
  inNs,
  namespacesWithPrefix,
  ping,
  pingOnce,
  requireHostTools,
  startBlob,
  startWhoami,
  whoami,
  type Listener,
} from './netns-tools.js';

// Two sites on one machine: two private networks, each behind its own router on one external
// network, joined by an IPsec site connection each way. Real charons, real packets.
const prefix = runPrefix();
let stateDir = '';
const ext = network({ cidr: '203.0.113.0/24', gateway: '203.0.113.1', dhcp: false, external: true });

interface Site {
  readonly net: ReturnType<typeof network>;
  readonly router: TopologyRouter;
  readonly ports: ReturnType<typeof port>[];
  readonly vm: ReturnType<typeof port>;
  readonly gatewayIp: string;
  readonly gatewayPortId: string;
  readonly cidr: string;
}

function site(octet: number, gatewayIp: string): Site {
  const cidr = `10.${octet}.1.0/24`;
  const net = network({ cidr, gateway: `10.${octet}.1.1`, dhcp: true });
  const routerId = randomUUID();
  const dhcp = port(net, `10.${octet}.1.2`, 'network:dhcp');
  const ri = port(net, `10.${octet}.1.1`, 'network:router_interface', { deviceId: routerId });
  const gw = port(ext, gatewayIp, 'network:router_gateway', { deviceId: routerId });
  const vm = port(net, `10.${octet}.1.11`, 'compute:nova');
  const router: TopologyRouter = {
    id: routerId,
    adminStateUp: true,
    interfacePortIds: [ri.id],
    gateway: { portId: gw.id, networkId: ext.id, enableSnat: true },
    routes: [],
  };
  return { net, router, ports: [dhcp, ri, gw, vm], vm, gatewayIp, gatewayPortId: gw.id, cidr };
}

const a = site(31, '203.0.113.10');
const b = site(32, '203.0.113.11');
const PSK = 'correct horse battery staple';

function connection(from: Site, to: Site, psk: string): TopologyVpnConnection {
  return {
    id: randomUUID(),
    routerId: from.router.id,
    adminStateUp: true,
    peerAddress: to.gatewayIp,
    peerId: to.gatewayIp,
    localId: null,
    psk,
    localCidrs: [from.cidr],
    peerCidrs: [to.cidr],
    initiator: 'bi-directional',
    dpd: { action: 'hold', interval: 30, timeout: 120 },
    ike: { ikeVersion: 'v1', authAlgorithm: 'sha1', encryptionAlgorithm: 'aes-128', pfs: 'group5', lifetimeSeconds: 3600 },
    ipsec: {
      transformProtocol: 'esp',
      encapsulationMode: 'tunnel',
      authAlgorithm: 'sha1',
      encryptionAlgorithm: 'aes-128',
      pfs: 'group5',
      lifetimeSeconds: 3600,
    },
  };
}

const ab = connection(a, b, PSK);
const ba = connection(b, a, PSK);

const base: Topology = {
  networks: [ext, a.net, b.net],
  ports: [...a.ports, ...b.ports],
  routers: [a.router, b.router],
  floatingIps: [],
};

let config: { namespacePrefix: string; hostNamespace: string; stateDir: string };
let agent: Reconciler;
let vmA: PluggedInstance;
let vmB: PluggedInstance;
const listeners: Listener[] = [];

function desire(vpnConnections: readonly TopologyVpnConnection[]): void {
  agent.setDesired(compileHostState({ ...base, vpnConnections }, HOST, config));
}

function expectClean(report: PassReport): void {
  expect(report.keys.filter((k) => k.status === 'failed')).toEqual([]);
}

async function converge(): Promise<void> {
  for (const r of await agent.converge()) expectClean(r);
  expect(agent.pendingKeys).toEqual([]);
}

async function statusOf(s: Site, c: TopologyVpnConnection) {
  return (await readVpnStates(agent.exec, ipsecDir(config, s.router.id), [c.id])).get(c.id);
}

async function waitStatus(s: Site, c: TopologyVpnConnection, status: 'ACTIVE' | 'DOWN', timeoutMs = 30_000) {
  return waitFor(
    async () => {
      const st = await statusOf(s, c);
      return st?.status === status ? st : null;
    },
    timeoutMs,
    200,
  );
}

// Every IPv4 packet on the external bridge while `during` runs: protocol, addresses, UDP ports.
const CAPTURE = `
import socket, struct, sys, json, select, os
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0003))
s.bind((sys.argv[1], 0))
print("ready", flush=True)
seen = set()
while not os.path.exists(sys.argv[2]):
    r, _, _ = select.select([s], [], [], 0.1)
    if not r:
        continue
    p = s.recv(65535)
    if p[12:14] != b"\\x08\\x00":
        continue
    ip = p[14:]
    proto = ip[9]; src = socket.inet_ntoa(ip[12:16]); dst = socket.inet_ntoa(ip[16:20])
    ihl = (ip[0] & 15) * 4
    sport, dport = struct.unpack("!HH", ip[ihl:ihl+4]) if proto == 17 else (0, 0)
    seen.add((proto, src, dst, sport, dport))
print(json.dumps(sorted(seen)), flush=True)
`;

async function capture(during: () => Promise<void>): Promise<[number, string, string, number, number][]> {
  const stop = join(stateDir, 'capture.stop');
  // A bridge's own device sees only what is addressed to it: capture on router A's gateway tap.
  const child = spawn('ip', ['netns', 'exec', config.hostNamespace, 'python3', '-u', '-c', CAPTURE, tapName(a.gatewayPortId), stop], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const it = lines[Symbol.asyncIterator]();
  expect((await it.next()).value).toBe('ready');
  try {
    await during();
  } finally {
    await writeFile(stop, '');
  }
  const out = (await it.next()).value as string;
  return JSON.parse(out) as [number, string, string, number, number][];
}

/** Alive and not a zombie (charon's parent shell is gone; whoever adopted it may reap late). */
async function running(pid: number): Promise<boolean> {
  return isAlive(pid) && (await processArgs(pid)) !== null;
}

async function charonPid(s: Site): Promise<number | null> {
  return readPidFile(vpnPaths(ipsecDir(config, s.router.id)).pid);
}

beforeAll(async () => {
  await requireHostTools();
  stateDir = await mkdtemp(join(tmpdir(), prefix));
  config = { namespacePrefix: prefix, hostNamespace: `${prefix}host`, stateDir };
  agent = new Reconciler({ config });
  desire([]);
  await converge();
  vmA = await plugInstance(agent.exec, agent.config, { portId: a.vm.id, networkId: a.net.id, mac: a.vm.macAddress });
  vmB = await plugInstance(agent.exec, agent.config, { portId: b.vm.id, networkId: b.net.id, mac: b.vm.macAddress });
  listeners.push(await startWhoami(vmB.namespace, 80));
}, 120_000);

afterAll(async () => {
  for (const l of listeners) await l.stop().catch(() => undefined);
  if (config) await wipeHost(new CommandRunner(), { ...agent.config });
  const left = await namespacesWithPrefix(prefix);
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
  expect(left).toEqual([]);
});

describe('VPNaaS site-to-site on a real kernel', () => {
  it('without a VPN the private networks do not reach each other', async () => {
    expect(vmA.lease.ip).toBe('10.31.1.11');
    expect(vmB.lease.ip).toBe('10.32.1.11');
    expect(await pingOnce(vmA.namespace, vmB.lease.ip)).toBe(false);
  });

  it('a connection each way brings the tunnel ACTIVE; ping and tcp/80 cross it unNATed, the external network sees only ESP', async () => {
    const mode = await ipsecMode(agent.exec);
    // This kernel may lack CONFIG_INET_ESP: then charon does ESP itself (kernel-libipsec).
    console.log(`ipsec mode: ${mode}`);
    const started = performance.now();
    desire([ab, ba]);
    await converge();
    expect(await waitStatus(a, ab, 'ACTIVE')).not.toBeNull();
    expect(await waitStatus(b, ba, 'ACTIVE')).not.toBeNull();
    console.log(`create to ACTIVE: ${Math.round(performance.now() - started)} ms`);

    const seen = await capture(async () => {
      expect(await ping(vmA.namespace, vmB.lease.ip)).toBe(true);
      // The receiver sees the sender's private address: no SNAT on the way.
      expect(await whoami(vmA.namespace, vmB.lease.ip, 80)).toBe(vmA.lease.ip);
    });
    expect(seen.length).toBeGreaterThan(0);
    const gateways = new Set([a.gatewayIp, b.gatewayIp]);
    const ike = [500, 4500];
    for (const [proto, src, dst, sport, dport] of seen) {
      expect(gateways.has(src) && gateways.has(dst), `${proto} ${src} > ${dst}`).toBe(true);
      // ESP (50), or ESP in UDP and IKE between the IKE ports (unNATed: no port randomised on the way).
      expect(
        proto === 50 || (proto === 17 && ike.includes(sport) && ike.includes(dport)),
        `${proto} ${src}:${sport} > ${dst}:${dport}`,
      ).toBe(true);
    }
    expect(seen.some(([proto, , , , dport]) => proto === 50 || dport === 4500)).toBe(true);
  });

  it('a converged pass runs no mutating command', async () => {
    await agent.resync();
    const report = await agent.runPass();
    expectClean(report);
    expect(report.mutations).toBe(0);
  });

  it('carries bulk TCP through the tunnel; its throughput is measured beside plain routing between the same routers', async () => {
    const bytes = 32 * 1024 * 1024;
    // Plain routing: site A's instance to site B's router on its external address (SNAT, no ESP).
    const routerB = `${prefix}qrouter-${b.router.id}`;
    listeners.push(await startBlob(vmB.namespace, 8080, bytes), await startBlob(routerB, 8080, bytes));
    const tunnel = await download(vmA.namespace, `http://${vmB.lease.ip}:8080/`);
    const plain = await download(vmA.namespace, `http://${b.gatewayIp}:8080/`);
    expect(tunnel.size).toBe(bytes);
    expect(plain.size).toBe(bytes);
    const mb = (x: { speed: number }) => (x.speed / 1e6).toFixed(1);
    console.log(
      `throughput (${await ipsecMode(agent.exec)} ESP): tunnel ${mb(tunnel)} MB/s, plain routing ${mb(plain)} MB/s ` +
        `(${((tunnel.speed / plain.speed) * 100).toFixed(0)}%), load average ${loadavg()[0]!.toFixed(1)}`,
    );
  }, 120_000);

  it('a wrong PSK keeps the connection DOWN with a reason; the right one brings it back ACTIVE without restarting charon', async () => {
    const pids = [await charonPid(a), await charonPid(b)];
    const wrong = { ...ba, psk: 'not the same secret' };
    desire([ab, wrong]);
    await converge();
    const down = await waitStatus(b, wrong, 'DOWN');
    expect(down).not.toBeNull();
    // Both sides retry, so the reason waits for a failed exchange to be logged.
    const reason = await waitFor(async () => (await statusOf(b, wrong))?.reason ?? (await statusOf(a, ab))?.reason ?? null, 30_000, 200);
    expect(reason).toMatch(/.+/);
    expect(await pingOnce(vmA.namespace, vmB.lease.ip)).toBe(false);

    desire([ab, ba]);
    await converge();
    expect(await waitStatus(b, ba, 'ACTIVE', 60_000)).not.toBeNull();
    expect(await waitStatus(a, ab, 'ACTIVE', 60_000)).not.toBeNull();
    expect(await ping(vmA.namespace, vmB.lease.ip, 10)).toBe(true);
    expect([await charonPid(a), await charonPid(b)]).toEqual(pids);
  }, 120_000);

  it('deleting the connections stops the tunnel and the charons, and leaves nothing behind', async () => {
    const pids = [await charonPid(a), await charonPid(b)];
    desire([]);
    await converge();
    for (const pid of pids) expect(pid !== null && (await running(pid))).toBe(false);
    expect(await readdir(join(stateDir, 'ipsec')).catch(() => [])).toEqual([]);
    expect(await pingOnce(vmA.namespace, vmB.lease.ip)).toBe(false);
    // SNAT is back for the peer's range: nothing bypasses it any more.
    const nat = await inNs(`${prefix}qrouter-${a.router.id}`, ['nft', 'list', 'table', 'ip', 'netledger-nat']);
    expect(nat.stdout).not.toContain('10.32.1.0/24');
    for (const pid of pids) if (pid !== null && (await running(pid))) await terminate(pid);
  });
});
