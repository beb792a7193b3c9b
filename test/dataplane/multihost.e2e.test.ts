import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentConfig } from '../../src/agent/config.js';
import { plugPort, type DataplaneAgent } from '../../src/agent/index.js';
import { plugInstanceLink, type PluggedInstance } from '../../src/agent/lab.js';
import { addExternalClient, EXTERNAL_DEVICE, underlaySwitchPort } from '../../src/agent/underlay-lab.js';
import { wipeHost } from '../../src/agent/wipe.js';
import { bridgeName, dhcpNamespace, routerNamespace } from '../../src/projections/desired-state/names.js';
import { hasTool, inNs, namespacesWithPrefix, ping, pingOnce, startWhoami, whoami, type Listener } from '../agent/netns-tools.js';
import { sseSubscribe } from '../subscriptions/clients.js';
import { CREATE_NETWORK, CREATE_PORT, CREATE_SUBNET, type TestApi } from '../support/api.js';
import { HostLab } from '../support/host-lab.js';
import { startCapture, stopCaptures, type Capture } from '../support/capture.js';
import { until } from '../support/until.js';

// Three hosts on one machine: each a host namespace with its own agent (own services, as another
// machine would have), joined by an underlay switch (tunnels) and an external switch (a flat
// provider network mapped to ex0 on every host), both in a namespace of this run. Tenant
// networks are VXLAN: between hosts the only path is the tunnel.
const prefix = `nlmh${randomBytes(3).toString('hex')}-`;
const INET = `${prefix}inet`;
// Long enough that a heartbeat delayed by a loaded machine does not kill a live agent.
const AGENT_DOWN_MS = 10_000;
const EXT_IP = '203.0.113.1';
const PORT = 8080;
const HOSTS = [
  { name: 'mh-host-1', n: 1, address: '192.168.200.1' },
  { name: 'mh-host-2', n: 2, address: '192.168.200.2' },
  { name: 'mh-host-3', n: 3, address: '192.168.200.3' },
] as const;
type Host = (typeof HOSTS)[number];
const [H1, H2, H3] = HOSTS;

let api: TestApi;
let admin = '';
let tenant = '';
const lab = new HostLab(prefix);
const { exec, agents, underlay: UNDERLAY } = lab;
const listeners: Listener[] = [];
const ids = {} as Record<'ext' | 'net' | 'side' | 'router' | 'vm1' | 'vm3' | 's1' | 's3' | 'fip' | 'dhcpPort', string>;
const vni = { net: 0, side: 0 };
let gwIp = '';
let fipIp = '';
let vm1: PluggedInstance;
let vm3: PluggedInstance;
const sideNs: string[] = [];
let s3ip = '';

const hostOf = (name: string): Host => HOSTS.find((h) => h.name === name)!;
const cfg = (h: Host): AgentConfig => lab.config(h.name);

const startAgent = (host: Host): Promise<DataplaneAgent> => lab.startAgent(host.name);

/** `name(input: $i)`, answering the payload; fails the test on a typed error. */
function m(token: string, name: string, input: Record<string, unknown>, select: string): Promise<any> {
  return api.mutateOk(token, name, input, select);
}

async function waitApplied(cursor: string): Promise<void> {
  const r = await api.gql(
    admin,
    `query($c: String!) { waitForApplied(cursor: $c, timeoutMs: 60000) { applied timedOut pendingHosts agents { host lastError alive } } }`,
    { c: cursor },
  );
  expect(r.waitForApplied, JSON.stringify(r.waitForApplied)).toMatchObject({ applied: true, timedOut: false });
}

