import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandRunner } from '../../src/agent/exec.js';
import { createExternalHost, plugInstance, plugInstanceLink, startDhcpv6Client, type PluggedInstance } from '../../src/agent/lab.js';
import { isAlive, readPidFile, terminate } from '../../src/agent/procs.js';
import { Reconciler, type PassReport } from '../../src/agent/reconciler.js';
import { wipeHost } from '../../src/agent/wipe.js';
import { eui64Address } from '../../src/domain/ipam/index.js';
import type { Ipv6Mode } from '../../src/domain/subnet/events.js';
import {
  compileHostState,
  routerNamespace,
  type Topology,
  type TopologyNetwork,
  type TopologyPort,
  type TopologyRouter,
  type TopologySecurityGroup,
  type TopologySecurityGroupRule,
  type TopologySubnet,
} from '../../src/projections/desired-state/index.js';
import { HOST, mac, runPrefix } from './fixtures.js';
import { hasTool, inNs, namespacesWithPrefix, ping, pingOnce, requireHostTools } from './netns-tools.js';

// Real kernel, real packets, IPv6: radvd in the router namespace, the instance kernel's SLAAC
// from its advertisements, dnsmasq's DHCPv6 answering dhclient -6, v6 routing across the router
// and out of its gateway without NAT, and a v6 security-group rule.
const prefix = runPrefix();
let stateDir = '';
let config: { namespacePrefix: string; hostNamespace: string; stateDir: string };
let agent: Reconciler;

function subnet(
  cidr: string,
  gatewayIp: string | null,
  opts: { dhcp?: boolean; ra?: Ipv6Mode | null; address?: Ipv6Mode | null } = {},
): TopologySubnet {
  return {
    id: randomUUID(),
    ipVersion: cidr.includes(':') ? 6 : 4,
    cidr,
    gatewayIp,
    enableDhcp: opts.dhcp ?? true,
    dnsNameservers: [],
    hostRoutes: [],
    allocationPools: [],
    ipv6RaMode: opts.ra ?? null,
    ipv6AddressMode: opts.address ?? null,
  };
}

function network(subnets: TopologySubnet[], external = false): TopologyNetwork {
  return { id: randomUUID(), mtu: 1500, external, segment: { networkType: 'flat', physicalNetwork: null, segmentationId: null }, subnets };
}

function port(
  net: TopologyNetwork,
  deviceOwner: string,
  ips: (m: string) => { subnetId: string; ipAddress: string }[],
  extra: Partial<TopologyPort> = {},
): TopologyPort {
  const m = mac();
  return {
    id: randomUUID(),
    networkId: net.id,
    macAddress: m,
    fixedIps: ips(m),
    deviceOwner,
    deviceId: randomUUID(),
    bindingHost: HOST,
    adminStateUp: true,
    ...extra,
  };
}

function rule(
  direction: 'ingress' | 'egress',
  ethertype: 'IPv4' | 'IPv6',
  protocol: string | null,
  portRange: number | null = null,
): TopologySecurityGroupRule {
  return {
    id: randomUUID(),
    direction,
    ethertype,
    protocol,
    portRangeMin: portRange,
    portRangeMax: portRange,
    remoteIpPrefix: null,
    remoteGroupId: null,
  };
}

