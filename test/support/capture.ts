import { spawn, type ChildProcess } from 'node:child_process';
import { isAlive, terminate } from '../../src/agent/procs.js';
import { until } from './until.js';

export interface Capture {
  /** Waits until the capture has printed `text` (tcpdump prints a packet once it has decoded it). */
  seen(text: string): Promise<void>;
  /** Stops tcpdump and answers everything it printed. */
  stop(): Promise<string>;
}

const running = new Set<ChildProcess>();

/**
 * tcpdump in namespace `ns` with `args` (interface, options, filter), ready once it listens.
 *
 * `--immediate-mode`: without it the kernel hands packets over a block at a time, up to a second
 * late, and a capture stopped within that second reports "0 packets captured, 7 packets received
 * by filter": the pings were on the wire, the capture had not printed them yet.
 */
export async function startCapture(ns: string, args: readonly string[]): Promise<Capture> {
  const child = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '--immediate-mode', '-l', '-nn', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await until(`tcpdump listening in ${ns}`, async () => err.includes('listening on'), 15_000);
  return {
    seen: async (text) => {
      await until(`"${text}" in the capture in ${ns}`, () => out.includes(text), 10_000);
    },
    stop: async () => {
      // 'close', not 'exit': the last lines may still be in the pipe when the process has exited.
      const closed = new Promise((r) => child.once('close', r));
      if (child.pid !== undefined && isAlive(child.pid)) await terminate(child.pid);
      await closed;
      running.delete(child);
      return out;
    },
  };
}

/** Stops every capture still running (test teardown). */
export async function stopCaptures(): Promise<void> {
  for (const c of running) if (c.pid !== undefined && isAlive(c.pid)) await terminate(c.pid);
  running.clear();
}
