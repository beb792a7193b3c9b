#!/usr/bin/env node
// Runs the TypeScript sources directly: one less build step between a clone and a running system.
import fs from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';

// `--version` alone is answered before the TypeScript loader starts (most of a --help's time).
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version + '\n');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
