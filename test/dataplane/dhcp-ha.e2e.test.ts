import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentConfig } from '../../src/agent/config.js';
import { plugPort } from '../../src/agent/index.js';
import type { PluggedInstance } from '../../src/agent/lab.js';
import { wipeHost } from '../../src/agent/wipe.js';
import { dhcpNamespace } from '../../src/projections/desired-state/names.js';
import { dnsmasqPids, namespacesWithPrefix } from '../agent/netns-tools.js';
import { CREATE_NETWORK, CREATE_PORT, CREATE_SUBNET, type TestApi } from '../support/api.js';
import { HostLab } from '../support/host-lab.js';
import { until } from '../support/until.js';

// A network served by two DHCP agents (NETLEDGER_DHCP_AGENTS_PER_NETWORK=2) on hosts 1 and 2, an
// instance on host 3, all joined by a VXLAN overlay. The host whose dnsmasq gave the instance its
// lease dies; the instance asks again and the other dnsmasq answers with the same address, with no
// rescheduling (agent_down_time is far longer than the test): the second DHCP port is what serves.
const prefix = `nldh${randomBytes(3).toString('hex')}-`;
// Nobody is marked down, nothing is rescheduled, while the test runs.
const AGENT_DOWN_MS = 3_600_000;
const HOSTS = [
  { name: 'dh-host-1', n: 1, address: '192.168.220.1' },
  { name: 'dh-host-2', n: 2, address: '192.168.220.2' },
  { name: 'dh-host-3', n: 3, address: '192.168.220.3' },
] as const;
type Host = (typeof HOSTS)[number];
const [H1, H2, H3] = HOSTS;

let api: TestApi;
let admin = '';
let tenant = '';
const lab = new HostLab(prefix, { NETLEDGER_DHCP_AGENTS_PER_NETWORK: '2' });
const { exec, agents } = lab;
const ids = { net: '', vm: '' };
let vmIp = '';
/** The network's DHCP ports: address and host of each. */
let dhcp: { ip: string; host: string }[] = [];
let first: PluggedInstance;

const cfg = (h: Host): AgentConfig => lab.config(h.name);
const hostNamed = (name: string): Host => HOSTS.find((h) => h.name === name)!;

async function startAgent(host: Host): Promise<void> {
  await lab.startAgent(host.name);
}

async function dhcpPorts(): Promise<{ ip: string; host: string }[]> {
  const r = await api.gql(
    admin,
    `query($n: String) { ports(filter: { networkId: $n }, portFilter: { deviceOwner: "network:dhcp" }) { edges { node { bindingHost fixedIps { ipAddress } } } } }`,
    { n: ids.net },
  );
  return r.ports.edges
    .map((e: any) => ({ ip: e.node.fixedIps[0].ipAddress as string, host: (e.node.bindingHost ?? '') as string }))
    .sort((a: { ip: string }, b: { ip: string }) => a.ip.localeCompare(b.ip));
}

async function waitApplied(cursor: string): Promise<void> {
  const r = await api.gql(
    admin,
    `query($c: String!) { waitForApplied(cursor: $c, timeoutMs: 60000) { applied timedOut pendingHosts agents { host lastError alive } } }`,
    { c: cursor },
  );
  expect(r.waitForApplied, JSON.stringify(r.waitForApplied)).toMatchObject({ applied: true, timedOut: false });
}

beforeAll(async () => {
  api = await lab.start(
    { NETLEDGER_AGENT_DOWN_SECONDS: String(AGENT_DOWN_MS / 1000), NETLEDGER_DHCP_AGENTS_PER_NETWORK: '2' },
    HOSTS.map((h) => ({ name: h.name, key: String(h.n), address: h.address })),
    { agentDownMs: AGENT_DOWN_MS },
  );
  admin = api.adminToken;
  tenant = await api.token('dhcp-ha');
}, 120_000);

afterAll(async () => {
  expect(await lab.close()).toEqual([]);
}, 60_000);