// Dual-stack network A: DHCPv4 plus SLAAC. Network B: DHCPv6-stateful only. External: v4 and v6.
const a4 = subnet('10.31.1.0/24', '10.31.1.1');
const a6 = subnet('2001:db8:31:a::/64', '2001:db8:31:a::1', { ra: 'slaac', address: 'slaac' });
const b6 = subnet('2001:db8:31:b::/64', '2001:db8:31:b::1', { ra: 'dhcpv6-stateful', address: 'dhcpv6-stateful' });
const c6 = {
  ...subnet('2001:db8:31:c::/64', '2001:db8:31:c::1', { ra: 'dhcpv6-stateless', address: 'dhcpv6-stateless' }),
  dnsNameservers: ['2001:db8:31:c::53'],
};
const e4 = subnet('203.0.113.0/24', '203.0.113.1', { dhcp: false });
const e6 = subnet('2001:db8:31:ff::/64', '2001:db8:31:ff::1', { dhcp: false });
const netA = network([a4, a6]);
const netB = network([b6]);
const netC = network([c6]);
const ext = network([e4, e6], true);
const routerId = randomUUID();
const dhcpA = port(netA, 'network:dhcp', (m) => [
  { subnetId: a4.id, ipAddress: '10.31.1.2' },
  { subnetId: a6.id, ipAddress: eui64Address(a6.cidr, m) },
]);
const dhcpB = port(netB, 'network:dhcp', () => [{ subnetId: b6.id, ipAddress: '2001:db8:31:b::2' }]);
const riA = port(
  netA,
  'network:router_interface',
  () => [
    { subnetId: a4.id, ipAddress: '10.31.1.1' },
    { subnetId: a6.id, ipAddress: '2001:db8:31:a::1' },
  ],
  { deviceId: routerId },
);
const dhcpC = port(netC, 'network:dhcp', (m) => [{ subnetId: c6.id, ipAddress: eui64Address(c6.cidr, m) }]);
const riC = port(netC, 'network:router_interface', () => [{ subnetId: c6.id, ipAddress: '2001:db8:31:c::1' }], { deviceId: routerId });
const vmC = port(netC, 'compute:nova', (m) => [{ subnetId: c6.id, ipAddress: eui64Address(c6.cidr, m) }]);
const riB = port(netB, 'network:router_interface', () => [{ subnetId: b6.id, ipAddress: '2001:db8:31:b::1' }], { deviceId: routerId });
const gw = port(
  ext,
  'network:router_gateway',
  () => [
    { subnetId: e4.id, ipAddress: '203.0.113.10' },
    { subnetId: e6.id, ipAddress: '2001:db8:31:ff::10' },
  ],
  { deviceId: routerId },
);
// What the API gives these ports: v4 from the pool plus EUI-64 on A, a pool address on B.
const vmA = port(netA, 'compute:nova', (m) => [
  { subnetId: a4.id, ipAddress: '10.31.1.11' },
  { subnetId: a6.id, ipAddress: eui64Address(a6.cidr, m) },
]);
const VM_B_IP = '2001:db8:31:b::3c';
const group = (withHttp: boolean): TopologySecurityGroup => ({
  id: 'aaaaaaaa-0000-4000-8000-000000000031',
  stateful: true,
  rules: [
    rule('egress', 'IPv4', null),
    rule('egress', 'IPv6', null),
    rule('ingress', 'IPv6', 'ipv6-icmp'),
    ...(withHttp ? [rule('ingress', 'IPv6', 'tcp', 80)] : []),
  ],
});
const vmB = port(netB, 'compute:nova', () => [{ subnetId: b6.id, ipAddress: VM_B_IP }], {
  portSecurityEnabled: true,
  securityGroups: [group(false).id],
});
// Network D: SLAAC with no router at all, so dnsmasq advertises the prefix (radvd has no namespace to run in).
const d6 = subnet('2001:db8:31:d::/64', null, { ra: 'slaac', address: 'slaac' });
const netD = network([d6]);
const dhcpD = port(netD, 'network:dhcp', (m) => [{ subnetId: d6.id, ipAddress: eui64Address(d6.cidr, m) }]);
const vmD = port(netD, 'compute:nova', (m) => [{ subnetId: d6.id, ipAddress: eui64Address(d6.cidr, m) }]);
const router: TopologyRouter = {
  id: routerId,
  adminStateUp: true,
  interfacePortIds: [riA.id, riB.id, riC.id],
  gateway: { portId: gw.id, networkId: ext.id, enableSnat: true },
  routes: [],
};
const topology = (withHttp: boolean): Topology => ({
  networks: [ext, netA, netB, netC, netD],
  ports: [dhcpA, dhcpB, dhcpC, dhcpD, riA, riB, riC, gw, vmA, vmB, vmC, vmD],
  routers: [router],
  floatingIps: [],
  securityGroups: [group(withHttp)],
});

const EXT_V6 = '2001:db8:31:ff::1';
let instA: PluggedInstance;
let nsB = '';
let extNs = '';
const children: number[] = [];

function expectClean(report: PassReport): void {
  expect(report.keys.filter((k) => k.status === 'failed')).toEqual([]);
}

