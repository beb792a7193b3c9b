import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plugPort } from '../../src/agent/index.js';
import type { PluggedInstance } from '../../src/agent/lab.js';
import { addExternalClient, EXTERNAL_DEVICE, UNDERLAY_DEVICE } from '../../src/agent/underlay-lab.js';
import { wipeHost } from '../../src/agent/wipe.js';
import type { AgentMode } from '../../src/domain/agent/index.js';
import { DVR_DEVICE_GROUP } from '../../src/projections/desired-state/dvr.js';
import { fipNamespace, routerNamespace, snatNamespace } from '../../src/projections/desired-state/names.js';
import { inNs, namespacesWithPrefix, ping, pingOnce, startWhoami, whoami, type Listener } from '../agent/netns-tools.js';
import { CREATE_NETWORK, CREATE_PORT, CREATE_SUBNET, type TestApi } from '../support/api.js';
import { HostLab } from '../support/host-lab.js';
import { startCapture, stopCaptures, type Capture } from '../support/capture.js';
import { until } from '../support/until.js';

// Three hosts on one machine (as in multihost.e2e.test.ts): two compute hosts in agent mode dvr
// and a network node in dvr_snat, joined only by an underlay switch. A distributed router joins
// two VXLAN networks; an instance on each compute host, each on its own network.
const prefix = `nldv${randomBytes(3).toString('hex')}-`;
const INET = `${prefix}inet`;
const EXT_IP = '203.0.113.1';
const PORT = 8080;
const AGENT_DOWN_MS = 10_000;
const HOSTS: readonly { name: string; letter: string; address: string; mode: AgentMode }[] = [
  { name: 'dvr-c1', letter: 'a', address: '192.168.210.1', mode: 'dvr' },
  { name: 'dvr-c2', letter: 'b', address: '192.168.210.2', mode: 'dvr' },
  { name: 'dvr-nn', letter: 'n', address: '192.168.210.3', mode: 'dvr_snat' },
];
const [C1, C2, NN] = HOSTS.map((h) => h.name) as [string, string, string];

let api: TestApi;
let admin = '';
const lab = new HostLab(prefix);
const { exec, agents, configs, underlay: UNDERLAY } = lab;
const ids = { router: '', netA: '', netB: '', subnetA: '', subnetB: '', ext: '', fip: '' };
const listeners: Listener[] = [];
let gwIp = '';
let fipIp = '';
const vms = new Map<string, { portId: string; ip: string; mac: string; plugged?: PluggedInstance }>();
const gatewayMacs: string[] = [];
const interfacePorts: string[] = [];
const dvrMacs = new Map<string, string>();

async function gql(query: string, variables?: Record<string, unknown>) {
  return api.gql(admin, query, variables);
}

function m(name: string, input: Record<string, unknown>, select: string): Promise<any> {
  return api.mutateOk(admin, name, input, select);
}

async function portOf(id: string): Promise<{ macAddress: string; bindingHost: string }> {
  return api.node(admin, 'Port', id, 'macAddress bindingHost');
}

async function waitApplied(cursor: string): Promise<void> {
  const r = await gql(
    `query($c: String!) { waitForApplied(cursor: $c, timeoutMs: 60000) { applied timedOut pendingHosts agents { host lastError } } }`,
    { c: cursor },
  );
  expect(r.waitForApplied, JSON.stringify(r.waitForApplied)).toMatchObject({ applied: true, timedOut: false });
}

async function startAgent(host: (typeof HOSTS)[number]): Promise<void> {
  await lab.startAgent(host.name);
}

/**
 * tcpdump on a host's underlay interface: every VXLAN frame that left or reached the host, decoded
 * with MACs; or, with `filter`, on its interface into the external switch.
 */
function capture(host: string, filter?: readonly string[]): Promise<Capture> {
  const where = filter ? [EXTERNAL_DEVICE, ...filter] : [UNDERLAY_DEVICE, 'udp', 'port', '4789'];
  return startCapture(configs.get(host)!.hostNamespace, ['-e', '-i', ...where]);
}

const qrouterHosts = () => lab.hostsWith((c) => routerNamespace(c, ids.router));
const lines = (dump: string, text: string) =>
  dump
    .split('\n')
    .filter((l) => l.includes(text))
    .slice(0, 4)
    .join('\n');

