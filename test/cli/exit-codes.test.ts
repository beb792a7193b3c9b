import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { connect } from '../../src/db/sql.js';
import { freePort } from '../support/ports.js';

// The real CLI, as a child process, on an embedded PostgreSQL it starts and stops itself: the
// path where a library's exit hook once turned every failure into exit status 0.
const reachable = !process.env.DATABASE_URL || process.env.NETLEDGER_TEST_EMBEDDED === '1';
const root = path.resolve('.');
// Inside the checkout, which the postgres user can reach whenever the embedded database runs at all.
const dir = path.join(root, '.data', `cli-exit-${process.pid}`);
let port = 0;
// Each CLI run starts and stops its own PostgreSQL: seconds apiece on a loaded machine.
const SLOW = 600_000;
const scratches: string[] = [];

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(args: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NETLEDGER_DATA_DIR: path.join(dir, 'data'),
    EMBEDDED_PG_PORT: String(port),
    LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  delete env.DATABASE_URL;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'bin/netledger.mjs'), ...args], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs vitest itself on one scratch test file, with the embedded database of the global setup. */
function vitest(testBody: string): Promise<Run & { report: { numFailedTests: number; numPassedTests: number } | null }> {
  // Outside the checkout (vitest does not look for tests under a dot directory such as .data),
  // reachable by the postgres user, resolving packages through a node_modules link.
  const scratch = fs.mkdtempSync(path.join('/var/tmp', 'nl-vitest-scratch-'));
  scratches.push(scratch);
  fs.chmodSync(scratch, 0o755);
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(scratch, 'node_modules'));
  fs.writeFileSync(
    path.join(scratch, 'scratch.test.ts'),
    `import { expect, inject, it } from 'vitest';
import { connect } from ${JSON.stringify(path.join(root, 'src/db/sql.ts'))};
it('talks to the database', async () => {
  const sql = connect(inject('pgAdminUrl'), { max: 1 });
  const [r] = await sql\`select 1 + 1 as two\`;
  await sql.end();
  ${testBody}
});
`,
  );
  fs.writeFileSync(
    path.join(scratch, 'vitest.config.ts'),
    `import { defineConfig } from 'vitest/config';
export default defineConfig({ test: {
  root: ${JSON.stringify(scratch)},
  include: ['scratch.test.ts'],
  globalSetup: [${JSON.stringify(path.join(root, 'test/support/global-setup.ts'))}],
  reporters: ['default', 'json'],
  outputFile: { json: ${JSON.stringify(path.join(scratch, 'report.json'))} },
} });
`,
  );
  const env: NodeJS.ProcessEnv = { ...process.env, NETLEDGER_TEST_PG_DIR: path.join(scratch, 'pg'), NETLEDGER_TEST_PG_PORT: String(port) };
  delete env.DATABASE_URL;
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--config', path.join(scratch, 'vitest.config.ts')],
      {
        cwd: root,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      let report = null;
      try {
        report = JSON.parse(fs.readFileSync(path.join(scratch, 'report.json'), 'utf8'));
      } catch {
        // no report: the assertions below say so
      }
      resolve({ code, stdout, stderr, report });
    });
  });
}

beforeAll(async () => {
  fs.mkdirSync(dir, { recursive: true });
  port = await freePort();
});
afterAll(() => {
  for (const d of [dir, ...scratches]) fs.rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!reachable)('exit codes with the embedded PostgreSQL', () => {
  it(
    'audit verify exits 0 on an intact log and 1 on a tampered one; events import refuses a non-empty database',
    async () => {
      const migrated = await cli(['migrate']);
      expect(migrated.code, migrated.stderr).toBe(0);
      const token = await cli(['token', 'create', '--project', 'exit-codes']);
      expect(token.code, token.stderr).toBe(0);
      expect(token.stdout).toMatch(/^nl_/);

      const intact = await cli(['audit', 'verify']);
      expect(intact.code, intact.stderr).toBe(0);
      expect(intact.stdout).toMatch(/^ok: /);

      const exported = path.join(dir, 'export.ndjson');
      const exportRun = await cli(['events', 'export', '--out', exported]);
      expect(exportRun.code, exportRun.stderr).toBe(0);
      const imported = await cli(['events', 'import', exported]);
      expect(imported.stderr).toMatch(/import failed/);
      expect(imported.code).toBe(1);

      // A thrown error (a missing file) ends in the CLI's catch-all: also non-zero.
      const missing = await cli(['events', 'import', path.join(dir, 'no-such-file')]);
      expect(missing.code).not.toBe(0);

      // Tamper as the superuser, the way an intruder with database access would.
      const db = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data', 'pg'), port });
      const sql = connect(db.url, { max: 1 });
      try {
        await sql.begin(async (tx) => {
          await tx`alter table nl_events disable trigger nl_events_no_update`;
          await tx`update nl_events set data = jsonb_set(data, '{tampered}', 'true') where global_position = (select max(global_position) from nl_events)`;
          await tx`alter table nl_events enable trigger nl_events_no_update`;
        });
      } finally {
        await sql.end();
        await db.stop();
      }
      const broken = await cli(['audit', 'verify']);
      expect(broken.stdout).toMatch(/^BROKEN: /);
      expect(broken.code).toBe(1);
    },
    SLOW,
  );

  it(
    'token create exits non-zero when it fails',
    async () => {
      const failed = await cli(['token', 'create', '--project', 'x'.repeat(300)]);
      expect(failed.code, failed.stdout).not.toBe(0);
    },
    SLOW,
  );

  it(
    'vitest exits non-zero when a test fails, and 0 when none does',
    async () => {
      const failing = await vitest('expect(r!.two).toBe(3);');
      expect(failing.report?.numFailedTests, failing.stderr + failing.stdout).toBe(1);
      expect(failing.code).not.toBe(0);
      const passing = await vitest('expect(r!.two).toBe(2);');
      expect(passing.report?.numPassedTests, passing.stderr + passing.stdout).toBe(1);
      expect(passing.code).toBe(0);
    },
    SLOW,
  );
});
