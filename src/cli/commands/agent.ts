import type { Command } from 'commander';
import { startServices } from '../../app/bootstrap.js';
import { DataplaneAgent, agentConfigFrom } from '../../agent/index.js';
import { setup } from '../context.js';

/** `netledger agent`: the dataplane agent of this host, until SIGINT/SIGTERM. */
export function agentCommands(program: Command): void {
  program
    .command('agent')
    .description('run the dataplane agent for NETLEDGER_HOST_NAME (root: it builds network namespaces named NETLEDGER_NS_PREFIX…)')
    .action(async () => {
      const { config, log } = setup();
      if (process.getuid?.() !== 0) {
        console.error('the dataplane agent needs root: it creates network namespaces, bridges and veths');
        process.exitCode = 2;
        return;
      }
      const s = await startServices(config, log, { poolSize: 5 });
      const agent = new DataplaneAgent(s, { host: config.NETLEDGER_HOST_NAME, config: agentConfigFrom(config) });
      try {
        await agent.start();
      } catch (e) {
        await s.stop();
        throw e;
      }
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      log.info('stopping the dataplane agent (the dataplane keeps running)');
      await agent.stop();
      await s.stop();
    });
}
