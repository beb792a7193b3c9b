import type { Command } from 'commander';
import { describeBroken, verifyChain } from '../../audit/chain.js';
import { withServices } from '../context.js';

export function auditCommands(program: Command): void {
  const audit = program.command('audit').description('tamper evidence of the event log');
  audit
    .command('verify')
    .description("recompute every event's hash chain; exit 1 naming the first broken link")
    .option('--json', 'as JSON')
    .action(async (o: { json?: boolean }) =>
      withServices(async (s) => {
        const started = performance.now();
        const r = await verifyChain(s.sql);
        const seconds = (performance.now() - started) / 1000;
        if (o.json) console.log(JSON.stringify({ ...r, seconds }, null, 2));
        else if (!r.firstBroken) console.log(`ok: ${r.events} events in ${r.streams} streams, every hash chain holds (${seconds.toFixed(1)} s)`);
        else console.log(`BROKEN: first broken link: ${describeBroken(r.firstBroken)}${r.brokenCount > 1 ? ` (${r.brokenCount} broken links in all)` : ''}`);
        if (r.firstBroken) process.exitCode = 1;
      }, { quietLog: true }),
    );
}
