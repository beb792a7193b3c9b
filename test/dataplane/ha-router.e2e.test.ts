import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plugPort, type DataplaneAgent } from '../../src/agent/index.js';
import { plugInstanceLink, type PluggedInstance } from '../../src/agent/lab.js';
import { addSimulatedHost } from '../../src/agent/underlay-lab.js';
import { wipeHost } from '../../src/agent/wipe.js';
import { HA_CIDR } from '../../src/app/routing/ha.js';
import { inNs, namespacesWithPrefix, ping } from '../agent/netns-tools.js';
import { CREATE_NETWORK, CREATE_PORT, CREATE_SUBNET, type TestApi } from '../support/api.js';
import { HostLab } from '../support/host-lab.js';
import { until } from '../support/until.js';

// Three simulated hosts on one underlay switch: the HA router runs on A and B (the scheduler's
// two least loaded hosts, ties by name), the instance and the "internet" host live on C, so every
// packet between them and the router crosses the VXLAN overlay. Killing the active host (agent
// stopped without a word, its namespaces and keepalived gone) must hand the router to the standby.
const prefix = `nlha${randomBytes(3).toString('hex')}-`;
// Long enough that a loaded machine (load 15 on two cores) does not starve live agents into "down".
const AGENT_DOWN_MS = 20_000;
const HOSTS = [
  { name: 'ha-host-a', letter: 'a', address: '192.168.210.1' },
  { name: 'ha-host-b', letter: 'b', address: '192.168.210.2' },
  { name: 'ha-host-c', letter: 'c', address: '192.168.210.3' },
] as const;
const EXT_IP = '203.0.113.1';

let api: TestApi;
let admin = '';
let owner = '';
let member = '';
const lab = new HostLab(prefix, { NETLEDGER_MAX_L3_AGENTS_PER_ROUTER: '2' });
const { exec, agents, configs, underlay: UNDERLAY } = lab;
const ids = { ext: '', net: '', subnet: '', router: '', vm: '', extHost: '' };
let vm: PluggedInstance;
let extNs = '';
let fipIp = '';
let fipId = '';

const startAgent = (host: (typeof HOSTS)[number]): Promise<DataplaneAgent> => lab.startAgent(host.name);

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

interface L3Agent {
  host: string;
  alive: boolean;
  haState: string;
}

let lastSplitBrain = false;

async function l3Agents(): Promise<L3Agent[]> {
  const r = await api.node(admin, 'Router', ids.router, 'l3Agents { host alive haState } haSplitBrain');
  lastSplitBrain = r.haSplitBrain;
  return r.l3Agents;
}

const activeHost = async (): Promise<string | undefined> => {
  const list = await l3Agents();
  const active = list.filter((a) => a.haState === 'active');
  return active.length === 1 ? active[0]!.host : undefined;
};
const stateOf = async (host: string): Promise<string | undefined> => (await l3Agents()).find((a) => a.host === host)?.haState;

