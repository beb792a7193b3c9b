import path from 'node:path';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { agentConfig, agentConfigFrom, type AgentConfig } from '../../agent/config.js';
import { CommandRunner } from '../../agent/exec.js';
import { ReconcileLoop } from '../../agent/loop.js';
import { DataplaneAgent } from '../../agent/agent.js';
import { Reconciler } from '../../agent/reconciler.js';
import { wipeHost } from '../../agent/wipe.js';
import { startServices } from '../../app/bootstrap.js';
import { compileHostState, type Topology } from '../../projections/desired-state/index.js';
import { setup } from '../context.js';

interface NamingFlags {
  prefix?: string;
  hostNamespace?: string;
  stateDir?: string;
}

/** The environment's naming (NETLEDGER_NS_PREFIX, NETLEDGER_HOST_NS, the data dir), flags first. */
function namingFrom(o: NamingFlags): { config: AgentConfig; log: ReturnType<typeof setup>['log'] } {
  const { config, log } = setup();
  return {
    log,
    config: agentConfig({
      ...agentConfigFrom(config),
      ...(o.prefix !== undefined ? { namespacePrefix: o.prefix } : {}),
      ...(o.hostNamespace !== undefined ? { hostNamespace: o.hostNamespace } : {}),
      ...(o.stateDir !== undefined ? { stateDir: o.stateDir } : {}),
    }),
  };
}

function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

function requireRoot(): boolean {
  if (process.getuid?.() === 0) return true;
  console.error('the dataplane agent needs root: it creates network namespaces, bridges and veths');
  process.exitCode = 2;
  return false;
}

/**
 * `netledger agent [run]`: the dataplane agent of this host, until SIGINT/SIGTERM.
 * `netledger agent reconcile --topology F --host H [--watch]`: build a host from a topology file,
 * without a database. `netledger agent wipe`: remove everything the agent built.
 */
export function agentCommands(program: Command): void {
  const agent = program
    .command('agent')
    .description('the dataplane agent of this host (root: it builds network namespaces named NETLEDGER_NS_PREFIX…)');
  const naming = (c: Command): Command =>
    c
      .option('--prefix <prefix>', 'namespace prefix (default NETLEDGER_NS_PREFIX)')
      .option('--host-namespace <name>', 'host namespace (default NETLEDGER_HOST_NS)')
      .option('--state-dir <dir>', 'state files (default $NETLEDGER_DATA_DIR/dataplane)');

  agent
    .command('run', { isDefault: true })
    .description('follow the log and build this host (NETLEDGER_HOST_NAME) until SIGINT/SIGTERM')
    // Several agents on one machine (the lab, scripts/lab.ts) each need their own state files.
    .option('--state-dir <dir>', 'state files (default $NETLEDGER_DATA_DIR/dataplane)')
    .action(async (o: { stateDir?: string }) => {
      const { config, log } = setup();
      if (!requireRoot()) return;
      const s = await startServices(config, log, { poolSize: 5 });
      const agentOptions = { ...agentConfigFrom(config), ...(o.stateDir !== undefined ? { stateDir: path.resolve(o.stateDir) } : {}) };
      const running = new DataplaneAgent(s, { host: config.NETLEDGER_HOST_NAME, config: agentOptions });
      try {
        await running.start();
      } catch (e) {
        await s.stop();
        throw e;
      }
      await untilSignal();
      log.info('stopping the dataplane agent (the dataplane keeps running)');
      await running.stop();
      await s.stop();
    });

  naming(agent.command('reconcile'))
    .description('build this host from a topology file (JSON) once, or keep it so with --watch; no database')
    .requiredOption('--topology <file>', 'the topology (JSON)')
    .requiredOption('--host <name>', 'the host to build')
    .option('--watch', 'keep reconciling (periodic resync) until SIGINT/SIGTERM')
    .action(async (o: NamingFlags & { topology: string; host: string; watch?: boolean }) => {
      const { config, log } = namingFrom(o);
      if (!requireRoot()) return;
      const topology = JSON.parse(await readFile(o.topology, 'utf8')) as Topology;
      const exec = new CommandRunner(log);
      const reconciler = new Reconciler({ config, logger: log, exec });
      reconciler.setDesired(compileHostState(topology, o.host, config));
      if (o.watch) {
        const loop = new ReconcileLoop({ reconciler, logger: log });
        loop.start();
        await untilSignal();
        await loop.stop();
        return;
      }
      const reports = await reconciler.converge();
      const failed = reports.at(-1)?.keys.filter((k) => k.status === 'failed') ?? [];
      log.info({ passes: reports.length, counts: exec.counts, failed: failed.map((f) => f.key) }, 'done');
      if (reconciler.pendingKeys.length > 0) process.exitCode = 1;
    });

  naming(agent.command('wipe'))
    .description('remove every namespace, process and state file of this naming (prefix, host namespace, state dir)')
    .action(async (o: NamingFlags) => {
      const { config, log } = namingFrom(o);
      if (!requireRoot()) return;
      log.info({ removed: await wipeHost(new CommandRunner(log), config) }, 'wiped');
    });
}
