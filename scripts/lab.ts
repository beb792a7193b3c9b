/**
 * Several hosts on one machine (root): `sudo npx tsx scripts/lab.ts [hosts]` (default 3) builds an
 * underlay namespace (a tunnel switch and an external switch), one host namespace per simulated
 * host plugged into both, an external machine (203.0.113.1/24 on the external switch, namespace
 * `nl-lab-inet`), and runs one `netledger agent` per host, each with its own host name
 * (`lab-<n>`), namespace prefix (`nl-lab<n>-`), underlay address (192.168.210.<n>) and state
 * directory, the flat physical network `extnet` mapped to its `ex0`. They share the database of
 * `npm start` (or DATABASE_URL, which must exist). Ctrl-C, or any agent exiting, stops the agents and
 * removes everything the lab built.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { agentConfig } from '../src/agent/config.js';
import { CommandRunner } from '../src/agent/exec.js';
import { removeNamespace } from '../src/agent/lab.js';
import { addExternalClient, addSimulatedHost, createUnderlay, EXTERNAL_DEVICE, removeUnderlay } from '../src/agent/underlay-lab.js';
import { wipeHost } from '../src/agent/wipe.js';
import { loadConfig } from '../src/config.js';

const count = Number(process.argv[2] ?? 3);
if (!Number.isInteger(count) || count < 1 || count > 200) throw new Error('usage: lab.ts [hosts, 1-200]');
if (process.getuid?.() !== 0) throw new Error('the lab creates network namespaces: run it as root');

const UNDERLAY = 'nl-lab-underlay';
const INET = 'nl-lab-inet';
const exec = new CommandRunner();
const dataDir = loadConfig(process.env).dataDir;
const hosts = Array.from({ length: count }, (_, i) => {
  const n = i + 1;
  const stateDir = path.join(dataDir, 'lab', String(n));
  return {
    n,
    name: `lab-${n}`,
    address: `192.168.210.${n}`,
    stateDir,
    config: agentConfig({ namespacePrefix: `nl-lab${n}-`, hostNamespace: `nl-lab${n}-host`, stateDir }),
  };
});
const children: ChildProcess[] = [];

async function teardown(): Promise<void> {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)));
  for (const h of hosts) await wipeHost(exec, h.config);
  await removeNamespace(exec, INET);
  await removeUnderlay(exec, UNDERLAY);
}

let stopping = false;
function stop(why: string, code: number): void {
  if (stopping) return;
  stopping = true;
  console.log(`\nlab: ${why}; stopping the agents and removing the lab`);
  void teardown().then(() => process.exit(code));
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stop('stopped', 0));

await teardown();
await createUnderlay(exec, UNDERLAY);
for (const h of hosts) {
  await addSimulatedHost(exec, UNDERLAY, { namespace: h.config.hostNamespace, index: h.n - 1, address: `${h.address}/24` });
}
await addExternalClient(exec, UNDERLAY, { namespace: INET, address: '203.0.113.1/24' });
for (const h of hosts) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'agent', 'run', '--state-dir', h.stateDir], {
    env: {
      ...process.env,
      NETLEDGER_AGENT: 'on',
      NETLEDGER_HOST_NAME: h.name,
      NETLEDGER_NS_PREFIX: h.config.namespacePrefix,
      NETLEDGER_HOST_NS: h.config.hostNamespace,
      NETLEDGER_UNDERLAY_IP: h.address,
      NETLEDGER_PHYSICAL_INTERFACE_MAPPINGS: `extnet:${EXTERNAL_DEVICE}`,
    },
    stdio: 'inherit',
  });
  // An agent that exits on its own (no database, a bad setting) takes the lab down with it: a lab
  // with a host missing, or namespaces left behind by a process that quietly ran out of work, is worse.
  child.once('exit', (code, signal) => stop(`the agent of ${h.name} exited (${signal ?? `status ${code}`})`, 1));
  children.push(child);
  console.log(`lab: host ${h.name} (underlay ${h.address}, host namespace ${h.config.hostNamespace}), agent pid ${child.pid}`);
}
console.log(`lab: ${count} hosts up; external machine: ip netns exec ${INET} ... (203.0.113.1); Ctrl-C to stop`);
