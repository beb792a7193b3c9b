import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { compileHostState, type Topology } from '../projections/desired-state/index.js';
import { agentConfig, type AgentConfig } from './config.js';
import { CommandRunner } from './exec.js';
import { plugInstance, unplugInstance } from './lab.js';
import { Reconciler } from './reconciler.js';
import { wipeHost } from './wipe.js';

/**
 * netledger-agent: `reconcile` (once or --watch), `wipe`, `plug`, `unplug`.
 *   tsx src/agent/cli.ts reconcile --topology topo.json --host compute-1 [--prefix nl-]
 *       [--host-namespace nl-host] [--state-dir /var/lib/netledger] [--watch]
 * Logs are JSON lines (pino) on stderr.
 */
const USAGE = 'usage: cli.ts reconcile|wipe|plug|unplug [--topology F] [--host H] [--prefix P] [--host-namespace N] [--state-dir D] [--watch] [--port ID --network ID --mac MAC]';

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      topology: { type: 'string' },
      host: { type: 'string' },
      prefix: { type: 'string' },
      'host-namespace': { type: 'string' },
      'state-dir': { type: 'string' },
      watch: { type: 'boolean', default: false },
      port: { type: 'string' },
      network: { type: 'string' },
      mac: { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
    },
  });
  const logger = pino({ level: values['log-level'] ?? 'info' }, pino.destination(2));
  const overrides: Partial<AgentConfig> = {
    ...(values.prefix !== undefined ? { namespacePrefix: values.prefix } : {}),
    ...(values['host-namespace'] !== undefined ? { hostNamespace: values['host-namespace'] } : {}),
    ...(values['state-dir'] !== undefined ? { stateDir: values['state-dir'] } : {}),
  };
  const config = agentConfig(overrides);
  const exec = new CommandRunner(logger);

  switch (positionals[0]) {
    case 'reconcile': {
      if (!values.topology || !values.host) throw new Error(USAGE);
      const topology = JSON.parse(await readFile(values.topology, 'utf8')) as Topology;
      const reconciler = new Reconciler({ config, logger, exec });
      reconciler.setDesired(compileHostState(topology, values.host, config));
      if (values.watch) {
        reconciler.start();
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await reconciler.stop();
        return 0;
      }
      const reports = await reconciler.converge();
      const failed = reports.at(-1)?.keys.filter((k) => k.status === 'failed') ?? [];
      logger.info({ passes: reports.length, counts: exec.counts, failed: failed.map((f) => f.key) }, 'done');
      return reconciler.pendingKeys.length === 0 ? 0 : 1;
    }
    case 'wipe':
      logger.info({ removed: await wipeHost(exec, config) }, 'wiped');
      return 0;
    case 'plug': {
      if (!values.port || !values.network || !values.mac) throw new Error(USAGE);
      const plugged = await plugInstance(exec, config, { portId: values.port, networkId: values.network, mac: values.mac });
      process.stdout.write(`${JSON.stringify(plugged)}\n`);
      return 0;
    }
    case 'unplug':
      if (!values.port) throw new Error(USAGE);
      await unplugInstance(exec, config, values.port);
      return 0;
    default:
      process.stderr.write(`${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
