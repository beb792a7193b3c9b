import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandRunner } from '../../src/agent/exec.js';
import { createExternalHost, plugInstance, unplugInstance, type PluggedInstance } from '../../src/agent/lab.js';
import { readPidFile } from '../../src/agent/procs.js';
import { ReconcileLoop } from '../../src/agent/loop.js';
import { silentLogger } from '../../src/agent/logger.js';
import { Reconciler, type PassReport } from '../../src/agent/reconciler.js';
import { wipeHost } from '../../src/agent/wipe.js';
import { compileHostState, type Topology } from '../../src/projections/desired-state/index.js';
import { dhcpNamespace, gatewayPortName, routerNamespace, routerPortName } from '../../src/projections/desired-state/names.js';
import { HOST, runPrefix, scenario, withFip } from './fixtures.js';
import {
  dnsmasqPids,
  hasTool,
  inNs,
  namespacesWithPrefix,
  ping,
  pingOnce,
  requireHostTools,
  startWhoami,
  whoami,
  type Listener,
} from './netns-tools.js';

// Real kernel, real packets: namespaces, bridges, veths, nftables, dnsmasq and a DHCP client.
// Everything carries this run's prefix and lives in its own host namespace; afterAll removes it.
const prefix = runPrefix();
let stateDir = '';
const s = scenario(10);
const EXT_IP = '203.0.113.1';
const GW_IP = '203.0.113.10';
const FIP = '203.0.113.20';
const PORT = 8080;

let config: { namespacePrefix: string; hostNamespace: string; stateDir: string };
let agent: Reconciler;
let vm1: PluggedInstance;
let vm2: PluggedInstance;
const listeners: Listener[] = [];
let extNs = '';

function desire(topology: Topology, reconciler = agent): void {
  reconciler.setDesired(compileHostState(topology, HOST, config));
}

function expectClean(report: PassReport): void {
  expect(report.keys.filter((k) => k.status === 'failed')).toEqual([]);
}

async function fullPass(reconciler = agent): Promise<PassReport> {
  await reconciler.resync();
  return reconciler.runPass();
}

beforeAll(async () => {
  await requireHostTools();
  stateDir = await mkdtemp(join(tmpdir(), prefix));
  config = { namespacePrefix: prefix, hostNamespace: `${prefix}host`, stateDir };
  agent = new Reconciler({ config });
  desire(s.topology);
  const reports = await agent.converge();
  expect(agent.pendingKeys).toEqual([]);
  expect(reports.length).toBeGreaterThan(0);
  extNs = await createExternalHost(agent.exec, agent.config, { name: 'inet', networkId: s.ext.id, address: `${EXT_IP}/24` });
  listeners.push(await startWhoami(extNs, PORT));
});

afterAll(async () => {
  for (const l of listeners) await l.stop().catch(() => undefined);
  if (config) await wipeHost(new CommandRunner(), { ...agent.config });
  const left = await namespacesWithPrefix(prefix);
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
  expect(left).toEqual([]);
});

