import fs from 'node:fs';
import type { Command } from 'commander';
import { auditKeyPath, loadOrCreateAuditKey, readAuditKey, type AuditKey } from '../../store/seal/audit-key.js';
import { sealLog } from '../../store/seal/log-chain.js';
import { listCheckpoints, signCheckpoint, type ExportedCheckpoint } from '../../store/seal/signed-checkpoints.js';
import { describeProblem, verifyLog } from '../../audit/verify-log.js';
import { withServices } from '../context.js';

/** An exported checkpoint file: NDJSON (one checkpoint a line) or a JSON array. */
function readCheckpointFile(file: string): ExportedCheckpoint[] {
  const text = fs.readFileSync(file, 'utf8').trim();
  if (text.startsWith('[')) return JSON.parse(text) as ExportedCheckpoint[];
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as ExportedCheckpoint);
}

export function auditCommands(program: Command): void {
  const audit = program.command('audit').description('tamper evidence of the event log');
  audit
    .command('verify')
    .description("check every stream's hash chain, the whole-log chain and every signed checkpoint; exit 1 naming each problem")
    .option('--json', 'as JSON')
    .option('--against <file>', 'also check checkpoints exported earlier (audit checkpoint --export) against the log')
    .option('--public-key <file>', 'the trusted key (PEM, public or private); default the audit key file')
    .action(async (o: { json?: boolean; against?: string; publicKey?: string }) =>
      withServices(
        async (s) => {
          const started = performance.now();
          const keyFile = o.publicKey ?? auditKeyPath(s.config);
          const key: AuditKey | null = fs.existsSync(keyFile) ? readAuditKey(keyFile) : null;
          const r = await verifyLog(s.sql, { key, against: o.against ? readCheckpointFile(o.against) : [] });
          const seconds = (performance.now() - started) / 1000;
          if (o.json) console.log(JSON.stringify({ ...r, trustedKey: key?.keyId ?? null, seconds }, null, 2));
          else if (r.problems.length === 0) {
            console.log(
              `ok: ${r.events} events in ${r.streams} streams; every stream chain holds; ${r.sealed} events sealed in the whole-log chain` +
                `${r.unsealed ? ` (${r.unsealed} newer not sealed yet)` : ''}; ${r.checkpoints} signed checkpoints hold${key ? '' : ' (no trusted key: checked against the key each names)'} (${seconds.toFixed(1)} s)`,
            );
          } else {
            console.log(`BROKEN: ${r.problems.length} problems`);
            for (const p of r.problems) console.log(`  ${describeProblem(p)}`);
          }
          if (r.problems.length > 0) process.exitCode = 1;
        },
        { quietLog: true },
      ),
    );
  audit
    .command('checkpoint')
    .description(
      'seal the log and sign its head now (with the audit key file); --export writes every signed checkpoint for an auditor to keep',
    )
    .option('--export [file]', 'write every checkpoint as NDJSON to the file, or to stdout')
    .action(async (o: { export?: string | boolean }) =>
      withServices(
        async (s) => {
          await sealLog(s.sql);
          const c = await signCheckpoint(s.sql, loadOrCreateAuditKey(auditKeyPath(s.config)));
          if (o.export === undefined) {
            console.log(
              c ? `signed: ${c.seq} events, head ${c.head}, cursor ${c.cursor}` : 'the head is already signed (or the log is empty)',
            );
            return;
          }
          const text = (await listCheckpoints(s.sql)).map(({ id: _id, ...cp }) => JSON.stringify(cp)).join('\n') + '\n';
          if (typeof o.export === 'string') fs.writeFileSync(o.export, text);
          else process.stdout.write(text);
        },
        { quietLog: true },
      ),
    );
}
