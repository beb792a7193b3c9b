import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentConfig, type AgentConfig } from '../../src/agent/config.js';
import { CommandRunner } from '../../src/agent/exec.js';
import { ipsecMode } from '../../src/agent/drivers/vpn.js';
import { createExternalHost, type PluggedInstance } from '../../src/agent/lab.js';
import { wipeHost } from '../../src/agent/wipe.js';
import { startServices, type Running } from '../../src/app/bootstrap.js';
import { DataplaneAgent, plugPort } from '../../src/agent/index.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { dhcpNamespace, routerNamespace } from '../../src/projections/desired-state/names.js';
import { inNs, namespacesWithPrefix, ping, pingOnce, requireHostTools, startWhoami, whoami, type Listener } from '../agent/netns-tools.js';
import { CREATE_NETWORK, CREATE_PORT, CREATE_SUBNET, startTestApi, type TestApi } from '../support/api.js';

// Through the real API and a real agent (its own services, as another process would have), on a
// real kernel. Everything carries this file's prefix and is removed in afterAll.
const prefix = `nldp${randomBytes(3).toString('hex')}-`;
const HOST = 'e2e-compute';
const EXT_IP = '203.0.113.1';
const PORT = 8080;

let api: TestApi;
const agentServices: Running[] = [];
const agents: DataplaneAgent[] = [];
let config: Partial<AgentConfig>;
let stateDir = '';
const exec = new CommandRunner();
const listeners: Listener[] = [];

let admin = '';
let tenant = '';
const ids = {} as Record<'ext' | 'net' | 'subnet' | 'router' | 'vm1' | 'vm2' | 'fip' | 'dhcpPort' | 'gwPort' | 'riPort', string>;
let gwIp = '';
let fipIp = '';
let vm1: PluggedInstance;
let vm2: PluggedInstance;
let extNs = '';

async function startAgent(): Promise<DataplaneAgent> {
  const s = await startServices(
    loadConfig({ ...process.env, DATABASE_URL: api.db.url, LOG_LEVEL: 'warn' }),
    createLogger('warn', { pretty: false }),
    { poolSize: 5 },
  );
  agentServices.push(s);
  const agent = new DataplaneAgent(s, { host: HOST, config, periodicResync: false });
  await agent.start();
  agents.push(agent);
  return agent;
}

/** `name(input: $i)`, answering the payload; fails the test on a typed error. */
function m(token: string, name: string, input: Record<string, unknown>, select: string): Promise<any> {
  return api.mutateOk(token, name, input, select);
}

async function waitApplied(cursor: string): Promise<void> {
  const r = await api.gql(
    admin,
    `query($c: String!) { waitForApplied(cursor: $c, timeoutMs: 20000) { applied timedOut pendingHosts agents { host lastError } } }`,
    { c: cursor },
  );
  expect(r.waitForApplied, JSON.stringify(r.waitForApplied)).toMatchObject({ applied: true, timedOut: false });
}

async function statusOf(kind: 'Port' | 'FloatingIp', uuid: string): Promise<string> {
  return (await api.node(admin, kind, uuid, 'status')).status;
}

beforeAll(async () => {
  await requireHostTools();
  stateDir = await mkdtemp(join(tmpdir(), prefix));
  config = { namespacePrefix: prefix, hostNamespace: `${prefix}host`, stateDir };
  api = await startTestApi();
  admin = api.adminToken;
  tenant = await api.token('dataplane');
  await startAgent();
});

afterAll(async () => {
  for (const l of listeners) await l.stop().catch(() => undefined);
  for (const a of agents) await a.stop().catch(() => undefined);
  if (config) await wipeHost(exec, agentConfig(config));
  for (const s of agentServices) await s.stop();
  await api?.close();
  const left = await namespacesWithPrefix(prefix);
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
  expect(left).toEqual([]);
});

