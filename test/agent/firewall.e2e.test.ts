import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandRunner } from '../../src/agent/exec.js';
import { createExternalHost, plugInstance, type PluggedInstance } from '../../src/agent/lab.js';
import { isAlive, terminate } from '../../src/agent/procs.js';
import { Reconciler, type PassReport } from '../../src/agent/reconciler.js';
import { wipeHost } from '../../src/agent/wipe.js';
import {
  compileHostState,
  type Topology,
  type TopologyFirewallGroup,
  type TopologyFirewallRule,
  type TopologyPort,
  type TopologySecurityGroup,
  type TopologySecurityGroupRule,
} from '../../src/projections/desired-state/index.js';
import { sgTableName } from '../../src/projections/desired-state/security-groups.js';
import { HOST, port, rule, runPrefix, scenario } from './fixtures.js';
import { inNs, namespacesWithPrefix, requireHostTools } from './netns-tools.js';

/** Traffic helpers: only ever between namespaces of this run. */
const ECHO = `
import socket, sys, threading
def tcp(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(16)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()
def serve(c):
    try:
        while True:
            d = c.recv(4096)
            if not d: break
            c.sendall(d)
    except OSError:
        pass
    c.close()
def udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", port))
    while True:
        d, a = s.recvfrom(4096); s.sendto(d, a)
for spec in sys.argv[1:]:
    proto, port = spec.split("/")
    threading.Thread(target=tcp if proto == "tcp" else udp, args=(int(port),), daemon=True).start()
threading.Event().wait()
`;

// exit 0: echoed; 2: refused (ICMP unreachable / RST); 1: silence.
const PROBE = `
import socket, sys
proto, host, port, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
src = sys.argv[5] if len(sys.argv) > 5 else ""
try:
    if proto == "tcp":
        s = socket.socket(); s.settimeout(timeout)
        if src: s.bind((src, 0))
        s.connect((host, port)); s.sendall(b"x"); ok = s.recv(16) == b"x"
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(timeout)
        if src: s.bind((src, 0))
        s.connect((host, port)); s.send(b"x"); ok = s.recv(16) == b"x"
    sys.exit(0 if ok else 1)
except ConnectionRefusedError:
    sys.exit(2)
except OSError:
    sys.exit(1)
`;

export interface Echo {
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startEcho(ns: string, specs: readonly string[]): Promise<Echo> {
  const child = spawn('ip', ['netns', 'exec', ns, 'python3', '-u', '-c', ECHO, ...specs], { stdio: 'ignore' });
  const pid = child.pid;
  if (pid === undefined) throw new Error('echo server did not start');
  child.unref();
  const tcp = specs.find((s) => s.startsWith('tcp/'));
  for (let i = 0; tcp && i < 50; i++) {
    if ((await probe(ns, 'tcp', '127.0.0.1', Number(tcp.slice(4)), 0.5)) === 'ok') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { pid, stop: async () => (isAlive(pid) ? terminate(pid) : undefined) };
}

export type ProbeResult = 'ok' | 'refused' | 'silent';

export async function probe(
  ns: string,
  proto: 'tcp' | 'udp',
  host: string,
  port: number,
  timeoutS = 1.5,
  src?: string,
): Promise<ProbeResult> {
  const r = await inNs(ns, ['python3', '-c', PROBE, proto, host, String(port), String(timeoutS), ...(src ? [src] : [])], 15_000);
  return r.exitCode === 0 ? 'ok' : r.exitCode === 2 ? 'refused' : 'silent';
}

/** Retried while not `want` (a just-applied change, ARP): for asserting that something works. */
export async function probeUntil(
  ns: string,
  proto: 'tcp' | 'udp',
  host: string,
  port: number,
  want: ProbeResult,
  tries = 3,
): Promise<ProbeResult> {
  let last: ProbeResult = 'silent';
  for (let i = 0; i < tries; i++) {
    last = await probe(ns, proto, host, port);
    if (last === want) return last;
  }
  return last;
}

const CLIENT = `
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
s.settimeout(1.5)
print("connected", flush=True)
for line in sys.stdin:
    try:
        s.sendall(b"y"); print("ok" if s.recv(16) == b"y" else "bad", flush=True)
    except OSError:
        print("timeout", flush=True)
`;

/** One TCP connection kept open; `exchange()` sends a byte over it and says whether it came back. */
export interface Connection {
  exchange(): Promise<string>;
  close(): Promise<void>;
}

export async function openConnection(ns: string, host: string, port: number): Promise<Connection> {
  const child: ChildProcessWithoutNullStreams = spawn('ip', ['netns', 'exec', ns, 'python3', '-u', '-c', CLIENT, host, String(port)]);
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const r = await Promise.race([
      lines.next(),
      new Promise<{ value: string }>((res) => setTimeout(() => res({ value: 'no-answer' }), 8000)),
    ]);
    return String(r.value ?? 'closed');
  };
  const first = await next();
  if (first !== 'connected') {
    child.kill();
    throw new Error(`connection to ${host}:${port} failed: ${first}`);
  }
  return {
    exchange: async () => {
      child.stdin.write('go\n');
      return next();
    },
    close: async () => {
      child.stdin.end();
      const pid = child.pid;
      if (pid !== undefined && isAlive(pid)) await terminate(pid);
    },
  };
}

export async function pingFrom(ns: string, target: string, src?: string, tries = 3): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    const r = await inNs(ns, ['ping', '-n', '-q', '-c', '1', '-W', '1', ...(src ? ['-I', src] : []), target]);
    if (r.exitCode === 0) return true;
  }
  return false;
}