describe('dataplane on a real kernel', () => {
  it('(1) two instances get their port addresses by DHCP and ping each other', async () => {
    vm1 = await plugInstance(agent.exec, agent.config, { portId: s.vm1.id, networkId: s.net.id, mac: s.vm1.macAddress });
    // Exercise both supported DHCP clients where both are installed.
    const client = (await hasTool('udhcpc')) && (await hasTool('dhclient')) ? 'dhclient' : undefined;
    vm2 = await plugInstance(agent.exec, agent.config, { portId: s.vm2.id, networkId: s.net.id, mac: s.vm2.macAddress, client });
    expect(vm1.lease.ip).toBe('10.10.1.11');
    expect(vm2.lease.ip).toBe('10.10.1.12');
    expect(vm1.lease.router).toBe('10.10.1.1');
    expect(vm2.lease.router).toBe('10.10.1.1');
    expect(vm2.lease.prefixLength).toBe(24);
    // Both clients name the server that answered (the DHCP port's address).
    expect([vm1.lease.server, vm2.lease.server]).toEqual(['10.10.1.2', '10.10.1.2']);
    expect(await ping(vm1.namespace, '10.10.1.12')).toBe(true);
    expect(await ping(vm2.namespace, '10.10.1.11')).toBe(true);
    // The router answers on the subnet gateway.
    expect(await ping(vm1.namespace, '10.10.1.1')).toBe(true);
  });

  it('(2) an instance reaches the external host, which sees the router gateway address (SNAT)', async () => {
    expect(await ping(vm1.namespace, EXT_IP)).toBe(true);
    expect(await whoami(vm1.namespace, EXT_IP, PORT)).toBe(GW_IP);
    expect(await whoami(vm2.namespace, EXT_IP, PORT)).toBe(GW_IP);
  });

  it('(3) floating IP: inbound DNAT, outbound leaves with the FIP, disassociation stops it', async () => {
    listeners.push(await startWhoami(vm1.namespace, PORT));
    expect(await pingOnce(extNs, FIP)).toBe(false);

    desire(withFip(s, true));
    expectClean(await agent.runPass());
    expect(await ping(extNs, FIP)).toBe(true);
    expect(await whoami(extNs, FIP, PORT)).toBe(EXT_IP); // DNAT keeps the client's address
    expect(await whoami(vm1.namespace, EXT_IP, PORT)).toBe(FIP); // float-snat before default SNAT
    expect(await whoami(vm2.namespace, EXT_IP, PORT)).toBe(GW_IP);
    // Hairpin: a neighbour reaching the FIP goes through the router and is SNATed to the gateway.
    expect(await whoami(vm2.namespace, FIP, PORT)).toBe(GW_IP);

    desire(withFip(s, false));
    const report = await agent.runPass();
    expectClean(report);
    expect(report.keys.find((k) => k.key.startsWith('router:'))?.actions.some((a) => a.includes('conntrack'))).toBe(true);
    expect(await pingOnce(extNs, FIP)).toBe(false);
    expect(await whoami(extNs, FIP, PORT, 1)).toBeNull();
    expect(await whoami(vm1.namespace, EXT_IP, PORT)).toBe(GW_IP);
  });

  it('(4) drift: a lost address, NAT rule and dnsmasq are repaired by one pass', async () => {
    desire(withFip(s, true));
    expectClean(await agent.runPass());
    const rns = routerNamespace(config, s.router.id);
    const qr = routerPortName(s.topology.routers[0]?.interfacePortIds[0] ?? '');
    await execa('ip', ['-n', rns, 'addr', 'del', '10.10.1.1/24', 'dev', qr]);
    const rules = await execa('ip', ['netns', 'exec', rns, 'nft', '-a', 'list', 'chain', 'ip', 'netledger-nat', 'fip_dnat']);
    const handle = /# handle (\d+)/.exec(
      String(rules.stdout)
        .split('\n')
        .find((l) => l.includes('dnat to')) ?? '',
    )?.[1];
    expect(handle).toBeDefined();
    await execa('ip', ['netns', 'exec', rns, 'nft', 'delete', 'rule', 'ip', 'netledger-nat', 'fip_dnat', 'handle', handle ?? '']);
    const dnsmasqPid = await readPidFile(`${stateDir}/dhcp/${s.net.id}/pid`);
    expect(dnsmasqPid).not.toBeNull();
    process.kill(dnsmasqPid ?? 0, 'SIGKILL');
    expect(await pingOnce(vm1.namespace, '10.10.1.1')).toBe(false);

    const report = await fullPass();
    expectClean(report);
    expect(
      report.keys
        .filter((k) => k.status === 'repaired')
        .map((k) => k.key)
        .sort(),
    ).toEqual([`network:${s.net.id}`, `router:${s.router.id}`].sort());
    expect(await ping(vm1.namespace, '10.10.1.1')).toBe(true);
    expect(await whoami(extNs, FIP, PORT)).toBe(EXT_IP);
    expect(await dnsmasqPids([dhcpNamespace(config, s.net.id)])).toHaveLength(1);
    expect((await fullPass()).mutations).toBe(0);
  });

  it('(4b) drift: deleted router and DHCP namespaces (dnsmasq still running in the orphan) are rebuilt by one pass', async () => {
    const rns = routerNamespace(config, s.router.id);
    const dns = dhcpNamespace(config, s.net.id);
    const oldDnsmasq = await readPidFile(`${stateDir}/dhcp/${s.net.id}/pid`);
    await execa('ip', ['netns', 'del', rns]);
    await execa('ip', ['netns', 'del', dns]);
    // The kernel tears a released namespace down asynchronously: wait (bounded) until it is gone.
    let cut = false;
    for (let i = 0; i < 20 && !cut; i++) {
      cut = !(await pingOnce(vm1.namespace, EXT_IP));
      if (!cut) await new Promise((r) => setTimeout(r, 100));
    }
    expect(cut).toBe(true);

    expectClean(await fullPass());
    const pids = await dnsmasqPids([dns]);
    expect(pids).toHaveLength(1);
    expect(pids[0]).not.toBe(oldDnsmasq);
    expect(await ping(vm1.namespace, EXT_IP)).toBe(true);
    expect(await whoami(vm1.namespace, EXT_IP, PORT)).toBe(FIP);
    // DHCP answers again from the rebuilt namespace.
    const vm2again = await plugInstance(agent.exec, agent.config, { portId: s.vm2.id, networkId: s.net.id, mac: s.vm2.macAddress });
    expect(vm2again.lease.ip).toBe('10.10.1.12');
    vm2 = vm2again;
    const qg = gatewayPortName(s.gwPort.id);
    const addrs = await inNs(rns, ['ip', '-br', 'addr', 'show', 'dev', qg]);
    expect(addrs.stdout).toContain(`${FIP}/32`);
  });

  it('(4c) a running agent repairs drift by itself on its periodic resync', async () => {
    const running = new Reconciler({ config: { ...config, resyncIntervalMs: 300 } });
    desire(withFip(s, true), running);
    const loop = new ReconcileLoop({ reconciler: running, logger: silentLogger });
    loop.start();
    try {
      const rns = routerNamespace(config, s.router.id);
      const qr = routerPortName(s.topology.routers[0]?.interfacePortIds[0] ?? '');
      await execa('ip', ['-n', rns, 'addr', 'del', '10.10.1.1/24', 'dev', qr]);
      let back = false;
      for (let i = 0; i < 40 && !back; i++) {
        back = (await inNs(rns, ['ip', '-br', 'addr', 'show', 'dev', qr])).stdout.includes('10.10.1.1/24');
        if (!back) await new Promise((r) => setTimeout(r, 100));
      }
      expect(back).toBe(true);
      expect(await ping(vm1.namespace, '10.10.1.1')).toBe(true);
    } finally {
      await loop.stop();
    }
  });

  it('(5) a second pass over a converged host runs zero mutating commands', async () => {
    await fullPass();
    const before = { ...agent.exec.counts };
    const report = await fullPass();
    expect(report.mutations).toBe(0);
    expect(agent.exec.counts.mutatingCommands).toBe(before.mutatingCommands);
    expect(agent.exec.counts.inProcessMutations).toBe(before.inProcessMutations);
    expect(report.keys.every((k) => k.status === 'converged')).toBe(true);
    // One batched read-only probe, whatever the number of objects.
    expect(report.commands).toBe(1);
  });

  it('(6) after a wipe, a fresh agent rebuilds everything', async () => {
    for (const l of listeners.splice(0)) await l.stop();
    await wipeHost(new CommandRunner(), agent.config);
    expect(await namespacesWithPrefix(prefix)).toEqual([]);

    agent = new Reconciler({ config });
    desire(withFip(s, true));
    await agent.converge();
    expect(agent.pendingKeys).toEqual([]);
    expect((await fullPass()).mutations).toBe(0);

    extNs = await createExternalHost(agent.exec, agent.config, { name: 'inet', networkId: s.ext.id, address: `${EXT_IP}/24` });
    listeners.push(await startWhoami(extNs, PORT));
    vm1 = await plugInstance(agent.exec, agent.config, { portId: s.vm1.id, networkId: s.net.id, mac: s.vm1.macAddress });
    expect(vm1.lease.ip).toBe('10.10.1.11');
    expect(await whoami(vm1.namespace, EXT_IP, PORT)).toBe(FIP);
    await unplugInstance(agent.exec, agent.config, s.vm1.id);
    expect(await namespacesWithPrefix(`${prefix}vm-`)).toEqual([]);
  });
});