describe('events become packets', () => {
  it('builds what the API describes: DHCP, routing, SNAT and a floating IP, with statuses ACTIVE', async () => {
    const ext = await api.gql(admin, CREATE_NETWORK, { input: { name: 'public', external: true } });
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
    const net = await api.gql(tenant, CREATE_NETWORK, { input: { name: 'private' } });
    ids.net = net.createNetwork.network.uuid;
    const subnet = await api.gql(tenant, CREATE_SUBNET, { input: { networkId: ids.net, ipVersion: 4, cidr: '10.30.0.0/24' } });
    ids.subnet = subnet.createSubnet.subnet.uuid;

    const router = await m(tenant, 'createRouter', { name: 'r1' }, 'router { uuid }');
    ids.router = router.router.uuid;
    const gw = await m(
      tenant,
      'setRouterGateway',
      { id: ids.router, networkId: ids.ext },
      'router { externalGatewayInfo { portId externalFixedIps { ipAddress } } }',
    );
    gwIp = gw.router.externalGatewayInfo.externalFixedIps[0].ipAddress;
    ids.gwPort = gw.router.externalGatewayInfo.portId;
    const ri = await m(tenant, 'addRouterInterface', { id: ids.router, subnetId: ids.subnet }, 'router { interfaces { portId } }');
    ids.riPort = ri.router.interfaces[0].portId;

    // Unfiltered ports: security groups are enforced (and tested) by their own part of the dataplane.
    const ports = [];
    for (const name of ['vm1', 'vm2'] as const) {
      const p = await api.gql(tenant, CREATE_PORT, {
        input: {
          networkId: ids.net,
          name,
          deviceOwner: 'compute:nova',
          deviceId: randomUUID(),
          bindingHost: HOST,
          portSecurityEnabled: false,
        },
      });
      expect(p.createPort.__typename).toBe('CreatePortSuccess');
      ids[name] = p.createPort.port.uuid;
      ports.push(p.createPort.port);
    }
    const fip = await m(
      tenant,
      'createFloatingIp',
      { floatingNetworkId: ids.ext, portId: ids.vm1 },
      'floatingIp { uuid floatingIpAddress }',
    );
    ids.fip = fip.floatingIp.uuid;
    fipIp = fip.floatingIp.floatingIpAddress;

    await waitApplied(fip.cursor);
    const dhcp = await api.gql(
      admin,
      `query($n: String) { ports(filter: { networkId: $n }, portFilter: { deviceOwner: "network:dhcp" }) { edges { node { uuid bindingHost } } } }`,
      { n: ids.net },
    );
    ids.dhcpPort = dhcp.ports.edges[0].node.uuid;
    // The one live agent was given the DHCP port and the router's ports.
    expect(dhcp.ports.edges[0].node.bindingHost).toBe(HOST);
    const agentsNow = await api.gql(admin, '{ agents { host alive appliedCursor lastError ipsecMode } }');
    // The agent says where it does ESP: the kernel's xfrm, or charon's libipsec where the kernel has none.
    expect(agentsNow.agents).toEqual([
      {
        host: HOST,
        alive: true,
        appliedCursor: expect.stringMatching(/^nl1\./),
        lastError: null,
        ipsecMode: await ipsecMode(exec),
      },
    ]);
    for (const id of [ids.vm1, ids.vm2, ids.dhcpPort, ids.gwPort, ids.riPort]) expect(await statusOf('Port', id)).toBe('ACTIVE');
    expect(await statusOf('FloatingIp', ids.fip)).toBe('ACTIVE');

    // Instances get their ports' addresses from our dnsmasq and reach each other.
    const config0 = agents[0]!.config;
    vm1 = await plugPort(api.services.sql, exec, config0, ids.vm1);
    vm2 = await plugPort(api.services.sql, exec, config0, ids.vm2);
    expect(vm1.lease.ip).toBe(ports[0].fixedIps[0].ipAddress);
    expect(vm2.lease.ip).toBe(ports[1].fixedIps[0].ipAddress);
    expect(vm1.lease.router).toBe('10.30.0.1');
    expect(await ping(vm1.namespace, vm2.lease.ip)).toBe(true);

    // Out through the router: SNAT to the gateway address; the FIP holder leaves as its FIP.
    extNs = await createExternalHost(exec, config0, { name: 'inet', networkId: ids.ext, address: `${EXT_IP}/24` });
    listeners.push(await startWhoami(extNs, PORT));
    expect(await whoami(vm2.namespace, EXT_IP, PORT)).toBe(gwIp);
    expect(await whoami(vm1.namespace, EXT_IP, PORT)).toBe(fipIp);
    // In through the FIP (DNAT keeps the client's address).
    listeners.push(await startWhoami(vm1.namespace, PORT));
    expect(await whoami(extNs, fipIp, PORT)).toBe(EXT_IP);
  });

  it('disassociating the floating IP stops inbound traffic once applied, and its status goes DOWN', async () => {
    const out = await m(tenant, 'disassociateFloatingIp', { id: ids.fip }, 'floatingIp { uuid }');
    await waitApplied(out.cursor);
    expect(await pingOnce(extNs, fipIp)).toBe(false);
    expect(await whoami(extNs, fipIp, PORT, 1)).toBeNull();
    expect(await whoami(vm1.namespace, EXT_IP, PORT)).toBe(gwIp);
    expect(await statusOf('FloatingIp', ids.fip)).toBe('DOWN');
  });

  it('a firewall group on the router interface is PENDING_CREATE until the agent applied it, then ACTIVE, and filters', async () => {
    const fwStatus = async (id: string): Promise<string> =>
      (await api.gql(admin, `query($id: ID!) { node(id: $id) { ... on FirewallGroup { status } } }`, { id })).node.status;
    const denyWeb = await m(
      tenant,
      'createFirewallRule',
      { protocol: 'tcp', destinationPort: String(PORT), action: 'deny' },
      'firewallRule { id }',
    );
    const allowAll = await m(tenant, 'createFirewallRule', { action: 'allow' }, 'firewallRule { id }');
    const out = await m(
      tenant,
      'createFirewallPolicy',
      { name: 'out', firewallRules: [denyWeb.firewallRule.id, allowAll.firewallRule.id] },
      'firewallPolicy { id }',
    );
    const into = await m(
      tenant,
      'createFirewallPolicy',
      { name: 'in', firewallRules: [allowAll.firewallRule.id] },
      'firewallPolicy { id }',
    );
    expect(await whoami(vm2.namespace, EXT_IP, PORT)).toBe(gwIp);

    const created = await m(
      tenant,
      'createFirewallGroup',
      {
        name: 'edge',
        ingressFirewallPolicyId: into.firewallPolicy.id,
        egressFirewallPolicyId: out.firewallPolicy.id,
        portIds: [ids.riPort],
      },
      'firewallGroup { id status }',
    );
    const id = created.firewallGroup.id;
    expect(created.firewallGroup.status).toBe('PENDING_CREATE');
    // The agent reports before it records the cursor applied: by then the group is ACTIVE.
    await waitApplied(created.cursor);
    expect(await fwStatus(id)).toBe('ACTIVE');
    expect(await whoami(vm2.namespace, EXT_IP, PORT, 1)).toBeNull();
    expect(await ping(vm2.namespace, EXT_IP)).toBe(true);

    // A new policy goes back to PENDING_UPDATE until applied: egress allows everything again.
    const changed = await m(
      tenant,
      'updateFirewallGroup',
      { id, egressFirewallPolicyId: into.firewallPolicy.id },
      'firewallGroup { status }',
    );
    expect(changed.firewallGroup.status).toBe('PENDING_UPDATE');
    await waitApplied(changed.cursor);
    expect(await fwStatus(id)).toBe('ACTIVE');
    expect(await whoami(vm2.namespace, EXT_IP, PORT)).toBe(gwIp);

    const detached = await m(tenant, 'updateFirewallGroup', { id, portIds: [] }, 'firewallGroup { status }');
    expect(detached.firewallGroup.status).toBe('INACTIVE');
    await waitApplied(detached.cursor);
    expect(await fwStatus(id)).toBe('INACTIVE');
  });

  it('IPv6 through the API: a SLAAC subnet on the router, and an instance holds the address createPort answered', async () => {
    const s6 = await api.gql(tenant, CREATE_SUBNET, {
      input: { networkId: ids.net, ipVersion: 6, cidr: '2001:db8:30::/64', ipv6RaMode: 'slaac', ipv6AddressMode: 'slaac' },
    });
    expect(s6.createSubnet.__typename, JSON.stringify(s6.createSubnet)).toBe('CreateSubnetSuccess');
    const subnet6 = s6.createSubnet.subnet.uuid as string;
    await m(tenant, 'addRouterInterface', { id: ids.router, subnetId: subnet6 }, 'router { uuid }');
    const started = performance.now();
    const p = await api.gql(tenant, CREATE_PORT, {
      input: {
        networkId: ids.net,
        name: 'vm6',
        deviceOwner: 'compute:nova',
        deviceId: randomUUID(),
        bindingHost: HOST,
        portSecurityEnabled: false,
      },
    });
    expect(p.createPort.__typename).toBe('CreatePortSuccess');
    const want = (p.createPort.port.fixedIps as { subnetId: string; ipAddress: string }[]).find((f) => f.subnetId === subnet6)?.ipAddress;
    expect(want).toMatch(/^2001:db8:30:/);
    await waitApplied(p.createPort.cursor);
    const vm6 = await plugPort(api.services.sql, exec, agents[0]!.config, p.createPort.port.uuid);
    const deadline = Date.now() + 30_000;
    let held: string[] = [];
    while (Date.now() < deadline) {
      const r = await inNs(vm6.namespace, ['ip', '-6', '-j', 'addr', 'show', 'dev', 'eth0', 'scope', 'global', '-tentative']);
      held = (JSON.parse(r.stdout || '[]') as { addr_info: { local: string }[] }[]).flatMap((l) => l.addr_info.map((a) => a.local));
      if (held.includes(want!)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(held).toContain(want);
    console.log(`createPort to the instance holding its SLAAC address: ${Math.round(performance.now() - started)} ms`);
    // Neutron's IPv6 default gateway is the subnet-router anycast address, the prefix itself.
    expect(s6.createSubnet.subnet.gatewayIp).toBe('2001:db8:30::');
    expect(await ping(vm6.namespace, '2001:db8:30::', 10)).toBe(true);
  });

  it('a new agent on a wiped host rebuilds everything from the log, then follows it', async () => {
    const old = agents[0]!;
    await old.stop();
    await wipeHost(exec, old.config);
    expect(await namespacesWithPrefix(prefix)).toEqual([]);

    const agent = await startAgent();
    expect(agent.reconciler.pendingKeys, JSON.stringify([...agent.reconciler.failures()])).toEqual([]);
    expect((await namespacesWithPrefix(prefix)).sort()).toEqual(
      [`${prefix}host`, dhcpNamespace(agent.config, ids.net), routerNamespace(agent.config, ids.router)].sort(),
    );
    vm2 = await plugPort(api.services.sql, exec, agent.config, ids.vm2);
    expect(await ping(vm2.namespace, '10.30.0.1')).toBe(true);
    extNs = await createExternalHost(exec, agent.config, { name: 'inet', networkId: ids.ext, address: `${EXT_IP}/24` });
    listeners.push(await startWhoami(extNs, PORT), await startWhoami(vm2.namespace, PORT));
    expect(await whoami(vm2.namespace, EXT_IP, PORT)).toBe(gwIp);

    // Still following: the floating IP moves to vm2 and works once applied.
    const moved = await m(tenant, 'associateFloatingIp', { id: ids.fip, portId: ids.vm2 }, 'floatingIp { uuid }');
    await waitApplied(moved.cursor);
    expect(await whoami(extNs, fipIp, PORT)).toBe(EXT_IP);
    expect(await statusOf('FloatingIp', ids.fip)).toBe('ACTIVE');
    // A converged host: a full pass changes nothing.
    await agent.reconciler.resync();
    const last = await agent.reconciler.runPass();
    expect(last.mutations, JSON.stringify(last)).toBe(0);
  });
});
