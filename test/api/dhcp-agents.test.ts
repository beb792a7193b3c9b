import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAgent } from '../../src/agent/registration.js';
import { applyBindings } from '../../src/agent/reports.js';
import { planBindings } from '../../src/agent/scheduler.js';
import { compileHostState } from '../../src/projections/desired-state/index.js';
import { buildHostTopology, schedulingRecords } from '../../src/projections/topology/index.js';
import { CREATE_NETWORK, CREATE_SUBNET, startTestApi, type TestApi } from '../support/api.js';

/** NETLEDGER_DHCP_AGENTS_PER_NETWORK=2: each network gets two DHCP ports, on two agents, two dnsmasqs. */
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ NETLEDGER_DHCP_AGENTS_PER_NETWORK: '2' });
});
afterAll(async () => api?.close());

interface PortNode {
  uuid: string;
  networkId: string;
  deviceOwner: string;
  deviceId: string;
  bindingHost: string | null;
  fixedIps: { subnetId: string; ipAddress: string }[];
}

async function dhcpPorts(networkId: string): Promise<PortNode[]> {
  const r = await api.gql(
    api.adminToken,
    `query { ports(first: 100) { edges { node { uuid networkId deviceOwner deviceId bindingHost fixedIps { subnetId ipAddress } } } } }`,
  );
  return (r.ports.edges as { node: PortNode }[])
    .map((e) => e.node)
    .filter((p) => p.networkId === networkId && p.deviceOwner === 'network:dhcp')
    .sort((a, b) => a.deviceId.localeCompare(b.deviceId));
}

/** What the agents do on their rounds: bind unbound DHCP ports over the live hosts. */
async function schedule(live: string[]): Promise<void> {
  const rec = await schedulingRecords(api.services.sql, live[0]!);
  await applyBindings(api.services, live[0]!, planBindings(rec.ports, rec.routers, live));
}

describe('several DHCP agents per network', () => {
  it('gives a network one DHCP port per agent, each with its own address, on distinct hosts, each running dnsmasq', async () => {
    const admin = api.adminToken;
    for (const h of ['dhcp-a', 'dhcp-b', 'dhcp-c']) {
      expect((await registerAgent(api.services, h, randomUUID(), null, 'legacy', null, h === 'dhcp-c' ? 'az-2' : null)).ok).toBe(true);
    }
    // Agents report their availability zone (NETLEDGER_AVAILABILITY_ZONE; nova when they name none).
    const zones = (await api.gql(admin, '{ agents { host availabilityZone } }')).agents;
    expect(zones).toEqual([
      { host: 'dhcp-a', availabilityZone: 'nova' },
      { host: 'dhcp-b', availabilityZone: 'nova' },
      { host: 'dhcp-c', availabilityZone: 'az-2' },
    ]);
    const net = (await api.gql(admin, CREATE_NETWORK, { input: { name: 'two-dhcp' } })).createNetwork.network.uuid as string;
    const s1 = (await api.gql(admin, CREATE_SUBNET, { input: { networkId: net, ipVersion: 4, cidr: '10.80.0.0/24' } })).createSubnet.subnet
      .uuid as string;
    let ports = await dhcpPorts(net);
    expect(ports.map((p) => p.deviceId)).toEqual([`dhcp-${net}`, `dhcp-${net}-2`]);
    expect(ports.map((p) => p.fixedIps)).toEqual([[{ subnetId: s1, ipAddress: '10.80.0.2' }], [{ subnetId: s1, ipAddress: '10.80.0.3' }]]);

    // A second DHCP subnet: each port gains its own address there.
    const s2 = (await api.gql(admin, CREATE_SUBNET, { input: { networkId: net, ipVersion: 4, cidr: '10.81.0.0/24' } })).createSubnet.subnet
      .uuid as string;
    ports = await dhcpPorts(net);
    expect(ports.map((p) => p.fixedIps.find((f) => f.subnetId === s2)?.ipAddress)).toEqual(['10.81.0.2', '10.81.0.3']);

    // Scheduled on two distinct agents; the third serves nothing of it.
    await schedule(['dhcp-a', 'dhcp-b', 'dhcp-c']);
    ports = await dhcpPorts(net);
    const hosts = ports.map((p) => p.bindingHost);
    expect(new Set(hosts).size).toBe(2);
    for (const host of ['dhcp-a', 'dhcp-b', 'dhcp-c']) {
      const state = compileHostState((await buildHostTopology(api.services.sql, host)).topology, host);
      const dhcp = state.networks.find((n) => n.networkId === net)?.dhcp ?? null;
      const mine = ports.find((p) => p.bindingHost === host);
      if (!mine) {
        expect(dhcp).toBeNull();
        continue;
      }
      // Its own dnsmasq on its own port and addresses.
      expect(dhcp?.namespace.interfaces.map((i) => i.portId)).toEqual([mine.uuid]);
      expect(dhcp?.namespace.interfaces[0]?.addresses).toEqual(mine.fixedIps.map((f) => `${f.ipAddress}/24`).sort());
    }

    // dhcp-agent-network-add: the network gains the named agent (one port moves), and no more.
    const spare = ['dhcp-a', 'dhcp-b', 'dhcp-c'].find((h) => !hosts.includes(h))!;
    const moved = await api.gql(
      admin,
      `mutation($i: MoveNetworkDhcpToAgentInput!) { moveNetworkDhcpToAgent(input: $i) { __typename ... on Error { code message } } }`,
      { i: { networkId: net, host: spare } },
    );
    expect(moved.moveNetworkDhcpToAgent.__typename).toBe('MoveNetworkDhcpToAgentSuccess');
    const after = (await dhcpPorts(net)).map((p) => p.bindingHost);
    expect(after).toContain(spare);
    expect(new Set(after).size).toBe(2);
    const agents = (await api.gql(admin, '{ agents { host dhcpNetworkIds } }')).agents as { host: string; dhcpNetworkIds: string[] }[];
    expect(
      agents
        .filter((a) => a.dhcpNetworkIds.includes(net))
        .map((a) => a.host)
        .sort(),
    ).toEqual([...after].sort());
  });
});
