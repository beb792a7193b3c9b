import { createRequire } from 'node:module';
import path from 'node:path';
import type http from 'node:http';
import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { isPromise, type DirectResults } from '../subscriptions/shared-results.js';
import { PUSH as PUSH_KEY } from '../subscriptions/push.js';

const require = createRequire(import.meta.url);
// yoga's own serialiser of a result (it strips internal error extensions), so the bytes are the
// ones its SSE writer sent; its package index does not export it.
const { jsonStringifyResultWithoutInternals } = require(
  path.join(path.dirname(require.resolve('graphql-yoga')), 'plugins', 'result-processor', 'stringify.js'),
) as { jsonStringifyResultWithoutInternals: (result: ExecutionResult) => string };

/** Where yoga leaves a subscription's results for this module to stream; one per HTTP request. */
export interface SseSlot {
  /** The results as yoga hands them over (wrapped by its plugins: error masking). */
  results?: AsyncIterable<ExecutionResult>;
  /** The same results unwrapped, set by shared-results.ts: pushed, with the masking applied here. */
  direct?: DirectResults;
}

/** What yoga's error masking does to each result of a subscription (envelop's useMaskedErrors). */
export type MaskResult = (result: ExecutionResult) => ExecutionResult;

/** yoga's SSE headers (graphql-sse "distinct connections" mode). */
const SSE_HEADERS = {
  'Content-Type': 'text/event-stream',
  Connection: 'keep-alive',
  'Cache-Control': 'no-cache',
  'Content-Encoding': 'none',
};

const PING = Buffer.from(':\n\n');
const COMPLETE = Buffer.from('event: complete\ndata:\n\n');
// As yoga's writer: tests shorten it to see pings at all.
const PING_MS = process.env.NODE_ENV === 'test' ? 300 : 12_000;

/**
 * Writes to all subscribers go out together at most this often: one write per connection per
 * flush carrying every frame queued since, rather than one per frame. Under a steady stream of
 * events this is most of the server's cost (a syscall per delivery); an idle server flushes at once.
 */
const FLUSH_GAP_MS = 20;

function wantsEventStream(request: Request): boolean {
  // yoga's own media-type matching (utf-8 only, wildcards match), reduced to the one question.
  for (const accept of (request.headers.get('accept') ?? '*/*').replace(/\s/g, '').toLowerCase().split(',')) {
    const [mediaType, ...params] = accept.split(';');
    if (!mediaType) continue;
    if ((params.find((p) => p.includes('charset=')) ?? 'charset=utf-8') !== 'charset=utf-8') continue;
    const [pre, suf] = mediaType.split('/');
    if ((pre === '*' || pre === 'text') && (suf === '*' || suf === 'event-stream')) return true;
  }
  return false;
}

/**
 * A subscription asked for over SSE is handed to `streamEvents` (below) instead of yoga's SSE
 * writer, which passes every frame of every subscriber through a web ReadableStream, a
 * TextEncoder and a write of its own. Requests without a slot (graphql-ws) are left to yoga.
 */
export function sseStreams(): Plugin<Record<string, unknown>, { sse?: SseSlot }> {
  return {
    onResultProcess({ request, result, serverContext, setResultProcessor }) {
      const slot = serverContext.sse;
      if (!slot || !isAsyncIterable(result) || !wantsEventStream(request)) return;
      setResultProcessor((results, fetchAPI) => {
        slot.results = results as AsyncIterable<ExecutionResult>;
        return new fetchAPI.Response(null, { status: 200, headers: SSE_HEADERS });
      }, 'text/event-stream');
    },
  };
}

/** A result object's frame; subscribers of one class share the object, so its bytes are built once. */
const frames = new WeakMap<object, Buffer>();

function frameOf(result: ExecutionResult): Buffer {
  let f = frames.get(result);
  if (!f) {
    f = Buffer.from(`event: next\ndata: ${jsonStringifyResultWithoutInternals(result)}\n\n`);
    frames.set(result, f);
  }
  return f;
}

const dirty = new Set<Connection>();
let flushScheduled = false;
let lastFlush = 0;

function scheduleFlush(): void {
  if (flushScheduled) return;
  flushScheduled = true;
  const wait = lastFlush + FLUSH_GAP_MS - performance.now();
  // setImmediate even when due: every subscriber reached in this turn joins the same flush.
  if (wait <= 0) setImmediate(flushAll);
  else setTimeout(flushAll, wait);
}

function flushAll(): void {
  flushScheduled = false;
  lastFlush = performance.now();
  for (const c of dirty) c.flush();
  dirty.clear();
}

class Connection {
  private pending: Buffer[] = [];
  private blocked = false;
  private unblock: (() => void) | null = null;
  /** Set while a result is still being rendered: what follows waits for it, in order. */
  private chain: Promise<void> | null = null;
  onResume: (() => void) | null = null;
  closed = false;

