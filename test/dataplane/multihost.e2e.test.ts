import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentConfig, type AgentConfig } from '../../src/agent/config.js';
import { CommandRunner } from '../../src/agent/exec.js';
import { DataplaneAgent, plugPort } from '../../src/agent/index.js';
import type { PluggedInstance } from '../../src/agent/lab.js';
import { addSimulatedHost, createUnderlay, removeUnderlay } from '../../src/agent/underlay-lab.js';
import { wipeHost } from '../../src/agent/wipe.js';
import { startServices, type Running } from '../../src/app/bootstrap.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { dhcpNamespace } from '../../src/projections/desired-state/names.js';
import { dnsmasqPids, inNs, namespacesWithPrefix, ping, requireHostTools } from '../agent/netns-tools.js';
import { CREATE_NETWORK, CREATE_PORT, CREATE_SUBNET, startTestApi, type TestApi } from '../support/api.js';
import { until } from '../support/until.js';

// Two hosts on one machine: each a host namespace with its own agent (own services, as another
// machine would have), joined only by an underlay switch in a namespace of this run. Instances on
// both hosts share one VXLAN network; the only path between them is the tunnel.
const prefix = `nlmh${randomBytes(3).toString('hex')}-`;
const UNDERLAY = `${prefix}underlay`;
// Long enough that a heartbeat delayed by a loaded machine does not kill a live agent.
const AGENT_DOWN_MS = 10_000;
const HOSTS = [
  { name: 'mh-host-a', letter: 'a', address: '192.168.200.1' },
  { name: 'mh-host-b', letter: 'b', address: '192.168.200.2' },
] as const;

let api: TestApi;
let admin = '';
let tenant = '';
let stateDir = '';
const exec = new CommandRunner();
const services: Running[] = [];
const agents = new Map<string, DataplaneAgent>();
const configs = new Map<string, AgentConfig>();
const vms = new Map<string, { portId: string; ip: string; plugged?: PluggedInstance }>();
let networkId = '';
let vni = 0;

const other = (host: string): string => (host === HOSTS[0].name ? HOSTS[1].name : HOSTS[0].name);

async function startAgent(host: (typeof HOSTS)[number]): Promise<DataplaneAgent> {
  const s = await startServices(
    loadConfig({ ...process.env, DATABASE_URL: api.db.url, LOG_LEVEL: 'warn' }),
    createLogger('warn', { pretty: false }),
    { poolSize: 5 },
  );
  services.push(s);
  const agent = new DataplaneAgent(s, {
    host: host.name,
    config: configs.get(host.name)!,
    periodicResync: false,
    heartbeatCheckMs: 250,
  });
  await agent.start();
  agents.set(host.name, agent);
  return agent;
}

async function dhcpHost(): Promise<string> {
  const r = await api.gql(
    admin,
    `query($n: String) { ports(filter: { networkId: $n }, portFilter: { deviceOwner: "network:dhcp" }) { edges { node { bindingHost } } } }`,
    { n: networkId },
  );
  return r.ports.edges[0]?.node.bindingHost ?? '';
}

async function waitApplied(cursor: string): Promise<void> {
  const r = await api.gql(
    admin,
    `query($c: String!) { waitForApplied(cursor: $c, timeoutMs: 30000) { applied timedOut pendingHosts agents { host lastError alive lastHeartbeatAt } } }`,
    { c: cursor },
  );
  expect(r.waitForApplied, JSON.stringify(r.waitForApplied)).toMatchObject({ applied: true, timedOut: false });
}

/** tx packets of the host's tunnel device: what crossed the underlay as VXLAN. */
async function tunnelTxPackets(host: string): Promise<number> {
  const r = await inNs(configs.get(host)!.hostNamespace, ['ip', '-j', '-s', 'link', 'show', `vxlan-${vni}`]);
  return (JSON.parse(r.stdout) as { stats64: { tx: { packets: number } } }[])[0]?.stats64.tx.packets ?? 0;
}

beforeAll(async () => {
  await requireHostTools();
  stateDir = await mkdtemp(join(tmpdir(), prefix));
  // Each agent's state dir is below this one: dnsmasq re-reads its files as nobody on SIGHUP.
  await chmod(stateDir, 0o755);
  api = await startTestApi({ NETLEDGER_AGENT_DOWN_SECONDS: String(AGENT_DOWN_MS / 1000) });
  admin = api.adminToken;
  tenant = await api.token('multihost');
  await createUnderlay(exec, UNDERLAY);
  for (const [i, h] of HOSTS.entries()) {
    const config = agentConfig({
      namespacePrefix: `${prefix}${h.letter}-`,
      hostNamespace: `${prefix}${h.letter}-host`,
      stateDir: join(stateDir, h.letter),
      underlayAddress: h.address,
      agentDownMs: AGENT_DOWN_MS,
      heartbeatIntervalMs: AGENT_DOWN_MS / 4,
    });
    configs.set(h.name, config);
    await addSimulatedHost(exec, UNDERLAY, { namespace: config.hostNamespace, index: i, address: `${h.address}/24` });
  }
  for (const h of HOSTS) await startAgent(h);
}, 120_000);