/** Where the platform's ports of the main network run: its DHCP port, and the router's ports. */
async function placement(): Promise<{ dhcp: string; router: string[] }> {
  const r = await api.gql(admin, `query { ports(first: 100) { edges { node { uuid networkId deviceOwner deviceId bindingHost } } } }`);
  const ports = r.ports.edges.map((e: any) => e.node);
  return {
    dhcp: ports.find((p: any) => p.networkId === ids.net && p.deviceOwner === 'network:dhcp')?.bindingHost ?? '',
    router: [...new Set<string>(ports.filter((p: any) => p.deviceId === ids.router).map((p: any) => p.bindingHost))],
  };
}

async function tenantPort(networkId: string, name: string, host: Host): Promise<{ uuid: string; ip: string; mac: string; cursor: string }> {
  const p = await api.gql(tenant, CREATE_PORT, {
    input: { networkId, name, deviceOwner: 'compute:nova', deviceId: randomUUID(), bindingHost: host.name, portSecurityEnabled: false },
  });
  expect(p.createPort.__typename).toBe('CreatePortSuccess');
  const port = p.createPort.port;
  return { uuid: port.uuid, ip: port.fixedIps[0].ipAddress, mac: port.macAddress, cursor: p.createPort.cursor };
}

/** tcpdump on the underlay switch's port towards a host: the tunnel packets that reached that host. */
function capture(h: Host): Promise<Capture> {
  return startCapture(UNDERLAY, ['-i', underlaySwitchPort(h.n - 1), 'udp port 4789']);
}

const vniSeen = (dump: string, id: number): number => dump.split('\n').filter((l) => new RegExp(`vni ${id}\\b`).test(l)).length;

beforeAll(async () => {
  if (!(await hasTool('tcpdump'))) throw new Error('tcpdump missing: run scripts/dataplane-deps.sh');
  api = await lab.start(
    { NETLEDGER_AGENT_DOWN_SECONDS: String(AGENT_DOWN_MS / 1000) },
    HOSTS.map((h) => ({ name: h.name, key: String(h.n), address: h.address })),
    { physicalInterfaces: { extnet: EXTERNAL_DEVICE }, agentDownMs: AGENT_DOWN_MS, heartbeatIntervalMs: AGENT_DOWN_MS / 4 },
  );
  admin = api.adminToken;
  tenant = await api.token('multihost');
  await addExternalClient(exec, UNDERLAY, { namespace: INET, address: `${EXT_IP}/24` });
  listeners.push(await startWhoami(INET, PORT));
}, 120_000);

afterAll(async () => {
  await stopCaptures();
  for (const l of listeners) await l.stop().catch(() => undefined);
  expect(await lab.close([INET])).toEqual([]);
}, 60_000);