  constructor(private readonly res: http.ServerResponse) {}

  push(frame: Buffer): void {
    if (this.closed) return;
    this.pending.push(frame);
    dirty.add(this);
    scheduleFlush();
  }

  /** A result, maybe still rendering; frames go out in the order results came. */
  deliver(result: ExecutionResult | Promise<ExecutionResult>, frame: (r: ExecutionResult) => Buffer, failed: () => void): void {
    if (this.chain === null && !isPromise(result)) return this.push(frame(result));
    const c = (this.chain ?? Promise.resolve()).then(() => result).then((r) => this.push(frame(r)));
    this.chain = c;
    c.then(
      () => {
        if (this.chain === c) this.chain = null;
      },
      () => failed(),
    );
  }

  /** After everything delivered so far. */
  afterDelivered(then: () => void): void {
    if (this.chain) this.chain.then(then, then);
    else then();
  }

  flush(): void {
    if (this.closed || this.pending.length === 0) return;
    const out = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [];
    // Listening from the moment the write is refused: the drain may come before anyone waits for it.
    if (!this.res.write(out) && !this.blocked) {
      this.blocked = true;
      this.res.once('drain', this.onDrain);
    }
  }

  get isBlocked(): boolean {
    return this.blocked;
  }

  /** Resolves when the client has taken what was written (or is gone). */
  drained(): Promise<void> {
    if (!this.blocked) return Promise.resolve();
    return new Promise((resolve) => (this.unblock = resolve));
  }

  private readonly onDrain = (): void => {
    this.blocked = false;
    const u = this.unblock;
    this.unblock = null;
    u?.();
    this.onResume?.();
  };

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    dirty.delete(this);
    this.res.off('drain', this.onDrain);
    this.blocked = false;
    const u = this.unblock;
    this.unblock = null;
    u?.();
  }

  end(): void {
    if (this.closed) return;
    this.flush();
    this.close();
    this.res.end();
  }
}

/**
 * Streams a subscription's results to an SSE response the way yoga's writer did (a ping first and
 * every PING_MS, `next` frames, `complete` at the end, the response just ended if the results
 * fail), with writes batched across subscribers (FLUSH_GAP_MS). Results are pushed when the
 * subscription can (push.ts), else pulled. Backpressure is kept: while a client's socket is full
 * nothing more is taken from its subscription, so its bounded buffer fills and cuts it off as
 * before. Resolves when the response has ended.
 */
export async function streamEvents(res: http.ServerResponse, slot: SseSlot, mask: MaskResult): Promise<void> {
  const conn = new Connection(res);
  const ping = setInterval(() => {
    if (!conn.isBlocked) conn.push(PING);
  }, PING_MS);
  // Some browsers hold the response until its first bytes arrive.
  res.write(PING);
  try {
    const control = slot.direct ? await pushed(conn, res, slot.direct, mask) : false;
    if (!control) await pulled(conn, res, slot.results!);
  } finally {
    clearInterval(ping);
    conn.end();
  }
}

/** Answers false, having started nothing, when the subscription cannot push. */
function pushed(conn: Connection, res: http.ServerResponse, direct: DirectResults, mask: MaskResult): Promise<boolean> {
  return new Promise((resolve) => {
    let finished = false;
    const finish = (frame: Buffer | null) => {
      if (finished) return;
      finished = true;
      conn.afterDelivered(() => {
        if (frame) conn.push(frame);
        resolve(true);
      });
    };
    const frame = (r: ExecutionResult) => frameOf(r.errors != null ? mask(r) : r);
    const control = direct[PUSH_KEY]({
      get ready() {
        return !conn.isBlocked && !conn.closed;
      },
      next: (result) => {
        if (!finished) conn.deliver(result, frame, () => finish(null));
      },
      end: () => finish(COMPLETE),
      // As yoga's: a failing stream ends the response without `complete`.
      error: () => finish(null),
    });
    if (!control) return resolve(false);
    conn.onResume = () => control.resume();
    const gone = () => {
      conn.close();
      control.cancel();
      finish(null);
    };
    if (res.destroyed) gone();
    else res.once('close', gone);
  });
}

async function pulled(conn: Connection, res: http.ServerResponse, results: AsyncIterable<ExecutionResult>): Promise<void> {
  const it = results[Symbol.asyncIterator]();
  res.once('close', () => {
    conn.close();
    void Promise.resolve(it.return?.()).catch(() => {});
  });
  try {
    while (!conn.closed) {
      if (conn.isBlocked) await conn.drained();
      if (conn.closed) break;
      const r = await it.next();
      if (r.value != null) conn.push(frameOf(r.value));
      if (r.done) {
        conn.push(COMPLETE);
        break;
      }
    }
  } catch {
    // As yoga's: a failing stream ends the response without `complete`.
  }
}
