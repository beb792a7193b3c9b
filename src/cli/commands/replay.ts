import type { Command } from 'commander';
import { agentConfigFrom } from '../../agent/config.js';
import { parseAsOf } from '../../audit/history.js';
import { replayPlan } from '../../audit/replay.js';
import { setup, withServices } from '../context.js';

export function replayCommands(program: Command): void {
  program
    .command('replay')
    .description('the desired host state as of a point of the log, and what the agent would run to build it on an empty host')
    .requiredOption('--until <cursor|time>', 'a log cursor (after that event) or an ISO time')
    .option('--plan', 'print the plan without running anything (the only mode)', true)
    .option('--host <name>', 'the host to plan for (default NETLEDGER_HOST_NAME)')
    .option('--json', 'the desired host state and the plan as JSON')
    .action(async (o: { until: string; host?: string; json?: boolean }) => {
      const until = parseAsOf(o.until);
      if (!until) {
        console.error('--until must be a log cursor (nl1.…) or an ISO-8601 time');
        process.exitCode = 2;
        return;
      }
      const { config } = setup();
      await withServices(
        async (s) => {
          const plan = await replayPlan(s, until, o.host ?? config.NETLEDGER_HOST_NAME, agentConfigFrom(config));
          if (o.json) return console.log(JSON.stringify(plan, null, 2));
          console.log(`# host ${plan.host} as of ${o.until}: ${plan.events} events folded (last ${plan.cursor ?? 'none'})`);
          console.log(
            `# ${plan.hostState.networks.length} networks, ${plan.hostState.routers.length} routers on this host; nothing below is run`,
          );
          for (const step of plan.steps) {
            console.log(`\n[${step.key}] ${step.driver}`);
            for (const a of step.actions) console.log(`  ${a}`);
          }
          if (plan.skippedDrivers.length > 0) console.log(`\n# not planned (no empty-host model): ${plan.skippedDrivers.join(', ')}`);
        },
        { quietLog: true },
      );
    });
}
