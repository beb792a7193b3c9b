/**
 * Counts what a process sends PostgreSQL, seen on the wire: statements (Execute and simple Query
 * messages) and round trips. A round trip is a write to a connection that has heard from the server
 * since its previous write: statements written one behind the other without waiting (pipelined)
 * share one, a statement sent after awaiting the previous one's answer takes its own, and so does
 * a statement's first use on a connection (postgres.js describes it, waits, then executes).
 */
import fs from 'node:fs';
import net from 'node:net';

export interface WireCounts {
  statements: number;
  roundTrips: number;
  /** Of those, the ones sent on behalf of an HTTP request (`inRequest`), not by the process's followers. */
  requestStatements: number;
  requestRoundTrips: number;
  /** With `trace` on: each round trip's statements, in order. */
  readonly trace: string[][];
}

export function countRoundTrips(port: number, options: { trace?: boolean; inRequest?: () => boolean } = {}) {
  const counts: WireCounts = { statements: 0, roundTrips: 0, requestStatements: 0, requestRoundTrips: 0, trace: [] };
  const heard = new WeakMap<net.Socket, boolean>();
  const names = new Map<string, string>();
  const original = net.Socket.prototype.write;
  net.Socket.prototype.write = function (this: net.Socket, chunk: unknown, ...rest: unknown[]) {
    if (this.remotePort === port && Buffer.isBuffer(chunk)) {
      if (!heard.has(this)) this.on('data', () => heard.set(this, true));
      const statements = parse(chunk, names);
      if (statements.length > 0) {
        const request = options.inRequest?.() ?? false;
        const executed = statements.filter((s) => s.executes).length;
        if (heard.get(this) !== false) {
          counts.roundTrips++;
          if (request) counts.requestRoundTrips++;
          if (options.trace) counts.trace.push([]);
        }
        heard.set(this, false);
        counts.statements += executed;
        if (request) counts.requestStatements += executed;
        const mark = request ? '' : '(follower) ';
        if (options.trace) counts.trace[counts.trace.length - 1]?.push(...statements.map((s) => mark + s.text));
      }
    }
    return (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof net.Socket.prototype.write;
  return {
    counts,
    reset() {
      counts.statements = 0;
      counts.roundTrips = 0;
      counts.requestStatements = 0;
      counts.requestRoundTrips = 0;
      counts.trace.length = 0;
    },
    stop() {
      net.Socket.prototype.write = original;
    },
  };
}

/** The frontend messages of one write: Parse names a statement, Bind+Execute or Query runs one. */
function parse(buf: Buffer, names: Map<string, string>): { text: string; executes: boolean }[] {
  const out: { text: string; executes: boolean }[] = [];
  let bound = '';
  for (let at = 0; at + 5 <= buf.length;) {
    const type = String.fromCharCode(buf[at]!);
    const len = buf.readInt32BE(at + 1);
    const body = buf.subarray(at + 5, at + 1 + len);
    const cstr = (from: number) => {
      const end = body.indexOf(0, from);
      return { text: body.toString('utf8', from, end), next: end + 1 };
    };
    if (type === 'P') {
      const name = cstr(0);
      const text = cstr(name.next).text;
      if (name.text) names.set(name.text, text);
      out.push({ text: `(describe) ${oneLine(text)}`, executes: false });
    } else if (type === 'B') {
      const portal = cstr(0);
      bound = names.get(cstr(portal.next).text) ?? '(unnamed)';
    } else if (type === 'E') {
      out.push({ text: oneLine(bound), executes: true });
    } else if (type === 'Q') {
      out.push({ text: oneLine(cstr(0).text), executes: true });
    }
    at += 1 + len;
  }
  // A describe followed by its own execute in the same write is one statement.
  return out.filter((s, i) => !(s.text.startsWith('(describe)') && out[i + 1]?.executes));
}

const oneLine = (s: string) => s.replace(/\s+/g, ' ').slice(0, 160);

/** CPU seconds (user + system) of the PostgreSQL server holding `backendPid`: its postmaster's children, live or exited. */
export function postgresCpuSeconds(backendPid: number): number {
  const stat = (pid: string) => fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = (s: string) => s.slice(s.lastIndexOf(')') + 2).split(' ');
  const postmaster = fields(stat(String(backendPid)))[1]!;
  const tick = 100;
  let total = 0;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const f = fields(stat(pid));
      if (f[1] === postmaster || pid === postmaster) total += (Number(f[11]) + Number(f[12])) / tick;
      // Backends that have exited (a rebuild's own connections) are counted in their parent's.
      if (pid === postmaster) total += (Number(f[13]) + Number(f[14])) / tick;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}