/** `ping -i 0.1` in the background; the icmp_seq numbers that came back tell the outage. */
class Pinger {
  private readonly proc: ChildProcess;
  private out = '';
  constructor(ns: string, target: string) {
    this.proc = spawn('ip', ['netns', 'exec', ns, 'ping', '-n', '-i', '0.1', '-W', '1', target], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.proc.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
  }
  received(): number[] {
    return [...this.out.matchAll(/icmp_seq=(\d+)/g)].map((x) => Number(x[1]));
  }
  /** The longest run of lost replies (at 100 ms each). */
  longestGap(): number {
    const seqs = [...new Set(this.received())].sort((a, b) => a - b);
    let gap = 0;
    for (let i = 1; i < seqs.length; i++) gap = Math.max(gap, seqs[i]! - seqs[i - 1]! - 1);
    return gap;
  }
  stop(): void {
    this.proc.kill('SIGINT');
  }
}

beforeAll(async () => {
  api = await lab.start(
    { NETLEDGER_AGENT_DOWN_SECONDS: String(AGENT_DOWN_MS / 1000) },
    HOSTS.map((h) => ({ name: h.name, key: h.letter, address: h.address })),
    {
      agentDownMs: AGENT_DOWN_MS,
      heartbeatIntervalMs: AGENT_DOWN_MS / 4,
      // One-second adverts: the standby declares the master dead after ~3 s (Neutron's default is 2 s).
      haVrrpAdvertInt: 1,
    },
  );
  admin = api.adminToken;
  owner = await api.token('ha-project', 'admin');
  member = await api.token('ha-project');
  for (const h of HOSTS) await startAgent(h);
}, 120_000);

afterAll(async () => {
  expect(await lab.close()).toEqual([]);
}, 60_000);

describe('an HA router on two hosts', () => {
  it('is scheduled on two hosts with HA ports on a hidden HA network, one active, and routes and NATs real packets', async () => {
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
    const net = await api.gql(owner, CREATE_NETWORK, { input: { name: 'private' } });
    ids.net = net.createNetwork.network.uuid;
    const subnet = await api.gql(owner, CREATE_SUBNET, { input: { networkId: ids.net, ipVersion: 4, cidr: '10.70.0.0/24' } });
    ids.subnet = subnet.createSubnet.subnet.uuid;

    const router = await m(owner, 'createRouter', { name: 'r-ha', ha: true }, 'router { uuid ha }');
    ids.router = router.router.uuid;
    expect(router.router.ha).toBe(true);
    await m(owner, 'setRouterGateway', { id: ids.router, networkId: ids.ext }, 'router { uuid }');
    await m(owner, 'addRouterInterface', { id: ids.router, subnetId: ids.subnet }, 'router { uuid }');

    const p = await api.gql(owner, CREATE_PORT, {
      input: {
        networkId: ids.net,
        name: 'vm',
        deviceOwner: 'compute:nova',
        deviceId: randomUUID(),
        bindingHost: HOSTS[2].name,
        portSecurityEnabled: false,
      },
    });
    expect(p.createPort.__typename).toBe('CreatePortSuccess');
    ids.vm = p.createPort.port.uuid;
    // The "internet" host: a port of the external network on host C, so the overlay knows where it is.
    const e = await api.gql(admin, CREATE_PORT, {
      input: {
        networkId: ids.ext,
        name: 'internet',
        deviceOwner: 'compute:nova',
        deviceId: randomUUID(),
        bindingHost: HOSTS[2].name,
        portSecurityEnabled: false,
        fixedIps: [{ ipAddress: EXT_IP }],
      },
    });
    expect(e.createPort.__typename, JSON.stringify(e.createPort)).toBe('CreatePortSuccess');
    ids.extHost = e.createPort.port.uuid;
    const fip = await m(owner, 'createFloatingIp', { floatingNetworkId: ids.ext, portId: ids.vm }, 'floatingIp { uuid floatingIpAddress }');
    fipIp = fip.floatingIp.floatingIpAddress;
    fipId = fip.floatingIp.uuid;
    await waitApplied(fip.cursor);

    // Scheduled on the two least loaded hosts; exactly one active once VRRP settles.
    await until(
      'two hosts, one active',
      async () => {
        const list = await l3Agents();
        return list.length === 2 && list.filter((a) => a.haState === 'active').length === 1 && list.some((a) => a.haState === 'standby');
      },
      60_000,
    );
    expect((await l3Agents()).map((a) => a.host)).toEqual([HOSTS[0].name, HOSTS[1].name]);
    expect(lastSplitBrain).toBe(false);

    // The HA network: 169.254.192.0/18, owned by no project, so the project's own lists do not show it.
    const nets = await api.gql(member, '{ networks { edges { node { uuid name } } } }');
    expect(nets.networks.edges.map((x: { node: { name: string } }) => x.node.name)).not.toContain(expect.stringMatching(/^HA network/));
    const [haNet] = await api.db.sql<{ project: string; cidr: string }[]>`
      select n.doc->>'project' as project, s.doc->>'cidr' as cidr from rm_resources n join rm_resources s on s.kind = 'subnet' and s.doc->>'networkId' = n.id::text
       where n.kind = 'network' and n.doc->>'name' = ${'HA network tenant ' + (await projectOf(ids.router))}`;
    expect(haNet).toEqual({ project: '', cidr: HA_CIDR });
    const haPorts = await api.db.sql<{ host: string }[]>`
      select doc->>'bindingHost' as host from rm_resources where kind = 'port' and doc->>'deviceOwner' = 'network:router_ha_interface' and doc->>'deviceId' = ${ids.router} order by 1`;
    expect(haPorts.map((x) => x.host)).toEqual([HOSTS[0].name, HOSTS[1].name]);

    const c = configs.get(HOSTS[2].name)!;
    vm = await plugPort(api.services.sql, exec, c, ids.vm, { timeoutMs: 30_000 });
    extNs = await plugInstanceLink(exec, c, { portId: ids.extHost, networkId: ids.ext, mac: e.createPort.port.macAddress, mtu: 1450 });
    await inNs(extNs, ['ip', 'addr', 'add', `${EXT_IP}/24`, 'dev', 'eth0']);
    const okOut = await ping(vm.namespace, EXT_IP, 10);
    if (!okOut) await dump();
    expect(okOut).toBe(true);
    expect(await ping(extNs, fipIp, 10)).toBe(true);
    // Reported by the active host, the one holding the address.
    const status = async () => (await api.node(owner, 'FloatingIp', fipId, 'status')).status;
    await until('the floating IP to be ACTIVE', async () => (await status()) === 'ACTIVE', 30_000);
  }, 180_000);

  it('changes nothing on any host once converged (keepalived is not rewritten or reloaded)', async () => {
    for (const agent of agents.values()) {
      await agent.reconciler.resync();
      const pass = await agent.reconciler.runPass();
      expect(pass.keys.filter((k) => k.status !== 'converged')).toEqual([]);
      expect(pass.mutations).toBe(0);
    }
  });

  it('when the active host dies, the standby takes over: pings resume, the FIP answers, the API shows the new active', async () => {
    const dead = (await activeHost())!;
    const survivor = dead === HOSTS[0].name ? HOSTS[1].name : HOSTS[0].name;
    const out = new Pinger(vm.namespace, EXT_IP);
    const inbound = new Pinger(extNs, fipIp);
    let sampler: NodeJS.Timeout | undefined;
    try {
      await until('pings flowing', () => out.received().length > 5 && inbound.received().length > 5, 30_000);
      const killedAt = Date.now();
      await agents.get(dead)!.crash();
      agents.delete(dead);
      await wipeHost(exec, configs.get(dead)!);
      // When each step of the takeover happened, for the log.
      const steps: Record<string, number> = {};
      const survivorState = `${configs.get(survivor)!.stateDir}/ha_confs/${ids.router}/state`;
      sampler = setInterval(() => {
        void readFile(survivorState, 'utf8')
          .then((st) => {
            if (st.trim() === 'MASTER') steps.master ??= Date.now() - killedAt;
          })
          .catch(() => undefined);
        void api.db.sql<
          { host: string }[]
        >`select doc->>'bindingHost' as host from rm_resources where kind = 'port' and doc->>'deviceOwner' = 'network:router_interface' and doc->>'deviceId' = ${ids.router}`.then(
          (rows) => {
            if (rows[0]?.host === survivor) steps.rebound ??= Date.now() - killedAt;
          },
          // A sample still in flight when the test ends (or fails) meets a closed pool.
          () => undefined,
        );
      }, 50);
      const before = out.received().length;
      const beforeIn = inbound.received().length;
      await until('outbound pings to resume', () => out.received().length > before + 10, 150_000);
      await until('the floating IP to answer again', () => inbound.received().length > beforeIn + 10, 150_000);
      steps.resumed = Date.now() - killedAt;
      clearInterval(sampler);
      console.log(`HA failover steps (ms after the kill): ${JSON.stringify(steps)}`);
      await until('the API to show the survivor active', async () => (await stateOf(survivor)) === 'active', 30_000);
      const apiMs = Date.now() - killedAt;
      // Until the dead agent is declared dead (agent_down_time), its last word (active) stands
      // next to the survivor's: the API shows two active, as split brain.
      await until('the dead host to show as unknown', async () => (await stateOf(dead)) === 'unknown', AGENT_DOWN_MS + 30_000);
      expect(lastSplitBrain).toBe(false);
      expect(await activeHost()).toBe(survivor);
      steps.api = apiMs;
      console.log(
        `HA failover: ${out.longestGap()} pings lost at 100 ms intervals outbound (~${out.longestGap() * 100} ms), ` +
          `${inbound.longestGap()} inbound to the floating IP (~${inbound.longestGap() * 100} ms); survivor active in the API ${steps.api} ms after the kill`,
      );
    } finally {
      clearInterval(sampler);
      out.stop();
      inbound.stop();
    }
  }, 480_000);

  it('a returning host joins as standby (nopreempt) and traffic keeps flowing through the survivor', async () => {
    const active = (await activeHost())!;
    const back = HOSTS.find((h) => h.name !== active && h.name !== HOSTS[2].name)!;
    const i = HOSTS.indexOf(back);
    // The host comes back with an empty host namespace, plugged into the underlay again.
    if (!(await namespacesWithPrefix(configs.get(back.name)!.hostNamespace)).length) {
      await addSimulatedHost(exec, UNDERLAY, { namespace: configs.get(back.name)!.hostNamespace, index: i, address: `${back.address}/24` });
    }
    await startAgent(back);
    await until(
      'the returning host to report standby',
      async () => {
        const list = await l3Agents();
        return list.find((a) => a.host === back.name)?.haState === 'standby' && list.find((a) => a.host === active)?.haState === 'active';
      },
      60_000,
    );
    expect(await ping(vm.namespace, EXT_IP, 10)).toBe(true);
    expect(await activeHost()).toBe(active);
    expect(lastSplitBrain).toBe(false);
  }, 120_000);
});

async function projectOf(routerId: string): Promise<string> {
  const [r] = await api.db.sql<
    { project: string }[]
  >`select doc->>'project' as project from rm_resources where kind = 'router' and id = ${routerId}`;
  return r!.project;
}

/** What each host holds, printed when packets do not flow. */
async function dump(): Promise<void> {
  const lines: string[] = [];
  for (const h of HOSTS) {
    const c = configs.get(h.name)!;
    const ns = `${c.namespacePrefix}qrouter-${ids.router}`;
    for (const argv of [
      ['ip', '-br', 'addr'],
      ['ping', '-c1', '-W1', EXT_IP],
      ['ip', 'neigh'],
      ['nft', 'list', 'ruleset'],
    ]) {
      const r = await inNs(ns, argv);
      lines.push(`${h.name} ${argv.join(' ')}: ${r.stdout} ${r.stderr}`);
    }
    const f = await inNs(c.hostNamespace, ['bridge', 'fdb', 'show']);
    lines.push(
      `${h.name} fdb: ${f.stdout
        .split('\n')
        .filter((l) => l.includes('vxlan'))
        .join('\n')}`,
    );
  }
  lines.push(
    `ext: ${(await inNs(extNs, ['ip', '-br', 'addr'])).stdout} ${(await inNs(extNs, ['ip', 'neigh'])).stdout} ${(await inNs(extNs, ['ping', '-c1', '-W1', '203.0.113.42'])).stdout}`,
  );
  lines.push(
    `vm: ${(await inNs(vm.namespace, ['ip', '-br', 'addr'])).stdout} ${(await inNs(vm.namespace, ['ip', 'route'])).stdout} ${(await inNs(vm.namespace, ['ip', 'neigh'])).stdout}`,
  );
  console.log(lines.join('\n'));
}