describe('two DHCP agents for a network: the instance keeps getting its lease when one host dies', () => {
  it('hosts 1 and 2 each run a dnsmasq for the network; the instance on host 3 gets its lease from one of them', async () => {
    // Only hosts 1 and 2 are up when the network is made: its two DHCP ports go to them.
    await startAgent(H1);
    await startAgent(H2);
    const net = await api.gql(tenant, CREATE_NETWORK, { input: { name: 'dhcp-ha' } });
    expect(net.createNetwork.__typename, JSON.stringify(net.createNetwork)).toBe('CreateNetworkSuccess');
    ids.net = net.createNetwork.network.uuid;
    const subnet = await api.gql(tenant, CREATE_SUBNET, { input: { networkId: ids.net, ipVersion: 4, cidr: '10.62.0.0/24' } });
    expect(subnet.createSubnet.__typename, JSON.stringify(subnet.createSubnet)).toBe('CreateSubnetSuccess');
    dhcp = await until(
      'both DHCP ports to be bound',
      async () => {
        const ports = await dhcpPorts();
        return ports.length === 2 && ports.every((p) => p.host !== '') ? ports : false;
      },
      60_000,
    );
    expect(dhcp.map((p) => p.host).sort()).toEqual([H1.name, H2.name]);
    expect(new Set(dhcp.map((p) => p.ip)).size).toBe(2);

    await startAgent(H3);
    const p = await api.gql(tenant, CREATE_PORT, {
      input: { networkId: ids.net, name: 'vm', deviceOwner: 'compute:nova', deviceId: randomUUID(), bindingHost: H3.name },
    });
    expect(p.createPort.__typename, JSON.stringify(p.createPort)).toBe('CreatePortSuccess');
    ids.vm = p.createPort.port.uuid;
    vmIp = p.createPort.port.fixedIps[0].ipAddress;
    // Every host has built it: both dnsmasqs know the instance's port.
    await waitApplied(p.createPort.cursor);
    for (const h of [H1, H2]) expect(await dnsmasqPids([dhcpNamespace(cfg(h), ids.net)])).toHaveLength(1);
    // Nothing of the DHCP moved to host 3.
    expect(await dhcpPorts()).toEqual(dhcp);

    first = await plugPort(api.services.sql, exec, cfg(H3), ids.vm, { timeoutMs: 60_000 });
    expect(first.lease.ip).toBe(vmIp);
    expect(dhcp.map((d) => d.ip)).toContain(first.lease.server);
  }, 180_000);

  it('the host that gave the lease dies; the instance asks again and the other host gives it the same address, with nothing rescheduled', async () => {
    const served = dhcp.find((d) => d.ip === first.lease.server)!;
    const survivor = dhcp.find((d) => d !== served)!;
    const dead = hostNamed(served.host);
    // The host is gone with everything on it: its agent, its namespaces, its dnsmasq.
    await agents.get(dead.name)!.crash();
    agents.delete(dead.name);
    await wipeHost(exec, cfg(dead));
    expect(await namespacesWithPrefix(cfg(dead).namespacePrefix)).toEqual([]);

    // A fresh DISCOVER (the instance rebooted): only the surviving dnsmasq can answer.
    const again = await plugPort(api.services.sql, exec, cfg(H3), ids.vm, { timeoutMs: 60_000 });
    expect(again.lease).toMatchObject({ ip: vmIp, server: survivor.ip });
    expect(again.lease.prefixLength).toBe(first.lease.prefixLength);
    expect(again.lease.router).toBe(first.lease.router);

    // Served by the second DHCP port where it was, not by a failover: nothing moved, nobody is down.
    expect(await dhcpPorts()).toEqual(dhcp);
    const r = await api.gql(admin, '{ agents { host down } }');
    expect(r.agents).toEqual(HOSTS.map((h) => ({ host: h.name, down: false })));
  }, 180_000);
});
