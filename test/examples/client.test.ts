import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/api.js';

// The example client runs as a user would run it, against a real server: it must keep working.
let api: TestApi;

beforeAll(async () => {
  api = await startTestApi();
}, 120_000);
afterAll(async () => api?.close());

it('examples/client.ts: a query, a typed error, and a subscription that resumes without a gap', async () => {
  const token = await api.token('example-client');
  const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('examples/client.ts')], {
      env: { ...process.env, NETLEDGER_URL: api.url, NETLEDGER_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  expect(run.code, run.stderr + run.stdout).toBe(0);
  expect(run.stdout).toMatch(/^viewer: .* \(member\) in project example-client$/m);
  expect(run.stdout).toMatch(/^refused as expected: [A-Z]\w+/m);
  expect(run.stdout).toMatch(/^event NetworkUpdated at \S+; disconnected$/m);
  expect(run.stdout).toMatch(/^resumed after \S+: event NetworkUpdated at \S+, nothing missed$/m);
  expect(run.stdout).toMatch(/^deleted: DeleteNetworkSuccess$/m);
});