beforeAll(async () => {
  api = await lab.start(
    { NETLEDGER_AGENT_DOWN_SECONDS: String(AGENT_DOWN_MS / 1000) },
    HOSTS.map((h) => ({ name: h.name, key: h.letter, address: h.address, config: { agentMode: h.mode } })),
    { physicalInterfaces: { extnet: EXTERNAL_DEVICE }, agentDownMs: AGENT_DOWN_MS, heartbeatIntervalMs: AGENT_DOWN_MS / 4 },
  );
  admin = api.adminToken;
  await addExternalClient(exec, UNDERLAY, { namespace: INET, address: `${EXT_IP}/24` });
  listeners.push(await startWhoami(INET, PORT));
  for (const h of HOSTS) await startAgent(h);
}, 120_000);

afterAll(async () => {
  await stopCaptures();
  for (const l of listeners) await l.stop().catch(() => undefined);
  expect(await lab.close([INET])).toEqual([]);
}, 60_000);

describe('distributed virtual router across two compute hosts and a network node', () => {
  it('registers each host with its agent mode and a DVR MAC of its own', async () => {
    const r = await gql('{ agents { host alive agentMode dvrHostMac } }');
    expect(r.agents.map((a: { host: string; agentMode: string }) => [a.host, a.agentMode])).toEqual(HOSTS.map((h) => [h.name, h.mode]));
    for (const a of r.agents as { host: string; dvrHostMac: string }[]) {
      expect(a.dvrHostMac).toMatch(/^fa:16:3f(:[0-9a-f]{2}){3}$/);
      dvrMacs.set(a.host, a.dvrHostMac);
    }
    expect(new Set(dvrMacs.values()).size).toBe(HOSTS.length);
  });

  it('routes between two subnets on the source host: the network node sees none of it, and no gateway MAC reaches the wire', async () => {
    for (const [key, cidr] of [
      ['A', '10.71.1.0/24'],
      ['B', '10.71.2.0/24'],
    ] as const) {
      const net = await gql(CREATE_NETWORK, { input: { name: `dvr-${key}` } });
      ids[`net${key}`] = net.createNetwork.network.uuid;
      const sub = await gql(CREATE_SUBNET, { input: { networkId: ids[`net${key}`], ipVersion: 4, cidr } });
      ids[`subnet${key}`] = sub.createSubnet.subnet.uuid;
    }
    const router = await m('createRouter', { name: 'dvr', distributed: true }, 'router { uuid distributed }');
    expect(router.router.distributed).toBe(true);
    ids.router = router.router.uuid;
    for (const subnetId of [ids.subnetA, ids.subnetB]) {
      const ri = await m('addRouterInterface', { id: ids.router, subnetId }, 'router { interfaces { portId } }');
      const portId = ri.router.interfaces.at(-1).portId as string;
      interfacePorts.push(portId);
      gatewayMacs.push((await portOf(portId)).macAddress.toLowerCase());
    }
    let cursor = '';
    for (const [host, network] of [
      [C1, ids.netA],
      [C2, ids.netB],
    ] as const) {
      const p = await gql(CREATE_PORT, {
        input: {
          networkId: network,
          name: `vm-${host}`,
          deviceOwner: 'compute:nova',
          deviceId: randomUUID(),
          bindingHost: host,
          portSecurityEnabled: false,
        },
      });
      expect(p.createPort.__typename).toBe('CreatePortSuccess');
      vms.set(host, { portId: p.createPort.port.uuid, ip: p.createPort.port.fixedIps[0].ipAddress, mac: p.createPort.port.macAddress });
      cursor = p.createPort.cursor;
    }
    await waitApplied(cursor);
    for (const host of [C1, C2]) {
      const vm = vms.get(host)!;
      vm.plugged = await plugPort(api.services.sql, exec, configs.get(host)!, vm.portId, { timeoutMs: 30_000 });
      expect(vm.plugged.lease.ip).toBe(vm.ip);
    }
    // The router's interface ports stay unbound: they live on every host that needs them.
    for (const id of interfacePorts) expect((await portOf(id)).bindingHost).toBe('');
    // Both compute hosts route locally; the network node holds no part of the router.
    expect(await qrouterHosts()).toEqual([C1, C2]);

    const nn = await capture(NN);
    const c2 = await capture(C2);
    const a = vms.get(C1)!;
    const b = vms.get(C2)!;
    expect(await ping(a.plugged!.namespace, b.ip)).toBe(true);
    expect(await ping(b.plugged!.namespace, a.ip)).toBe(true);
    const onNn = await nn.stop();
    const onC2 = await c2.stop();
    console.log(
      `east-west on ${C2}'s underlay:\n${onC2
        .split('\n')
        .filter((l) => l.includes('ICMP'))
        .slice(0, 4)
        .join('\n')}`,
    );
    // Positive control: the pings crossed the underlay between the compute hosts...
    expect(onC2).toMatch(new RegExp(`${a.ip.replace(/\./g, '\\.')} > ${b.ip.replace(/\./g, '\\.')}: ICMP echo request`));
    expect(onC2).toMatch(new RegExp(`${b.ip.replace(/\./g, '\\.')} > ${a.ip.replace(/\./g, '\\.')}: ICMP echo reply`));
    // ...routed on the sending host: from C1 with C1's DVR MAC, back from C2 with C2's.
    expect(onC2).toContain(`${dvrMacs.get(C1)} > ${b.mac.toLowerCase()}`);
    expect(onC2).toContain(`${dvrMacs.get(C2)} > ${a.mac.toLowerCase()}`);
    for (const mac of gatewayMacs) expect(onC2).not.toContain(mac);
    // ...and never near the network node.
    expect(onNn).not.toContain('ICMP');
  }, 180_000);

  it('changes nothing on any host once converged', converged);

  it("gives instances without a floating IP SNAT through the network node's snat- namespace", async () => {
    const ext = await gql(CREATE_NETWORK, {
      input: { name: 'public', external: true, provider: { networkType: 'flat', physicalNetwork: 'extnet' } },
    });
    expect(ext.createNetwork.__typename, JSON.stringify(ext.createNetwork)).toBe('CreateNetworkSuccess');
    ids.ext = ext.createNetwork.network.uuid;
    const sub = await gql(CREATE_SUBNET, {
      input: {
        networkId: ids.ext,
        ipVersion: 4,
        cidr: '203.0.113.0/24',
        enableDhcp: false,
        allocationPools: [{ start: '203.0.113.10', end: '203.0.113.99' }],
      },
    });
    expect(sub.createSubnet.__typename).toBe('CreateSubnetSuccess');
    const gw = await m(
      'setRouterGateway',
      { id: ids.router, networkId: ids.ext },
      'router { externalGatewayInfo { externalFixedIps { ipAddress } } }',
    );
    gwIp = gw.router.externalGatewayInfo.externalFixedIps[0].ipAddress;
    await waitApplied(gw.cursor);
    // One sg- port per internal subnet, bound with the gateway port to the dvr_snat host.
    const snat = await until(
      'the sg- ports to be bound',
      async () => {
        const r = await gql(`{ ports(first: 100) { edges { node { deviceOwner deviceId bindingHost fixedIps { subnetId } } } } }`);
        const nodes = r.ports.edges.map(
          (e: { node: { deviceOwner: string; deviceId: string; bindingHost: string; fixedIps: { subnetId: string }[] } }) => e.node,
        );
        const sg = nodes.filter(
          (n: { deviceOwner: string; deviceId: string }) =>
            n.deviceOwner === 'network:router_centralized_snat' && n.deviceId === ids.router,
        );
        return sg.length === 2 && sg.every((n: { bindingHost: string }) => n.bindingHost === NN) ? sg : false;
      },
      60_000,
    );
    expect(snat.map((n: { fixedIps: { subnetId: string }[] }) => n.fixedIps[0]!.subnetId).sort()).toEqual(
      [ids.subnetA, ids.subnetB].sort(),
    );
    await settled();
    expect(await lab.hostsWith((c) => snatNamespace(c, ids.router))).toEqual([NN]);
    const nnSnat = snatNamespace(configs.get(NN)!, ids.router);
    const devices = (await inNs(nnSnat, ['ip', '-br', 'link'])).stdout;
    expect(
      devices
        .match(/^(qg|sg)-\S+/gm)
        ?.map((d) => d.slice(0, 3))
        .sort(),
    ).toEqual(['qg-', 'sg-', 'sg-']);
    // The compute hosts' qrouters send each subnet's north-south traffic to its sg- port.
    const rules = (await inNs(routerNamespace(configs.get(C1)!, ids.router), ['ip', 'rule'])).stdout;
    expect(rules).toContain('from 10.71.1.0/24 lookup');
    expect(rules).toContain('from 10.71.2.0/24 lookup');

    const nn = await capture(NN);
    const a = vms.get(C1)!;
    expect(await whoami(a.plugged!.namespace, EXT_IP, PORT)).toBe(gwIp);
    await nn.seen(`${a.ip}.`);
    const onNn = await nn.stop();
    console.log(`SNAT from ${C1} on ${NN}'s underlay:\n${lines(onNn, `${EXT_IP}.${PORT}`)}`);
    // The instance's own address crossed the underlay to the network node, which translated it.
    expect(onNn).toContain(`${a.ip}.`);
    expect(onNn).toContain(`> ${EXT_IP}.${PORT}:`);
    expect(onNn).toContain(`${dvrMacs.get(C1)} >`);
  }, 180_000);

  it('answers a floating IP on the compute host itself: the network node sees none of it', async () => {
    const a = vms.get(C1)!;
    const fip = await m('createFloatingIp', { floatingNetworkId: ids.ext, portId: a.portId }, 'floatingIp { uuid floatingIpAddress }');
    ids.fip = fip.floatingIp.uuid;
    fipIp = fip.floatingIp.floatingIpAddress;
    await waitApplied(fip.cursor);
    await until('the fip namespace on host 1', async () => (await lab.hostsWith((c) => fipNamespace(c, ids.ext))).join() === C1, 60_000);
    await settled();
    listeners.push(await startWhoami(a.plugged!.namespace, PORT));

    const nnUnderlay = await capture(NN);
    const nnExternal = await capture(NN, ['ip', 'host', fipIp]);
    const c1External = await capture(C1, ['ip', 'host', fipIp]);
    expect(await whoami(INET, fipIp, PORT)).toBe(EXT_IP);
    expect(await ping(INET, fipIp)).toBe(true);
    expect(await whoami(a.plugged!.namespace, EXT_IP, PORT)).toBe(fipIp);
    await c1External.seen(`${fipIp} > ${EXT_IP}: ICMP echo reply`);
    const onC1 = await c1External.stop();
    const onNnExternal = await nnExternal.stop();
    const onNnUnderlay = await nnUnderlay.stop();
    console.log(`floating IP on ${C1}'s external interface:\n${lines(onC1, fipIp)}`);
    expect(onC1).toContain(`${EXT_IP}.`);
    expect(onC1).toContain(`> ${fipIp}.${PORT}:`);
    expect(onC1).toContain(`${fipIp} > ${EXT_IP}: ICMP echo reply`);
    expect(onNnExternal).not.toContain(fipIp);
    expect(onNnUnderlay).not.toContain(EXT_IP);
    // The fip namespace answers ARP for the floating IP and routes it into the qrouter.
    const fipNs = fipNamespace(configs.get(C1)!, ids.ext);
    expect((await inNs(fipNs, ['ip', 'route'])).stdout).toMatch(new RegExp(`${fipIp.replace(/\./g, '\\.')} via 169\\.254\\.\\S+ dev fpr-`));
    // Reported by the host that translates it (the router is built on two hosts).
    const status = async () => (await api.node(admin, 'FloatingIp', ids.fip, 'status')).status;
    await until('the floating IP to be ACTIVE', async () => (await status()) === 'ACTIVE', 30_000);
  }, 180_000);

  it('changes nothing on any host once north-south is up', converged);

  it("moves the router's state with a port's binding: a host with no ports of the router holds none of it", async () => {
    const nnConfig = configs.get(NN)!;
    const nnLinks = async () =>
      (JSON.parse((await inNs(nnConfig.hostNamespace, ['ip', '-j', 'link', 'show'])).stdout) as { ifname: string }[])
        .map((l) => l.ifname)
        .filter((n) => n.startsWith('brq') || n.startsWith('vxlan-') || n.startsWith('tap'))
        .sort();
    // The network node holds the router's SNAT only: its bridges, tunnels and the snat- ports' taps.
    const snatOnly = await nnLinks();
    const nnDvrTaps = async () =>
      (JSON.parse((await inNs(nnConfig.hostNamespace, ['ip', '-j', 'link', 'show'])).stdout) as { group?: string }[]).filter(
        (l) => l.group === String(DVR_DEVICE_GROUP),
      ).length;
    // The qrouter comes and goes on the network node below: no frame from it may teach a bridge
    // that a gateway MAC lives there (its interfaces send MLD reports as they go up and down).
    const underlays = await Promise.all(HOSTS.map((h) => capture(h.name)));
    const p = await gql(CREATE_PORT, {
      input: {
        networkId: ids.netB,
        name: 'vm-moving',
        deviceOwner: 'compute:nova',
        deviceId: randomUUID(),
        bindingHost: NN,
        portSecurityEnabled: false,
      },
    });
    expect(p.createPort.__typename).toBe('CreatePortSuccess');
    const fip = await m(
      'createFloatingIp',
      { floatingNetworkId: ids.ext, portId: p.createPort.port.uuid },
      'floatingIp { floatingIpAddress }',
    );
    const movingFip = fip.floatingIp.floatingIpAddress as string;
    await waitApplied(fip.cursor);
    await until(
      'the fip namespace on the network node',
      async () => (await lab.hostsWith((c) => fipNamespace(c, ids.ext))).join() === [C1, NN].join(),
      60_000,
    );
    await settled();
    expect(await qrouterHosts()).toEqual([C1, C2, NN]);
    expect((await inNs(nnConfig.hostNamespace, ['nft', 'list', 'table', 'bridge', 'netledger-dvr'])).stdout).toContain(dvrMacs.get(NN));
    expect(await nnDvrTaps()).toBe(gatewayMacs.length);
    expect((await inNs(fipNamespace(nnConfig, ids.ext), ['ip', 'route'])).stdout).toContain(`${movingFip} via 169.254.`);

    const moved = await m('updatePort', { id: p.createPort.port.id, bindingHost: C1 }, 'port { bindingHost }');
    expect(moved.port.bindingHost).toBe(C1);
    await waitApplied(moved.cursor);
    await until(
      'the network node to drop its fip namespace',
      async () => (await lab.hostsWith((c) => fipNamespace(c, ids.ext))).join() === C1,
      60_000,
    );
    await settled();
    expect(await qrouterHosts()).toEqual([C1, C2]);
    expect(await nnDvrTaps()).toBe(0);
    expect(await nnLinks()).toEqual(snatOnly);
    // Its floating IP is routed on host 1 now, beside the first one; the network node's fg- port is gone.
    const c1Routes = (await inNs(fipNamespace(configs.get(C1)!, ids.ext), ['ip', 'route'])).stdout;
    expect(c1Routes).toContain(`${movingFip} via 169.254.`);
    expect(c1Routes).toContain(`${fipIp} via 169.254.`);
    const r = await gql(`{ ports(first: 100) { edges { node { deviceOwner bindingHost } } } }`);
    const fgHosts = r.ports.edges
      .map((e: { node: { deviceOwner: string; bindingHost: string } }) => e.node)
      .filter((n: { deviceOwner: string }) => n.deviceOwner === 'network:floatingip_agent_gateway')
      .map((n: { bindingHost: string }) => n.bindingHost);
    expect(fgHosts).toEqual([C1]);
    // East-west still flows between the compute hosts.
    expect(await ping(vms.get(C1)!.plugged!.namespace, vms.get(C2)!.ip)).toBe(true);
    const wire = await Promise.all(underlays.map((c) => c.stop()));
    // Positive control: the capture saw the network node's qrouter (its MLD reports, as its DVR MAC).
    expect(wire[HOSTS.findIndex((h) => h.name === NN)]).toContain(`${dvrMacs.get(NN)} > 33:33:`);
    for (const dump of wire) for (const mac of gatewayMacs) expect(dump).not.toContain(`${mac} >`);
  }, 120_000);

  it('changes nothing on any host once converged again', converged);

  it('the network node dies: only SNAT breaks, east-west and the floating IP keep working', async () => {
    const a = vms.get(C1)!;
    const b = vms.get(C2)!;
    expect(await whoami(b.plugged!.namespace, EXT_IP, PORT)).toBe(gwIp);
    await agents.get(NN)!.stop();
    agents.delete(NN);
    await wipeHost(exec, configs.get(NN)!);
    expect(await namespacesWithPrefix(`${prefix}n-`)).toEqual([]);
    expect(await whoami(b.plugged!.namespace, EXT_IP, PORT, 1)).toBeNull();
    expect(await pingOnce(b.plugged!.namespace, EXT_IP)).toBe(false);
    expect(await ping(a.plugged!.namespace, b.ip)).toBe(true);
    expect(await ping(b.plugged!.namespace, a.ip)).toBe(true);
    expect(await whoami(INET, fipIp, PORT)).toBe(EXT_IP);
    expect(await whoami(a.plugged!.namespace, EXT_IP, PORT)).toBe(fipIp);
  }, 120_000);
});

/** Every agent has built what it was last given (the agents made ports of their own since the last cursor). */
async function settled(): Promise<void> {
  await until('every agent to converge', async () => [...agents.values()].every((a) => a.reconciler.pendingKeys.length === 0), 60_000);
}

async function converged(): Promise<void> {
  for (const agent of agents.values()) {
    await agent.reconciler.resync();
    const pass = await agent.reconciler.runPass();
    expect(pass.keys.filter((k) => k.status !== 'converged')).toEqual([]);
    expect(pass.mutations).toBe(0);
  }
}
