#!/usr/bin/env -S node --max-semi-space-size=32
// A young generation of 2 x 32 MiB: a 1,000-row answer lives until it is written, and with node's
// default (16 MiB) collecting it cost a third of a list's server CPU (issue 21).
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
