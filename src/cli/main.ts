import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { registerCommands } from './commands/index.js';
import { resourceCommands } from './resources/commands.js';

// Everything past commander is imported by the command that needs it (the command groups of
// commands/index.ts too): the resource commands and --help answer without loading the server, the
// database layer or the agent.
const { version } = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const program = new Command('netledger').description('Event-sourced networking control plane').version(version).showHelpAfterError();

program
  .command('serve')
  .description('start the API (and the embedded PostgreSQL when DATABASE_URL is unset)')
  .action(async () => {
    const { setup } = await import('./context.js');
    const { config, log } = setup();
    const { startServices } = await import('../app/bootstrap.js');
    const { bootstrapAdmin } = await import('../app/tenancy.js');
    const { keepRunningOnBugs, listenOrExplain, SIGNAL_EXIT } = await import('./serve.js');
    keepRunningOnBugs(log);
    const s = await startServices(config, log, { signCheckpoints: true });
    const secret = await bootstrapAdmin(s);
    if (secret) {
      process.stdout.write(`\nFirst start: an admin token was created. It is shown only this once:\n\n  ${secret}\n\n`);
    }
    const { createApiServer } = await import('../api/server.js');
    const server = createApiServer(s);
    const problem = await listenOrExplain(server, config);
    if (problem) {
      console.error(problem);
      await s.stop();
      process.exit(2);
    }
    const { port } = server.address() as import('node:net').AddressInfo;
    log.info({ url: `http://${config.HOST}:${port}/graphql` }, 'netledger API listening');
    // The signals are ours from the moment the server listens: a SIGTERM while the local agent is
    // still loading must drain like any other, not kill the process mid-request.
    let agent: Awaited<ReturnType<typeof import('../agent/index.js').startLocalAgent>> | undefined = undefined;
    let stopping = false;
    const stop = async (signal: NodeJS.Signals) => {
      // A second signal: the operator does not want to wait for the drain.
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting at once');
        process.exit(SIGNAL_EXIT[signal] ?? 1);
      }
      stopping = true;
      log.info({ signal, drainMs: config.NETLEDGER_SHUTDOWN_DRAIN_MS }, 'stopping: draining in-flight requests and subscriptions');
      try {
        const clean = await server.drain(config.NETLEDGER_SHUTDOWN_DRAIN_MS);
        if (!clean) log.warn('the drain deadline passed; the connections still open were closed');
        await agent?.stop();
        await s.stop();
      } catch (err) {
        log.error({ err }, 'stopping failed');
        process.exit(1);
      }
      log.info('stopped');
      process.exit(0);
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
    const { startLocalAgent } = await import('../agent/index.js');
    if (stopping) return;
    agent = await startLocalAgent(s, (a) => server.metrics?.observeAgent(a));
  });

program
  .command('migrate')
  .description('apply database migrations and exit')
  .action(async () =>
    (await import('./context.js')).withServices(async () => console.log('database is up to date'), { createDatabase: true }),
  );

const token = program.command('token').description('API tokens');
token
  .command('create')
  .description('issue a token (the project is created on first use) and print it')
  .requiredOption('--project <name>', 'project name')
  .addOption(new Option('--role <role>', 'role').choices(['admin', 'member']).default('member'))
  .option('--name <name>', 'a name to recognise the token by')
  .action(async (o: { project: string; role: 'admin' | 'member'; name?: string }) =>
    (await import('./context.js')).withServices(
      async (s) => {
        const { issueToken } = await import('../app/tenancy.js');
        const r = await issueToken(s, { project: o.project, role: o.role, ...(o.name ? { name: o.name } : {}) });
        if (!r.ok) {
          console.error(`${r.error.code}: ${r.error.message}`);
          process.exitCode = 1;
          return;
        }
        console.log(r.secret);
      },
      { quietLog: true },
    ),
  );

program
  .command('schema')
  .description('print the GraphQL SDL')
  .option('--out <file>', 'write to a file instead of stdout')
  .action(async (o: { out?: string }) => {
    const { printedSchema } = await import('../api/schema/index.js');
    const sdl = printedSchema() + '\n';
    if (o.out) {
      fs.mkdirSync(path.dirname(o.out), { recursive: true });
      fs.writeFileSync(o.out, sdl);
    } else process.stdout.write(sdl);
  });

resourceCommands(program);
await registerCommands(program, process.argv.slice(2));

program.parseAsync().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