afterAll(async () => {
  for (const a of agents.values()) await a.stop().catch(() => undefined);
  for (const c of configs.values()) await wipeHost(exec, c);
  await removeUnderlay(exec, UNDERLAY);
  for (const s of services) await s.stop();
  await api?.close();
  const left = await namespacesWithPrefix(prefix);
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
  expect(left).toEqual([]);
}, 60_000);

describe('two hosts, one VXLAN network', () => {
  it('registers each host with its underlay address', async () => {
    const r = await api.gql(admin, '{ agents { host alive underlayAddress } }');
    expect(r.agents).toEqual(HOSTS.map((h) => ({ host: h.name, alive: true, underlayAddress: h.address })));
  });

  it('an instance gets its lease from the DHCP port on the other host, and instances on both hosts ping over the tunnel', async () => {
    const net = await api.gql(tenant, CREATE_NETWORK, { input: { name: 'overlay' } });
    networkId = net.createNetwork.network.uuid;
    vni = net.createNetwork.network.providerSegmentationId;
    expect(net.createNetwork.network.mtu).toBe(1450);
    const subnet = await api.gql(tenant, CREATE_SUBNET, { input: { networkId, ipVersion: 4, cidr: '10.60.0.0/24' } });
    expect(subnet.createSubnet.__typename).toBe('CreateSubnetSuccess');
    let cursor = '';
    for (const h of HOSTS) {
      const p = await api.gql(tenant, CREATE_PORT, {
        input: {
          networkId,
          name: `vm-${h.letter}`,
          deviceOwner: 'compute:nova',
          deviceId: randomUUID(),
          bindingHost: h.name,
          portSecurityEnabled: false,
        },
      });
      expect(p.createPort.__typename).toBe('CreatePortSuccess');
      vms.set(h.name, { portId: p.createPort.port.uuid, ip: p.createPort.port.fixedIps[0].ipAddress });
      cursor = p.createPort.cursor;
    }
    await waitApplied(cursor);
    const served = await dhcpHost();
    expect(HOSTS.map((h) => h.name)).toContain(served);

    for (const h of HOSTS) {
      const vm = vms.get(h.name)!;
      vm.plugged = await plugPort(api.services.sql, exec, configs.get(h.name)!, vm.portId, { timeoutMs: 30_000 });
      expect(vm.plugged.lease.ip).toBe(vm.ip);
    }
    const a = vms.get(HOSTS[0].name)!;
    const b = vms.get(HOSTS[1].name)!;
    const before = await tunnelTxPackets(HOSTS[0].name);
    expect(await ping(a.plugged!.namespace, b.ip)).toBe(true);
    expect(await ping(b.plugged!.namespace, a.ip)).toBe(true);
    // The packets went through host A's VXLAN device (the only way to host B).
    expect(await tunnelTxPackets(HOSTS[0].name)).toBeGreaterThan(before);
    // ARP for the remote instance is answered on the local host (proxy entry), not flooded.
    const neigh = await inNs(configs.get(HOSTS[0].name)!.hostNamespace, ['ip', '-j', 'neigh', 'show', 'dev', `vxlan-${vni}`]);
    expect((JSON.parse(neigh.stdout) as { dst: string }[]).map((n) => n.dst)).toContain(b.ip);
  }, 120_000);

  it('changes nothing on either host once converged', async () => {
    for (const agent of agents.values()) {
      await agent.reconciler.resync();
      const pass = await agent.reconciler.runPass();
      expect(pass.keys.filter((k) => k.status !== 'converged')).toEqual([]);
      expect(pass.mutations).toBe(0);
    }
  });

  it('when the DHCP host dies, its DHCP port moves to the survivor, which serves the lease', async () => {
    const dead = await dhcpHost();
    const survivor = other(dead);
    const killedAt = Date.now();
    await agents.get(dead)!.crash();
    agents.delete(dead);
    // The host is gone with everything on it: its namespaces, its dnsmasq, its instance.
    await wipeHost(exec, configs.get(dead)!);

    const moved = await until('the DHCP port to move to the survivor', async () => (await dhcpHost()) === survivor, 60_000);
    expect(moved).toBe(true);
    const config = configs.get(survivor)!;
    await until('dnsmasq on the survivor', async () => (await dnsmasqPids([dhcpNamespace(config, networkId)])).length === 1, 60_000);
    const vm = vms.get(survivor)!;
    vm.plugged = await plugPort(api.services.sql, exec, config, vm.portId, { timeoutMs: 30_000 });
    const outageMs = Date.now() - killedAt;
    console.log(`DHCP failover: lease served again ${outageMs} ms after the DHCP host died (agent_down_time ${AGENT_DOWN_MS} ms)`);
    expect(vm.plugged.lease.ip).toBe(vm.ip);
    const r = await api.gql(admin, '{ agents { host alive } }');
    expect(r.agents).toEqual(HOSTS.map((h) => ({ host: h.name, alive: h.name === survivor })));
  }, 120_000);
});