async function until<T>(probe: () => Promise<T | null>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Addr6 {
  local: string;
  prefixlen: number;
  scope: string;
  tentative?: boolean;
  dynamic?: boolean;
}

async function globalV6(ns: string): Promise<Addr6[]> {
  const r = await inNs(ns, ['ip', '-6', '-j', 'addr', 'show', 'dev', 'eth0']);
  const links = JSON.parse(r.stdout || '[]') as { addr_info: Addr6[] }[];
  return (links[0]?.addr_info ?? []).filter((x) => x.scope === 'global' && !x.tentative);
}

async function defaultRoute6(ns: string): Promise<{ gateway?: string; dev?: string; protocol?: string } | null> {
  const r = await inNs(ns, ['ip', '-6', '-j', 'route', 'show', 'default']);
  const routes = JSON.parse(r.stdout || '[]') as { gateway?: string; dev?: string; protocol?: string }[];
  return routes[0] ?? null;
}

/** One TCP connect over IPv6: the source address the listener saw, or null when it was unreachable. */
async function tcp6(ns: string, host: string, portNo: number): Promise<string | null> {
  const code = `import socket,sys\ns=socket.socket(socket.AF_INET6);s.settimeout(2)\ntry:\n s.connect((sys.argv[1],int(sys.argv[2])));print(s.recv(64).decode())\nexcept OSError:\n sys.exit(1)`;
  const r = await inNs(ns, ['python3', '-c', code, host, String(portNo)]);
  return r.exitCode === 0 ? r.stdout.trim() : null;
}

/** Answers each connection with the peer address it saw. */
function listen6(ns: string, portNo: number): number {
  const code = `import socket,sys\ns=socket.socket(socket.AF_INET6);s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(("::",int(sys.argv[1])));s.listen(8)\nwhile True:\n c,a=s.accept();c.sendall(a[0].encode());c.close()`;
  const child = spawn('ip', ['netns', 'exec', ns, 'python3', '-c', code, String(portNo)], { stdio: 'ignore' });
  if (child.pid === undefined) throw new Error('listener did not start');
  child.unref();
  children.push(child.pid);
  return child.pid;
}

/** Python starts slowly on a busy machine: wait for the socket rather than guessing a delay. */
async function listening(ns: string, portNo: number): Promise<void> {
  await until(
    async () => ((await inNs(ns, ['ss', '-H', '-tln', `sport = :${portNo}`])).stdout.includes(`:${portNo}`) ? true : null),
    `a listener on ${portNo}`,
  );
}

beforeAll(async () => {
  await requireHostTools();
  for (const tool of ['radvd', 'rdisc6', 'dhclient'])
    if (!(await hasTool(tool))) throw new Error(`${tool} missing: run scripts/dataplane-deps.sh`);
  stateDir = await mkdtemp(join(tmpdir(), prefix));
  config = { namespacePrefix: prefix, hostNamespace: `${prefix}host`, stateDir };
  agent = new Reconciler({ config });
  agent.setDesired(compileHostState(topology(false), HOST, config));
  await agent.converge();
  expect(agent.pendingKeys).toEqual([]);
  extNs = await createExternalHost(agent.exec, agent.config, {
    name: 'inet6',
    networkId: ext.id,
    address: '203.0.113.1/24',
  });
  // The upstream router routes the tenant prefixes back to the gateway: IPv6 is not NATed.
  await inNs(extNs, ['ip', '-6', 'addr', 'add', `${EXT_V6}/64`, 'dev', 'eth0', 'nodad']);
  await inNs(extNs, ['ip', '-6', 'route', 'add', '2001:db8:31::/56', 'via', '2001:db8:31:ff::10']);
}, 120_000);

afterAll(async () => {
  for (const pid of children) if (isAlive(pid)) await terminate(pid).catch(() => undefined);
  if (config) await wipeHost(new CommandRunner(), { ...agent.config });
  const left = await namespacesWithPrefix(prefix);
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
  expect(left).toEqual([]);
});

describe('IPv6 on a real kernel', () => {
  it("runs one radvd in the router namespace with Neutron's flags per interface", async () => {
    const dir = `${stateDir}/ra/${routerId}`;
    const conf = await readFile(`${dir}/radvd.conf`, 'utf8');
    expect(conf).toContain('prefix 2001:db8:31:a::/64\n   {\n        AdvOnLink on;\n        AdvAutonomous on;');
    expect(conf).toContain('AdvManagedFlag on;');
    expect(conf).toContain('prefix 2001:db8:31:b::/64\n   {\n        AdvOnLink on;\n        AdvAutonomous off;');
    expect(conf).toContain('AdvLinkMTU 1500;');
    const pid = await readPidFile(`${dir}/radvd.pid`);
    expect(pid).not.toBeNull();
    expect(isAlive(pid ?? 0)).toBe(true);
    const sysctl = await inNs(routerNamespace(config, routerId), ['sysctl', '-n', 'net.ipv6.conf.all.forwarding']);
    expect(sysctl.stdout.trim()).toBe('1');
  });

  it("SLAAC: a dual-stack instance gets the API's EUI-64 address and a default route via the router's link-local address", async () => {
    const started = Date.now();
    instA = await plugInstance(agent.exec, agent.config, { portId: vmA.id, networkId: netA.id, mac: vmA.macAddress });
    expect(instA.lease.ip).toBe('10.31.1.11');
    const want = vmA.fixedIps.find((f) => f.subnetId === a6.id)?.ipAddress ?? '';
    const got = await until(async () => {
      const addrs = await globalV6(instA.namespace);
      return addrs.find((x) => x.local === want) ?? null;
    }, `SLAAC address ${want}`);
    expect(got).toMatchObject({ local: want, prefixlen: 64, dynamic: true });
    console.info(`SLAAC address held ${Date.now() - started} ms after plug`);
    const route = await until(() => defaultRoute6(instA.namespace), 'an RA default route');
    expect(route).toMatchObject({ gateway: eui64Address('fe80::/64', riA.macAddress), dev: 'eth0', protocol: 'ra' });
    // What the router says, as a host's rdisc6 sees it.
    const rdisc = await inNs(instA.namespace, ['rdisc6', '-1', '-w', '3000', 'eth0'], 20_000);
    expect(rdisc.stdout).toMatch(/Stateful address conf\.\s*:\s*No/);
    expect(rdisc.stdout).toMatch(/Prefix\s*:\s*2001:db8:31:a::\/64/);
    expect(rdisc.stdout).toMatch(/MTU\s*:\s*1500/);
    expect(await ping(instA.namespace, '2001:db8:31:a::1')).toBe(true);
    expect(await ping(instA.namespace, '10.31.1.1')).toBe(true);
  });

  it("DHCPv6-stateful: an instance behind a security group gets the API's address from dnsmasq, and the M flag from the RA", async () => {
    nsB = await plugInstanceLink(agent.exec, agent.config, { portId: vmB.id, networkId: netB.id, mac: vmB.macAddress });
    const lease = await startDhcpv6Client(agent.exec, agent.config, vmB.id);
    expect(lease.ip).toBe(VM_B_IP);
    await until(async () => ((await globalV6(nsB)).some((x) => x.local === VM_B_IP) ? true : null), 'the leased address');
    // No autonomous prefix: the only global address is the leased one.
    expect((await globalV6(nsB)).map((x) => x.local)).toEqual([VM_B_IP]);
    const route = await until(() => defaultRoute6(nsB), 'an RA default route');
    expect(route).toMatchObject({ gateway: eui64Address('fe80::/64', riB.macAddress), protocol: 'ra' });
    const rdisc = await inNs(nsB, ['rdisc6', '-1', '-w', '3000', 'eth0'], 20_000);
    expect(rdisc.stdout).toMatch(/Stateful address conf\.\s*:\s*Yes/);
  });

  it("DHCPv6-stateless: an instance autoconfigures the API's EUI-64 address and gets DNS servers by information-request (O flag)", async () => {
    const ns = await plugInstanceLink(agent.exec, agent.config, { portId: vmC.id, networkId: netC.id, mac: vmC.macAddress });
    const want = vmC.fixedIps[0]?.ipAddress ?? '';
    await until(async () => ((await globalV6(ns)).some((x) => x.local === want) ? true : null), `SLAAC address ${want}`);
    const rdisc = await inNs(ns, ['rdisc6', '-1', '-w', '3000', 'eth0'], 20_000);
    expect(rdisc.stdout).toMatch(/Stateful address conf\.\s*:\s*No/);
    expect(rdisc.stdout).toMatch(/Stateful other conf\.\s*:\s*Yes/);
    expect(rdisc.stdout).toMatch(/Recursive DNS server\s*:\s*2001:db8:31:c::53/);
    const answer = await startDhcpv6Client(agent.exec, agent.config, vmC.id, { stateless: true });
    expect(answer).toEqual({ ip: null, dns: '2001:db8:31:c::53' });
    expect(await ping(ns, '2001:db8:31:c::1', 10)).toBe(true);
  });

  it("SLAAC with no router: dnsmasq advertises the prefix, not itself as a router; the instance gets the API's address", async () => {
    const ns = await plugInstanceLink(agent.exec, agent.config, { portId: vmD.id, networkId: netD.id, mac: vmD.macAddress });
    const want = vmD.fixedIps[0]?.ipAddress ?? '';
    await until(async () => ((await globalV6(ns)).some((x) => x.local === want) ? true : null), `SLAAC address ${want}`);
    const rdisc = await inNs(ns, ['rdisc6', '-1', '-w', '3000', 'eth0'], 20_000);
    expect(rdisc.stdout).toMatch(/Prefix\s*:\s*2001:db8:31:d::\/64/);
    expect(rdisc.stdout).toMatch(/Router lifetime\s*:\s*0 /);
    expect(rdisc.stdout).toMatch(/MTU\s*:\s*1500/);
    expect(await defaultRoute6(ns)).toBeNull();
    // On-link: the instance reaches the DHCP port's own SLAAC address directly.
    expect(await ping(ns, dhcpD.fixedIps[0]?.ipAddress ?? '', 10)).toBe(true);
  });

  it('routes IPv6 between the subnets and out of the gateway, untranslated', async () => {
    expect(await ping(instA.namespace, VM_B_IP, 10)).toBe(true);
    const want = vmA.fixedIps.find((f) => f.subnetId === a6.id)?.ipAddress ?? '';
    expect(await ping(nsB, want, 10)).toBe(true);
    expect(await ping(instA.namespace, EXT_V6, 10)).toBe(true);
    // The external host sees the instance's own address (no NAT for IPv6) and reaches it directly.
    listen6(extNs, 8080);
    await listening(extNs, 8080);
    expect(await until(() => tcp6(instA.namespace, EXT_V6, 8080), 'the external listener')).toBe(want);
    expect(await ping(extNs, want, 10)).toBe(true);
  });

  it('a v6 security-group rule opens and closes tcp/80', async () => {
    listen6(nsB, 80);
    await listening(nsB, 80);
    expect(await tcp6(instA.namespace, VM_B_IP, 80)).toBeNull();
    agent.setDesired(compileHostState(topology(true), HOST, config));
    expectClean(await agent.runPass());
    const want = vmA.fixedIps.find((f) => f.subnetId === a6.id)?.ipAddress ?? '';
    expect(await until(() => tcp6(instA.namespace, VM_B_IP, 80), 'tcp/80 open')).toBe(want);
    agent.setDesired(compileHostState(topology(false), HOST, config));
    expectClean(await agent.runPass());
    expect(await tcp6(instA.namespace, VM_B_IP, 80)).toBeNull();
    // ICMPv6 stays allowed, and ND with it.
    expect(await ping(instA.namespace, VM_B_IP)).toBe(true);
  });

  it('a second pass over the converged IPv6 host changes nothing, and radvd comes back after a kill', async () => {
    await agent.resync();
    expectClean(await agent.runPass());
    await agent.resync();
    expect((await agent.runPass()).mutations).toBe(0);
    const pid = await readPidFile(`${stateDir}/ra/${routerId}/radvd.pid`);
    process.kill(pid ?? 0, 'SIGKILL');
    await until(async () => (isAlive(pid ?? 0) ? null : true), 'radvd to die', 5_000);
    await agent.resync();
    const report = await agent.runPass();
    expectClean(report);
    expect(report.keys.find((k) => k.key === `router:${routerId}`)?.status).toBe('repaired');
    const again = await readPidFile(`${stateDir}/ra/${routerId}/radvd.pid`);
    expect(again).not.toBe(pid);
    expect(await pingOnce(instA.namespace, '2001:db8:31:a::1')).toBe(true);
  });
});