// ---- the scenario ----
// Real kernel, real packets. One tenant network (DHCP, router to an external network with an
// "internet" host), three instances: vm1 and vm2 in the project's default group D (ingress from
// D, egress anywhere), vm3 in group O. Everything carries this run's prefix; afterAll wipes it.
const prefix = runPrefix();
let stateDir = '';
const s = scenario(30);
const NET = '10.30.1';
const EXT_IP = '203.0.113.1';
const VIP = `${NET}.100`;
const SPOOF = `${NET}.101`;
const vm3Port = port(s.net, `${NET}.13`, 'compute:nova');
const D = 'd0000000-0000-4000-8000-000000000001';
const O = 'd0000000-0000-4000-8000-000000000002';
const defaultGroup = (extra: TopologySecurityGroupRule[] = []): TopologySecurityGroup => ({
  id: D,
  stateful: true,
  rules: [rule({ direction: 'ingress', remoteGroupId: D }), rule({ direction: 'egress' }), ...extra],
});
const otherGroup = (rules: TopologySecurityGroupRule[] = []): TopologySecurityGroup => ({ id: O, stateful: true, rules });

interface World {
  groups: TopologySecurityGroup[];
  vm2Pairs?: TopologyPort['allowedAddressPairs'];
  vm3Groups?: string[];
  vm3Security?: boolean;
  firewall?: TopologyFirewallGroup[];
  fip?: boolean;
}

function topology(w: World): Topology {
  const secure = (p: TopologyPort, groups: string[], pairs: TopologyPort['allowedAddressPairs'] = [], on = true): TopologyPort => ({
    ...p,
    portSecurityEnabled: on,
    securityGroups: on ? groups : [],
    allowedAddressPairs: on ? pairs : [],
  });
  const ports = s.topology.ports.map((p) => (p.id === s.vm1.id ? secure(p, [D]) : p.id === s.vm2.id ? secure(p, [D], w.vm2Pairs) : p));
  ports.push(secure(vm3Port, w.vm3Groups ?? [O], [], w.vm3Security ?? true));
  const floatingIps = w.fip
    ? s.topology.floatingIps.map((f) => ({
        ...f,
        fixedIpAddress: s.vm1.fixedIps[0]?.ipAddress ?? null,
        portId: s.vm1.id,
        routerId: s.router.id,
      }))
    : s.topology.floatingIps;
  return { ...s.topology, ports, floatingIps, securityGroups: w.groups, firewallGroups: w.firewall ?? [] };
}

