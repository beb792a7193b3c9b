import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.js';

/**
 * The CLI and the server agree on the database: the same default data directory wherever a
 * command is started from, database commands say which database they use, and none but migrate
 * (and serve) silently creates a new, empty embedded one.
 */

const root = path.resolve('.');
const reachable = !process.env.DATABASE_URL || process.env.NETLEDGER_TEST_EMBEDDED === '1';
const dir = path.join(root, '.data', `db-choice-${process.pid}`);

function run(args: string[], env: Record<string, string>, cwd = root): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const full: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', ...env };
  delete full.DATABASE_URL;
  delete full.NETLEDGER_DATA_DIR;
  Object.assign(full, env);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env: full, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const netledger = (args: string[], env: Record<string, string>) => run([path.join(root, 'bin/netledger.mjs'), ...args], env);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('which database a command uses', () => {
  it("defaults to the checkout's .data from any working directory", async () => {
    const tsx = pathToFileURL(path.join(root, 'node_modules/tsx/dist/loader.mjs')).href;
    const r = await run(
      [
        '--import',
        tsx,
        '-e',
        `import(${JSON.stringify(path.join(root, 'src/config.ts'))}).then((m) => console.log(m.loadConfig({}).dataDir))`,
      ],
      {},
      '/',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(path.join(root, '.data'));
  });

  it.skipIf(!reachable)(
    'refuses to create an embedded database for token create; migrate creates it and every command names it',
    async () => {
      const env = { NETLEDGER_DATA_DIR: path.join(dir, 'data'), EMBEDDED_PG_PORT: String(await freePort()) };
      const refused = await netledger(['token', 'create', '--project', 'p'], env);
      expect(refused.code).not.toBe(0);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toContain(`there is no embedded database in ${path.join(dir, 'data', 'pg')}`);
      expect(refused.stderr).toContain('NETLEDGER_DATA_DIR');
      expect(fs.existsSync(path.join(dir, 'data', 'pg', 'PG_VERSION'))).toBe(false);

      const migrated = await netledger(['migrate'], env);
      expect(migrated.code, migrated.stderr).toBe(0);
      expect(migrated.stderr).toContain(
        `netledger: using the embedded PostgreSQL in ${path.join(dir, 'data', 'pg')} (port ${env.EMBEDDED_PG_PORT}, started by this process)`,
      );
      const token = await netledger(['token', 'create', '--project', 'p'], env);
      expect(token.code, token.stderr).toBe(0);
      expect(token.stdout).toMatch(/^nl_/);
      expect(token.stderr).toContain(`netledger: using the embedded PostgreSQL in ${path.join(dir, 'data', 'pg')}`);
    },
    600_000,
  );
});
