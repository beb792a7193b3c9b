import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandRunner } from '../../src/agent/exec.js';
import { plugInstance, type PluggedInstance } from '../../src/agent/lab.js';
import { Reconciler } from '../../src/agent/reconciler.js';
import { wipeHost } from '../../src/agent/wipe.js';
import {
  compileHostState,
  type Topology,
  type TopologyPort,
  type TopologySecurityGroup,
  type TopologySecurityGroupRule,
} from '../../src/projections/desired-state/index.js';
import { HOST, port, rule, runPrefix, scenario } from './fixtures.js';
import { inNs, namespacesWithPrefix, ping, pingOnce, requireHostTools } from './netns-tools.js';

// Real kernel, real packets. One tenant network, three instances: vm1 in the stateless group S,
// vm3 in the stateful group T with the same rules (ingress ICMP echo-request from vm2, egress
// anything), vm2 without port security as the peer both talk to.
const prefix = runPrefix();
let stateDir = '';
const s = scenario(31);
const NET = '10.31.1';
const VM1 = `${NET}.11`;
const VM2 = `${NET}.12`;
const VM3 = `${NET}.13`;
const vm3Port = port(s.net, VM3, 'compute:nova');
const S = 'e0000000-0000-4000-8000-000000000001';
const T = 'e0000000-0000-4000-8000-000000000002';
const echoRequestFromVm2 = rule({ direction: 'ingress', protocol: 'icmp', portRangeMin: 8, remoteIpPrefix: `${VM2}/32` });
const echoReplyFromVm2 = rule({ direction: 'ingress', protocol: 'icmp', portRangeMin: 0, remoteIpPrefix: `${VM2}/32` });
const egressAll = rule({ direction: 'egress' });
const group = (id: string, stateful: boolean, extra: TopologySecurityGroupRule[] = []): TopologySecurityGroup => ({
  id,
  stateful,
  rules: [echoRequestFromVm2, egressAll, ...extra],
});

function topology(groups: TopologySecurityGroup[]): Topology {
  const filtered = (p: TopologyPort, g: string): TopologyPort => ({ ...p, portSecurityEnabled: true, securityGroups: [g] });
  const ports = s.topology.ports.map((p) =>
    p.id === s.vm1.id ? filtered(p, S) : p.id === s.vm2.id ? { ...p, portSecurityEnabled: false } : p,
  );
  ports.push(filtered(vm3Port, T));
  return { ...s.topology, ports, securityGroups: groups };
}

let config: { namespacePrefix: string; hostNamespace: string; stateDir: string };
let agent: Reconciler;
let vm1: PluggedInstance;
let vm2: PluggedInstance;
let vm3: PluggedInstance;

async function apply(groups: TopologySecurityGroup[]): Promise<void> {
  agent.setDesired(compileHostState(topology(groups), HOST, config));
  const report = await agent.runPass();
  expect(report.keys.filter((k) => k.status === 'failed')).toEqual([]);
  expect(agent.pendingKeys).toEqual([]);
}

/** The host namespace's conntrack table (where the security groups track), one entry a line. */
async function conntrackEntries(): Promise<string[]> {
  const r = await inNs(config.hostNamespace, ['conntrack', '-L', '-f', 'ipv4']);
  return r.stdout.split('\n').filter((l) => l.trim() !== '');
}

const mentions = (entries: readonly string[], ip: string): string[] =>
  entries.filter((l) => new RegExp(`=${ip.replace(/\./g, '\\.')}\\s`).test(l));

beforeAll(async () => {
  await requireHostTools();
  stateDir = await mkdtemp(join(tmpdir(), prefix));
  config = { namespacePrefix: prefix, hostNamespace: `${prefix}host`, stateDir };
  agent = new Reconciler({ config });
  agent.setDesired(compileHostState(topology([group(S, false), group(T, true)]), HOST, config));
  await agent.converge();
  expect(agent.pendingKeys).toEqual([]);
  // DHCP works through a stateless filter too: its implicit rules need no conntrack.
  vm1 = await plugInstance(agent.exec, agent.config, { portId: s.vm1.id, networkId: s.net.id, mac: s.vm1.macAddress });
  vm2 = await plugInstance(agent.exec, agent.config, { portId: s.vm2.id, networkId: s.net.id, mac: s.vm2.macAddress });
  vm3 = await plugInstance(agent.exec, agent.config, { portId: vm3Port.id, networkId: s.net.id, mac: vm3Port.macAddress });
}, 180_000);

afterAll(async () => {
  if (config) await wipeHost(new CommandRunner(), agent.config);
  const left = await namespacesWithPrefix(prefix);
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
  expect(left).toEqual([]);
});

describe('stateless security groups on a real kernel', () => {
  it('a stateless port can be pinged but gets no replies to its own pings; a stateful one gets them', async () => {
    expect(vm1.lease.ip).toBe(VM1);
    expect(vm2.lease.ip).toBe(VM2);
    expect(vm3.lease.ip).toBe(VM3);
    // Both answer vm2: the request is allowed in, the reply goes out under "egress anything".
    expect(await ping(vm2.namespace, VM1)).toBe(true);
    expect(await ping(vm2.namespace, VM3)).toBe(true);
    // vm3 is stateful: the echo-reply belongs to the flow it started.
    expect(await ping(vm3.namespace, VM2)).toBe(true);
    // vm1 is stateless: no rule lets an echo-reply in, and nothing remembers the request.
    expect(await pingOnce(vm1.namespace, VM2)).toBe(false);
    expect(await pingOnce(vm1.namespace, VM2)).toBe(false);
  });

  it("conntrack holds the stateful port's flows and none of the stateless port's", async () => {
    expect(await ping(vm2.namespace, VM1)).toBe(true);
    expect(await ping(vm2.namespace, VM3)).toBe(true);
    await pingOnce(vm1.namespace, VM2);
    const entries = await conntrackEntries();
    expect(mentions(entries, VM3).length).toBeGreaterThan(0);
    expect(mentions(entries, VM1)).toEqual([]);
  });

  it('an explicit ingress rule for the replies lets the stateless port ping out; a converged host changes nothing', async () => {
    await apply([group(S, false, [echoReplyFromVm2]), group(T, true)]);
    expect(await ping(vm1.namespace, VM2)).toBe(true);
    expect(await ping(vm2.namespace, VM1)).toBe(true);
    expect(mentions(await conntrackEntries(), VM1)).toEqual([]);
    await agent.resync();
    const again = await agent.runPass();
    expect(again.mutations).toBe(0);
  });

  it('the same rules in a stateful group: replies are tracked again', async () => {
    await apply([group(S, true), group(T, true)]);
    expect(await ping(vm1.namespace, VM2)).toBe(true);
    expect(mentions(await conntrackEntries(), VM1).length).toBeGreaterThan(0);
  });
});