let config: { namespacePrefix: string; hostNamespace: string; stateDir: string };
let agent: Reconciler;
let vm1: PluggedInstance;
let vm2: PluggedInstance;
let vm3: PluggedInstance;
let extNs = '';
const servers: Echo[] = [];

async function apply(w: World): Promise<PassReport> {
  agent.setDesired(compileHostState(topology(w), HOST, config));
  const report = await agent.runPass();
  expect(report.keys.filter((k) => k.status === 'failed')).toEqual([]);
  expect(agent.pendingKeys).toEqual([]);
  return report;
}

const netKey = `network:${s.net.id}`;
const actionsOf = (r: PassReport, key: string): readonly string[] => r.keys.find((k) => k.key === key)?.actions ?? [];

beforeAll(async () => {
  await requireHostTools();
  stateDir = await mkdtemp(join(tmpdir(), prefix));
  config = { namespacePrefix: prefix, hostNamespace: `${prefix}host`, stateDir };
  agent = new Reconciler({ config });
  agent.setDesired(compileHostState(topology({ groups: [defaultGroup(), otherGroup()] }), HOST, config));
  await agent.converge();
  expect(agent.pendingKeys).toEqual([]);
  // DHCP has to work through the filter: it is one of the implicit rules.
  vm1 = await plugInstance(agent.exec, agent.config, { portId: s.vm1.id, networkId: s.net.id, mac: s.vm1.macAddress });
  vm2 = await plugInstance(agent.exec, agent.config, { portId: s.vm2.id, networkId: s.net.id, mac: s.vm2.macAddress });
  vm3 = await plugInstance(agent.exec, agent.config, { portId: vm3Port.id, networkId: s.net.id, mac: vm3Port.macAddress });
  servers.push(await startEcho(vm1.namespace, ['tcp/80', 'tcp/81', 'udp/80']));
  servers.push(await startEcho(vm3.namespace, ['tcp/80']));
  extNs = await createExternalHost(agent.exec, agent.config, { name: 'inet', networkId: s.ext.id, address: `${EXT_IP}/24` });
  servers.push(await startEcho(extNs, ['tcp/8080', 'tcp/8081', 'udp/9999']));
}, 180_000);

afterAll(async () => {
  for (const e of servers) await e.stop().catch(() => undefined);
  if (config) await wipeHost(new CommandRunner(), agent.config);
  const left = await namespacesWithPrefix(prefix);
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
  expect(left).toEqual([]);
});