describe('three hosts: VXLAN with l2population, a router and DHCP on host 2, failover', () => {
  it('host 2, alone at first, is given the router and the DHCP port; hosts 1 and 3 join with their instances', async () => {
    await startAgent(H2);
    const ext = await api.gql(admin, CREATE_NETWORK, {
      input: { name: 'public', external: true, provider: { networkType: 'flat', physicalNetwork: 'extnet' } },
    });
    expect(ext.createNetwork.__typename, JSON.stringify(ext.createNetwork)).toBe('CreateNetworkSuccess');
    ids.ext = ext.createNetwork.network.uuid;
    const extSubnet = await api.gql(admin, CREATE_SUBNET, {
      input: {
        networkId: ids.ext,
        ipVersion: 4,
        cidr: '203.0.113.0/24',
        enableDhcp: false,
        allocationPools: [{ start: '203.0.113.10', end: '203.0.113.99' }],
      },
    });
    expect(extSubnet.createSubnet.__typename).toBe('CreateSubnetSuccess');
    const net = await api.gql(tenant, CREATE_NETWORK, { input: { name: 'main' } });
    ids.net = net.createNetwork.network.uuid;
    vni.net = net.createNetwork.network.providerSegmentationId;
    // MTU: the underlay's 1500 less VXLAN's 50, given to instances by DHCP (option 26).
    expect(net.createNetwork.network.mtu).toBe(1450);
    const subnet = await api.gql(tenant, CREATE_SUBNET, { input: { networkId: ids.net, ipVersion: 4, cidr: '10.60.0.0/24' } });
    const router = await m(tenant, 'createRouter', { name: 'r1' }, 'router { uuid }');
    ids.router = router.router.uuid;
    const gw = await m(
      tenant,
      'setRouterGateway',
      { id: ids.router, networkId: ids.ext },
      'router { externalGatewayInfo { externalFixedIps { ipAddress } } }',
    );
    gwIp = gw.router.externalGatewayInfo.externalFixedIps[0].ipAddress;
    const ri = await m(tenant, 'addRouterInterface', { id: ids.router, subnetId: subnet.createSubnet.subnet.uuid }, 'router { uuid }');
    await waitApplied(ri.cursor);
    expect(await placement()).toEqual({ dhcp: H2.name, router: [H2.name] });

    await startAgent(H1);
    await startAgent(H3);
    const r = await api.gql(admin, '{ agents { host alive down underlayAddress } }');
    expect(r.agents).toEqual(HOSTS.map((h) => ({ host: h.name, alive: true, down: false, underlayAddress: h.address })));

    const p1 = await tenantPort(ids.net, 'vm1', H1);
    const p3 = await tenantPort(ids.net, 'vm3', H3);
    ids.vm1 = p1.uuid;
    ids.vm3 = p3.uuid;
    const fip = await m(
      tenant,
      'createFloatingIp',
      { floatingNetworkId: ids.ext, portId: ids.vm3 },
      'floatingIp { uuid floatingIpAddress }',
    );
    ids.fip = fip.floatingIp.uuid;
    fipIp = fip.floatingIp.floatingIpAddress;

    // A second network with instances on hosts 1 and 3 only (no DHCP: nothing of it is scheduled).
    const side = await api.gql(tenant, CREATE_NETWORK, { input: { name: 'side' } });
    ids.side = side.createNetwork.network.uuid;
    vni.side = side.createNetwork.network.providerSegmentationId;
    await api.gql(tenant, CREATE_SUBNET, { input: { networkId: ids.side, ipVersion: 4, cidr: '10.61.0.0/24', enableDhcp: false } });
    const s1 = await tenantPort(ids.side, 's1', H1);
    const s3 = await tenantPort(ids.side, 's3', H3);
    ids.s1 = s1.uuid;
    ids.s3 = s3.uuid;
    s3ip = s3.ip;
    await waitApplied(s3.cursor);
    // Adding hosts moved nothing.
    expect(await placement()).toEqual({ dhcp: H2.name, router: [H2.name] });
    for (const [h, p] of [
      [H1, s1],
      [H3, s3],
    ] as const) {
      const ns = await plugInstanceLink(exec, cfg(h), { portId: p.uuid, networkId: ids.side, mac: p.mac, mtu: 1450 });
      await exec.run('ip', ['-n', ns, 'addr', 'add', `${p.ip}/24`, 'dev', 'eth0'], { mutating: true });
      sideNs.push(ns);
    }
  }, 180_000);

  it('an instance on host 1 gets its lease from host 2; hosts 1 and 3 ping over VXLAN; no flooding to a host without ports of the network', async () => {
    vm1 = await plugPort(api.services.sql, exec, cfg(H1), ids.vm1, { timeoutMs: 30_000 });
    vm3 = await plugPort(api.services.sql, exec, cfg(H3), ids.vm3, { timeoutMs: 30_000 });
    expect(vm1.lease.router).toBe('10.60.0.1');
    const at2 = await capture(H2);
    const at3 = await capture(H3);
    expect(await ping(vm1.namespace, vm3.lease.ip)).toBe(true);
    expect(await ping(vm3.namespace, vm1.lease.ip)).toBe(true);
    expect(await ping(sideNs[0]!, s3ip)).toBe(true);
    // Broadcast on the side network: flooded through the tunnel to host 3 (its only other host).
    await inNs(sideNs[0]!, ['ping', '-b', '-c', '3', '-i', '0.2', '-W', '1', '10.61.0.255']);
    const dump2 = await at2.stop();
    const dump3 = await at3.stop();
    expect(vniSeen(dump3, vni.net), dump3).toBeGreaterThan(0);
    expect(vniSeen(dump3, vni.side), dump3).toBeGreaterThan(0);
    // Host 2 holds no port of the side network: not one of its packets, broadcast or not, went there.
    expect(vniSeen(dump2, vni.side), dump2).toBe(0);
    // Flood entries of the side network on host 1 point at host 3 only.
    const fdb = await inNs(cfg(H1).hostNamespace, ['bridge', 'fdb', 'show', 'dev', `vxlan-${vni.side}`]);
    const flood = fdb.stdout.split('\n').filter((l) => l.startsWith('00:00:00:00:00:00'));
    expect(flood.map((l) => /dst (\S+)/.exec(l)?.[1])).toEqual([H3.address]);
    // ...and host 2 holds none of its state: no bridge, no tunnel.
    const links = await inNs(cfg(H2).hostNamespace, ['ip', '-o', 'link', 'show']);
    expect(links.stdout).not.toContain(bridgeName(ids.side));
    expect(links.stdout).not.toContain(`vxlan-${vni.side}`);
  }, 120_000);

  it('the router on host 2 gives SNAT to host 1 and a floating IP to host 3', async () => {
    listeners.push(await startWhoami(vm3.namespace, PORT));
    expect(await whoami(vm1.namespace, EXT_IP, PORT)).toBe(gwIp);
    expect(await whoami(vm3.namespace, EXT_IP, PORT)).toBe(fipIp);
    expect(await whoami(INET, fipIp, PORT)).toBe(EXT_IP);
  }, 60_000);

  it('changes nothing on any host once converged', async () => {
    for (const agent of agents.values()) {
      await agent.reconciler.resync();
      const pass = await agent.reconciler.runPass();
      expect(pass.keys.filter((k) => k.status !== 'converged')).toEqual([]);
      expect(pass.mutations).toBe(0);
    }
  });

  it('host 2 dies: it is marked down on the events subscription, its router and DHCP move, and SNAT, FIP and DHCP work again', async () => {
    const abort = new AbortController();
    const marked: any[] = [];
    const feed = (async () => {
      const sub = sseSubscribe(
        api.url,
        admin,
        `subscription($f: EventFilter) { events(filter: $f) { __typename ... on LogEvent { type streamId data metadata { actor } } } }`,
        { f: { eventTypes: ['AgentMarkedDown'] } },
        abort.signal,
      );
      for await (const d of sub) marked.push(d.events);
    })().catch(() => undefined);

    const killedAt = Date.now();
    await agents.get(H2.name)!.crash();
    agents.delete(H2.name);
    // The host is gone with everything on it: namespaces, dnsmasq, its underlay and external links.
    await wipeHost(exec, cfg(H2));
    const since = (t: number) => `${((t - killedAt) / 1000).toFixed(1)} s`;

    await until('host 2 to be marked down', () => marked.length > 0, 60_000);
    const downAt = Date.now();
    expect(marked[0]).toMatchObject({ type: 'AgentMarkedDown', data: { by: expect.stringMatching(/^mh-host-[13]$/) } });
    const moved = await until(
      'the router and DHCP to move to live hosts',
      async () => {
        const p = await placement();
        return p.dhcp !== H2.name && p.router.length === 1 && p.router[0] !== H2.name ? p : false;
      },
      60_000,
    );
    const movedAt = Date.now();
    expect([H1.name, H3.name]).toContain(moved.dhcp);
    await until('SNAT again', async () => (await whoami(vm1.namespace, EXT_IP, PORT, 1)) === gwIp, 60_000);
    const snatAt = Date.now();
    await until('the floating IP again', async () => (await whoami(INET, fipIp, PORT, 1)) === EXT_IP, 60_000);
    const fipAt = Date.now();
    // A new lease for the instance on host 1, from the DHCP port's new host.
    vm1 = await plugPort(api.services.sql, exec, cfg(H1), ids.vm1, { timeoutMs: 60_000 });
    const dhcpAt = Date.now();
    expect(await whoami(vm3.namespace, EXT_IP, PORT)).toBe(fipIp);
    console.log(
      `failover (agent_down_time ${AGENT_DOWN_MS / 1000} s): marked down after ${since(downAt)}, rescheduled after ${since(movedAt)}, ` +
        `SNAT back after ${since(snatAt)}, FIP after ${since(fipAt)}, DHCP lease after ${since(dhcpAt)}; ` +
        `outage ${since(Math.max(snatAt, fipAt, dhcpAt))} (router to ${moved.router[0]}, DHCP to ${moved.dhcp})`,
    );
    abort.abort();
    await feed;

    const r = await api.gql(admin, '{ agents { host alive down routerIds dhcpNetworkIds } }');
    expect(r.agents).toEqual(
      HOSTS.map((h) => ({
        host: h.name,
        alive: h !== H2,
        down: h === H2,
        routerIds: moved.router[0] === h.name ? [ids.router] : [],
        dhcpNetworkIds: moved.dhcp === h.name ? [ids.net] : [],
      })),
    );
    // The move is in the DHCP port's history, with its reason.
    const dhcpPort = await api.gql(
      admin,
      `query($n: String) { ports(filter: { networkId: $n }, portFilter: { deviceOwner: "network:dhcp" }) { edges { node { id } } } }`,
      { n: ids.net },
    );
    const history = await api.gql(
      admin,
      `query($id: ID!) { history(id: $id) { entries { eventType changes { field } metadata { actor raw } } } }`,
      {
        id: dhcpPort.ports.edges[0].node.id,
      },
    );
    const move = history.history.entries.filter((e: any) => e.metadata.raw.reason === `rescheduled: agent ${H2.name} is down`);
    expect(move).toHaveLength(1);
    expect(move[0]).toMatchObject({ eventType: 'PortUpdated', metadata: { actor: expect.stringMatching(/^agent:mh-host-[13]$/) } });
  }, 240_000);

  it('a host whose agent returns after its router moved away removes it', async () => {
    const holder = hostOf((await placement()).router[0]!);
    const other = holder === H1 ? H3 : H1;
    // The agent stops answering, its host keeps running what it built (a hung process, a partition).
    await agents.get(holder.name)!.crash();
    agents.delete(holder.name);
    await until(
      'the router and DHCP to move off the silent host',
      async () => {
        const p = await placement();
        return p.dhcp === other.name && p.router.length === 1 && p.router[0] === other.name;
      },
      60_000,
    );
    expect(await namespacesWithPrefix(routerNamespace(cfg(holder), ids.router))).toHaveLength(1);
    const agent = await startAgent(holder);
    expect(agent.reconciler.pendingKeys).toEqual([]);
    expect(await namespacesWithPrefix(routerNamespace(cfg(holder), ids.router))).toEqual([]);
    expect(await namespacesWithPrefix(dhcpNamespace(cfg(holder), ids.net))).toEqual([]);
    const r = await api.gql(admin, '{ agents { host alive down } }');
    expect(r.agents.find((a: any) => a.host === holder.name)).toEqual({ host: holder.name, alive: true, down: false });
    await until('SNAT through the router on the other host', async () => (await whoami(vm1.namespace, EXT_IP, PORT, 1)) === gwIp, 60_000);
    await until('the floating IP through it', async () => (await whoami(INET, fipIp, PORT, 1)) === EXT_IP, 60_000);
    expect(await pingOnce(vm1.namespace, vm3.lease.ip)).toBe(true);
  }, 180_000);
});
