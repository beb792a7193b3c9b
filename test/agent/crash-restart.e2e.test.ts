import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CommandRunner } from '../../src/agent/exec.js';
import { createExternalHost, plugInstance } from '../../src/agent/lab.js';
import { Reconciler } from '../../src/agent/reconciler.js';
import { wipeHost } from '../../src/agent/wipe.js';
import { compileHostState } from '../../src/projections/desired-state/index.js';
import { dhcpNamespace } from '../../src/projections/desired-state/names.js';
import { HOST, largeTopology, runPrefix } from './fixtures.js';
import { dnsmasqPids, namespacesWithPrefix, ping, requireHostTools } from './netns-tools.js';

// (7) The agent is SIGKILLed (its whole process group, in-flight `ip`/`nft` included) in the
// middle of building a large host; a fresh agent must converge from whatever was left.
const prefix = runPrefix();
const COUNT = 32;
const big = largeTopology(COUNT);
let stateDir = '';
let config: { namespacePrefix: string; hostNamespace: string; stateDir: string };

beforeAll(async () => {
  await requireHostTools();
  stateDir = await mkdtemp(join(tmpdir(), prefix));
  config = { namespacePrefix: prefix, hostNamespace: `${prefix}host`, stateDir };
});

afterAll(async () => {
  if (config) await wipeHost(new CommandRunner(), { ...new Reconciler({ config }).config });
  const left = await namespacesWithPrefix(prefix);
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
  expect(left).toEqual([]);
});

it('(7) a restarted agent converges after the agent was SIGKILLed mid-apply', async () => {
  const topologyFile = join(stateDir, 'topology.json');
  await writeFile(topologyFile, JSON.stringify(big.topology));
  const child = spawn(
    join(process.cwd(), 'node_modules/.bin/tsx'),
    [
      'src/cli/main.ts',
      'agent',
      'reconcile',
      '--topology',
      topologyFile,
      '--host',
      HOST,
      '--prefix',
      prefix,
      '--host-namespace',
      config.hostNamespace,
      '--state-dir',
      stateDir,
    ],
    { detached: true, stdio: 'ignore', env: { ...process.env, LOG_LEVEL: 'warn' } },
  );
  const pgid = child.pid;
  if (pgid === undefined) throw new Error('agent did not start');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const total = 1 + 2 * COUNT;
  let seen = 0;
  // The CLI starts through tsx (seconds on a busy machine): wait for the build, not a count of polls.
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline && seen < total / 2) {
    seen = (await namespacesWithPrefix(prefix)).length;
    if (seen < total / 2) await new Promise((r) => setTimeout(r, 10));
  }
  process.kill(-pgid, 'SIGKILL');
  await exited;
  expect(seen).toBeGreaterThanOrEqual(total / 2);
  expect((await namespacesWithPrefix(prefix)).length).toBeLessThan(total);

  const agent = new Reconciler({ config });
  agent.setDesired(compileHostState(big.topology, HOST, config));
  const started = Date.now();
  const reports = await agent.converge();
  const convergeMs = Date.now() - started;
  console.log(
    `killed with ${seen}/${total} namespaces; restart converged in ${convergeMs} ms over ${reports.length} pass(es):`,
    reports.map((r) => ({
      mutations: r.mutations,
      commands: r.commands,
      ms: r.ms,
      failed: r.keys.filter((k) => k.status === 'failed').map((k) => k.error),
    })),
  );
  expect(agent.pendingKeys).toEqual([]);
  expect(await namespacesWithPrefix(prefix)).toHaveLength(total);
  // Exactly one dnsmasq per network: none duplicated by the crash, none missing.
  const dhcpNamespaces = big.nets.map((n) => dhcpNamespace(config, n.id));
  expect(await dnsmasqPids(dhcpNamespaces)).toHaveLength(COUNT);

  await agent.resync();
  const second = await agent.runPass();
  expect(second.mutations).toBe(0);
  expect(second.commands).toBe(1);
  expect(second.keys).toHaveLength(1 + (1 + COUNT) + COUNT);

  // And the rebuilt dataplane works: DHCP on the last network, out through its router.
  const ext = await createExternalHost(agent.exec, agent.config, { name: 'inet', networkId: big.ext.id, address: '203.0.113.1/24' });
  const last = COUNT - 1;
  const vm = big.vms[last];
  const net = big.nets[last];
  if (!vm || !net) throw new Error('fixture');
  const plugged = await plugInstance(agent.exec, agent.config, { portId: vm.id, networkId: net.id, mac: vm.macAddress });
  expect(plugged.lease.ip).toBe(`10.${20 + last}.1.11`);
  expect(await ping(plugged.namespace, '203.0.113.1')).toBe(true);
  expect(await ping(ext, `203.0.113.${100 + last}`)).toBe(true);
}, 300_000);