describe('security groups on a real kernel', () => {
  it('instances in the default group reach each other; another group without rules cannot', async () => {
    expect(vm1.lease.ip).toBe(`${NET}.11`);
    expect(vm3.lease.ip).toBe(`${NET}.13`);
    expect(await pingFrom(vm1.namespace, `${NET}.12`)).toBe(true);
    expect(await pingFrom(vm2.namespace, `${NET}.11`)).toBe(true);
    expect(await probeUntil(vm2.namespace, 'tcp', `${NET}.11`, 81, 'ok')).toBe('ok');
    expect(await pingFrom(vm3.namespace, `${NET}.11`, undefined, 1)).toBe(false);
    expect(await probe(vm3.namespace, 'tcp', `${NET}.11`, 80)).toBe('silent');
    // vm3's group has no ingress rule either.
    expect(await pingFrom(vm1.namespace, `${NET}.13`, undefined, 1)).toBe(false);
    // A converged pass changes nothing and stays cheap.
    await agent.resync();
    const again = await agent.runPass();
    expect(again.mutations).toBe(0);
  });

  it('an ingress TCP 80 rule lets exactly that through; removing it cuts the live connection', async () => {
    const withEgress = otherGroup([rule({ direction: 'egress' })]);
    await apply({ groups: [defaultGroup(), withEgress] });
    expect(await probe(vm3.namespace, 'tcp', `${NET}.11`, 80)).toBe('silent');

    const tcp80 = rule({ direction: 'ingress', protocol: 'tcp', portRangeMin: 80, portRangeMax: 80 });
    const report = await apply({ groups: [defaultGroup([tcp80]), withEgress] });
    // One group chain rewritten, not the ports' chains.
    expect(actionsOf(report, netKey).join(' ')).toMatch(/patch .* \(1 objects\)/);
    expect(await probeUntil(vm3.namespace, 'tcp', `${NET}.11`, 80, 'ok')).toBe('ok');
    expect(await probe(vm3.namespace, 'tcp', `${NET}.11`, 81)).toBe('silent');
    expect(await probe(vm3.namespace, 'udp', `${NET}.11`, 80)).toBe('silent');
    expect(await pingFrom(vm3.namespace, `${NET}.11`, undefined, 1)).toBe(false);

    const conn = await openConnection(vm3.namespace, `${NET}.11`, 80);
    try {
      expect(await conn.exchange()).toBe('ok');
      await apply({ groups: [defaultGroup(), withEgress] });
      expect(await conn.exchange()).toBe('timeout');
    } finally {
      await conn.close();
    }
    expect(await probe(vm3.namespace, 'tcp', `${NET}.11`, 80)).toBe('silent');
  });

  it('a remote-group rule follows membership through the set, without rewriting rules', async () => {
    const withEgress = otherGroup([rule({ direction: 'egress' })]);
    expect(await pingFrom(vm3.namespace, `${NET}.11`, undefined, 1)).toBe(false);
    const joined = await apply({ groups: [defaultGroup(), withEgress], vm3Groups: [O, D] });
    expect(await pingFrom(vm3.namespace, `${NET}.11`)).toBe(true);
    const set = await inNs(config.hostNamespace, ['nft', 'list', 'set', 'bridge', sgTableName(s.net.id), `rg4-${D}`]);
    expect(set.stdout).toContain(`${NET}.13`);
    // vm3's own chains gained a jump to D; every other chain stayed.
    expect(actionsOf(joined, netKey).join(' ')).toMatch(/patch/);

    const left = await apply({ groups: [defaultGroup(), withEgress] });
    expect(actionsOf(left, netKey).join(' ')).toMatch(/patch/);
    expect(await pingFrom(vm3.namespace, `${NET}.11`, undefined, 1)).toBe(false);
    const after = await inNs(config.hostNamespace, ['nft', 'list', 'set', 'bridge', sgTableName(s.net.id), `rg4-${D}`]);
    expect(after.stdout).not.toContain(`${NET}.13`);
  });

  it('allowed address pairs let a VRRP-style address through while a spoofed source is dropped', async () => {
    await execa('ip', ['-n', vm2.namespace, 'addr', 'add', `${VIP}/32`, 'dev', 'eth0']);
    await execa('ip', ['-n', vm2.namespace, 'addr', 'add', `${SPOOF}/32`, 'dev', 'eth0']);
    expect(await pingFrom(vm2.namespace, `${NET}.11`, VIP, 1)).toBe(false);
    await apply({ groups: [defaultGroup(), otherGroup()], vm2Pairs: [{ ipAddress: VIP, macAddress: s.vm2.macAddress }] });
    expect(await pingFrom(vm2.namespace, `${NET}.11`, VIP)).toBe(true);
    expect(await pingFrom(vm1.namespace, VIP)).toBe(true);
    expect(await pingFrom(vm2.namespace, `${NET}.11`, SPOOF, 2)).toBe(false);
    expect(await pingFrom(vm1.namespace, SPOOF, undefined, 2)).toBe(false);
    expect(await pingFrom(vm2.namespace, `${NET}.11`)).toBe(true);
  });

  it('port security off: no filtering and no anti-spoofing for that port', async () => {
    await execa('ip', ['-n', vm3.namespace, 'addr', 'add', `${NET}.102/32`, 'dev', 'eth0']);
    expect(await pingFrom(vm3.namespace, `${NET}.1`, `${NET}.102`, 1)).toBe(false);
    expect(await probe(vm1.namespace, 'tcp', `${NET}.13`, 80)).toBe('silent');
    await apply({ groups: [defaultGroup(), otherGroup()], vm3Security: false });
    expect(await probeUntil(vm1.namespace, 'tcp', `${NET}.13`, 80, 'ok')).toBe('ok');
    expect(await pingFrom(vm3.namespace, `${NET}.1`, `${NET}.102`)).toBe(true);
    expect(await pingFrom(vm3.namespace, `${NET}.1`)).toBe(true);
    // vm1 still filters what reaches it.
    expect(await pingFrom(vm3.namespace, `${NET}.11`, undefined, 1)).toBe(false);
  });
});

