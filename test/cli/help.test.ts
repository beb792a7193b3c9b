import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { GROUPS } from '../../src/cli/commands/index.js';
import { KINDS } from '../../src/cli/resources/kinds.js';

/**
 * `netledger --help` and `--version` as a user types them: the real binary as a child process. They
 * answer without loading the command groups' modules (the agent, the database layer), so they are
 * quick; the time is printed, not asserted, since it depends on the machine's load.
 */

const root = path.resolve('.');
const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

function cli(args: string[]): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'bin/netledger.mjs'), ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Math.round(performance.now() - started) }));
  });
}

/** The command words of a help text's "Commands:" section. */
function commandWords(help: string): string[] {
  const section = help.split('\nCommands:\n')[1] ?? '';
  return [...section.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]!);
}

describe('netledger --help and --version', () => {
  it('--help lists every command: the built-in ones, each resource and each command group', async () => {
    const r = await cli(['--help']);
    console.log(`netledger --help answered in ${r.ms} ms`);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: netledger \[options\] \[command\]/);
    const words = commandWords(r.stdout);
    const expected = [
      'serve',
      'migrate',
      'token',
      'schema',
      ...new Set(KINDS.map((k) => k.words[0]!)),
      ...GROUPS.map((g) => g.word),
      'help',
    ];
    expect(words).toEqual(expected);
    for (const g of GROUPS) expect(r.stdout.replace(/\s+/g, ' ')).toContain(`${g.word} ${g.description}`);
  });

  it('--version prints the version of package.json', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await cli([flag]);
      console.log(`netledger ${flag} answered in ${r.ms} ms`);
      expect(r).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });

  it("a command group's own help loads that group: its subcommands and options are listed", async () => {
    const agent = await cli(['agent', '--help']);
    expect(agent.code).toBe(0);
    expect(commandWords(agent.stdout)).toEqual(expect.arrayContaining(['run', 'reconcile', 'wipe']));
    const replay = await cli(['help', 'replay']);
    expect(replay.code).toBe(0);
    expect(replay.stdout).toContain('--until <cursor|time>');
  });

  it('an unknown command fails with the usage, naming the command', async () => {
    const r = await cli(['nosuchcommand']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("unknown command 'nosuchcommand'");
  });

  it("each group's help line is the group's own description", async () => {
    for (const g of GROUPS) {
      const program = new Command('netledger');
      (await g.load())(program);
      const own = program.commands.find((c) => c.name() === g.word);
      expect(own?.description(), g.word).toBe(g.description);
    }
  });
});
