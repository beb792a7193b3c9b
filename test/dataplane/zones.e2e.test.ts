import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plugPort } from '../../src/agent/index.js';
import { wipeHost } from '../../src/agent/wipe.js';
import { dhcpNamespace, routerNamespace } from '../../src/projections/desired-state/names.js';
import { ping } from '../agent/netns-tools.js';
import { CREATE_NETWORK, CREATE_PORT, CREATE_SUBNET, type TestApi } from '../support/api.js';
import { HostLab } from '../support/host-lab.js';
import { until } from '../support/until.js';

// Two hosts in two availability zones (as in multihost.e2e.test.ts, one machine, an underlay
// switch): a network hinted to zone 2 and a router hinted to zone 1 must be built where their
// hints say, and an instance on host 1 must get its address from zone 2's DHCP across the tunnel.
const prefix = `nlaz${randomBytes(3).toString('hex')}-`;
const AGENT_DOWN_MS = 10_000;
const HOSTS = [
  { name: 'az-host-1', key: 'a', address: '192.168.211.1', config: { availabilityZone: 'zone-1' } },
  { name: 'az-host-2', key: 'b', address: '192.168.211.2', config: { availabilityZone: 'zone-2' } },
] as const;
const [H1, H2] = HOSTS.map((h) => h.name) as [string, string];

let api: TestApi;
let admin = '';
const lab = new HostLab(prefix);
const ids = { net: '', subnet: '', router: '', vmNamespace: '' };

async function gql(query: string, variables?: Record<string, unknown>) {
  return api.gql(admin, query, variables);
}

/** Where the network's DHCP port and the router's interface port are bound. */
async function placement(): Promise<{ dhcp: string; router: string }> {
  const r = await gql(`query { ports(first: 100) { edges { node { networkId deviceOwner deviceId bindingHost } } } }`);
  const ports = r.ports.edges.map((e: { node: Record<string, string> }) => e.node);
  return {
    dhcp: ports.find((p: Record<string, string>) => p.networkId === ids.net && p.deviceOwner === 'network:dhcp')?.bindingHost ?? '',
    router: ports.find((p: Record<string, string>) => p.deviceId === ids.router)?.bindingHost ?? '',
  };
}

beforeAll(async () => {
  api = await lab.start({ NETLEDGER_AGENT_DOWN_SECONDS: String(AGENT_DOWN_MS / 1000) }, HOSTS, {
    agentDownMs: AGENT_DOWN_MS,
    heartbeatIntervalMs: AGENT_DOWN_MS / 4,
  });
  admin = api.adminToken;
  for (const h of HOSTS) await lab.startAgent(h.name);
}, 120_000);

afterAll(async () => {
  expect(await lab.close()).toEqual([]);
}, 60_000);

describe('availability zones on two hosts, with real packets', () => {
  it('lists each zone with the host registered in it', async () => {
    const r = await gql('{ availabilityZones { name resource state } agents { host availabilityZone alive } }');
    expect(r.agents.map((a: { host: string; availabilityZone: string }) => [a.host, a.availabilityZone])).toEqual([
      [H1, 'zone-1'],
      [H2, 'zone-2'],
    ]);
    const zones = r.availabilityZones.map((z: { name: string; resource: string }) => `${z.name}/${z.resource}`);
    expect(zones).toEqual(expect.arrayContaining(['zone-1/network', 'zone-1/router', 'zone-2/network', 'zone-2/router']));
  });

  it("builds a hinted network's DHCP and a hinted router in their zones, and an instance in the other zone gets its lease across the tunnel", async () => {
    const net = await gql(CREATE_NETWORK, { input: { name: 'zoned', availabilityZoneHints: ['zone-2'] } });
    expect(net.createNetwork.__typename, JSON.stringify(net.createNetwork)).toBe('CreateNetworkSuccess');
    ids.net = net.createNetwork.network.uuid;
    const sub = await gql(CREATE_SUBNET, { input: { networkId: ids.net, ipVersion: 4, cidr: '10.72.0.0/24' } });
    expect(sub.createSubnet.__typename).toBe('CreateSubnetSuccess');
    ids.subnet = sub.createSubnet.subnet.uuid;
    const router = await api.mutateOk(admin, 'createRouter', { name: 'zoned', availabilityZoneHints: ['zone-1'] }, 'router { uuid }');
    ids.router = router.router.uuid;
    await api.mutateOk(admin, 'addRouterInterface', { id: ids.router, subnetId: ids.subnet }, 'router { uuid }');
    const vm = await gql(CREATE_PORT, {
      input: {
        networkId: ids.net,
        name: 'vm',
        deviceOwner: 'compute:nova',
        deviceId: randomUUID(),
        bindingHost: H1,
        portSecurityEnabled: false,
      },
    });
    expect(vm.createPort.__typename).toBe('CreatePortSuccess');
    const ip = vm.createPort.port.fixedIps[0].ipAddress as string;
    await until('the DHCP port and the router to be bound', async () => (await placement()).dhcp !== '', 60_000);
    expect(await placement()).toEqual({ dhcp: H2, router: H1 });
    const applied = await gql(`query($c: String!) { waitForApplied(cursor: $c, timeoutMs: 60000) { applied timedOut } }`, {
      c: vm.createPort.cursor,
    });
    expect(applied.waitForApplied).toMatchObject({ applied: true, timedOut: false });
    await until('the namespaces in their zones', async () => (await lab.hostsWith((c) => dhcpNamespace(c, ids.net))).join() === H2, 60_000);
    expect(await lab.hostsWith((c) => routerNamespace(c, ids.router))).toEqual([H1]);

    // dnsmasq runs only on host 2: the lease crosses the underlay.
    const plugged = await plugPort(api.services.sql, lab.exec, lab.config(H1), vm.createPort.port.uuid, { timeoutMs: 30_000 });
    expect(plugged.lease.ip).toBe(ip);
    ids.vmNamespace = plugged.namespace;
    expect(await ping(plugged.namespace, '10.72.0.1')).toBe(true);
  }, 180_000);

  it("keeps a hinted network's DHCP out of other zones when its zone's only agent dies", async () => {
    // As the host dying with everything on it (multihost.e2e.test.ts), not an agent stopped on purpose.
    await lab.agents.get(H2)!.crash();
    lab.agents.delete(H2);
    await wipeHost(lab.exec, lab.config(H2));
    await until(
      'host 2 to be marked down',
      async () => (await gql('{ agents { host down } }')).agents.find((a: { host: string }) => a.host === H2)?.down === true,
      60_000,
    );
    // Marking it down moves what it held, but a hinted network's DHCP only inside its zones: host 1 is in none.
    const r = await api.mutateOk(admin, 'updateNetwork', { id: ids.net, name: 'zoned-again' }, 'network { uuid }');
    const applied = await gql(`query($c: String!) { waitForApplied(cursor: $c, timeoutMs: 60000) { applied } }`, { c: r.cursor });
    expect(applied.waitForApplied.applied).toBe(true);
    expect(await placement()).toEqual({ dhcp: H2, router: H1 });
    expect(await lab.hostsWith((c) => dhcpNamespace(c, ids.net))).toEqual([]);
    // Host 1 goes on routing for its instance.
    expect(await ping(ids.vmNamespace, '10.72.0.1')).toBe(true);
  }, 120_000);
});