describe('FWaaS v2 on a router interface', () => {
  const riPortId = s.topology.routers[0]?.interfacePortIds[0] ?? '';
  let fwRuleSeq = 0;
  const fwRule = (r: Partial<TopologyFirewallRule> & Pick<TopologyFirewallRule, 'action'>): TopologyFirewallRule => ({
    id: `f${++fwRuleSeq}`,
    protocol: null,
    ipVersion: 4,
    sourceIpAddress: null,
    destinationIpAddress: null,
    sourcePort: null,
    destinationPort: null,
    ...r,
  });
  const icmpIn = rule({ direction: 'ingress', protocol: 'icmp' });
  const base: World = { groups: [defaultGroup([icmpIn]), otherGroup()], fip: true };

  it('egress policy: allow TCP 8080, reject TCP 8081 with ICMP, drop the rest', async () => {
    await apply(base);
    expect(await probeUntil(vm1.namespace, 'tcp', EXT_IP, 8080, 'ok')).toBe('ok');
    expect(await probe(vm1.namespace, 'tcp', EXT_IP, 8081)).toBe('ok');
    expect(await pingFrom(vm1.namespace, EXT_IP)).toBe(true);

    const group: TopologyFirewallGroup = {
      id: 'f0000000-0000-4000-8000-000000000001',
      adminStateUp: true,
      portIds: [riPortId],
      ingressRules: [fwRule({ action: 'allow', protocol: 'icmp' })],
      egressRules: [
        fwRule({ action: 'allow', protocol: 'tcp', destinationPort: '8080' }),
        fwRule({ action: 'reject', protocol: 'tcp', destinationPort: '8081:8082' }),
        fwRule({ action: 'deny', protocol: 'udp' }),
      ],
    };
    const report = await apply({ ...base, firewall: [group] });
    expect(actionsOf(report, `router:${s.router.id}`).join(' ')).toContain('netledger-fw');
    expect(await probeUntil(vm1.namespace, 'tcp', EXT_IP, 8080, 'ok')).toBe('ok');
    // Reject answers at once with ICMP port unreachable (connect() is refused), deny stays silent.
    expect(await probe(vm1.namespace, 'tcp', EXT_IP, 8081)).toBe('refused');
    expect(await probe(vm1.namespace, 'udp', EXT_IP, 9999)).toBe('silent');
    // Egress ICMP matches no rule: the implicit deny.
    expect(await pingFrom(vm1.namespace, EXT_IP, undefined, 1)).toBe(false);
    // Ingress ICMP is allowed: the external host pings the floating IP.
    expect(await pingFrom(extNs, s.fip.floatingIpAddress)).toBe(true);

    const noIngress = await apply({ ...base, firewall: [{ ...group, ingressRules: [] }] });
    expect(actionsOf(noIngress, `router:${s.router.id}`).length).toBeGreaterThan(0);
    expect(await pingFrom(extNs, s.fip.floatingIpAddress, undefined, 1)).toBe(false);
    // Replies to allowed egress still come back (stateful).
    expect(await probeUntil(vm1.namespace, 'tcp', EXT_IP, 8080, 'ok')).toBe('ok');

    await apply({ ...base, firewall: [{ ...group, portIds: [] }] });
    expect(await pingFrom(vm1.namespace, EXT_IP)).toBe(true);
    expect(await probe(vm1.namespace, 'tcp', EXT_IP, 8081)).toBe('ok');
    const left = await inNs(`${prefix}qrouter-${s.router.id}`, ['nft', 'list', 'tables']);
    expect(left.stdout).not.toContain('netledger-fw');
  });
});
