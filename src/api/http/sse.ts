import { createRequire } from 'node:module';
import path from 'node:path';
import type http from 'node:http';
import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { isPromise, type DirectResults } from '../subscriptions/shared-results.js';
import { PUSH as PUSH_KEY, type PushSink } from '../subscriptions/push.js';

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
/**
 * Flushes start at least this many times as far apart as the last one took, up to
 * FLUSH_GAP_MAX_MS: a write to a socket costs about the same whether it carries one frame or a
 * few, so when a thousand of them take longer (a busy machine, more subscribers) the next ones
 * carry more instead of taking all the time there is. Capped, because beyond a few frames per
 * write the bytes cost too and a longer gap only adds latency (and a bigger next flush).
 */
const FLUSH_GAP_PER_FLUSH = 3;
const FLUSH_GAP_MAX_MS = 250;

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
/** The last frame built or found: the subscribers of a class ask for it one after another. */
let last: { result: object; frame: Buffer } | null = null;

function frameOf(result: ExecutionResult): Buffer {
  if (last?.result === result) return last.frame;
  let f = frames.get(result);
  if (!f) {
    f = Buffer.from(`event: next\ndata: ${jsonStringifyResultWithoutInternals(result)}\n\n`);
    frames.set(result, f);
  }
  last = { result, frame: f };
  return f;
}

/** Connections with frames to write at the next flush (each once: its `queued` flag). */
let dirty: Connection[] = [];
let flushScheduled = false;
let lastFlush = 0;
let gap = FLUSH_GAP_MS;

function scheduleFlush(): void {
  if (flushScheduled) return;
  flushScheduled = true;
  const wait = lastFlush + gap - performance.now();
  // setImmediate even when due: every subscriber reached in this turn joins the same flush.
  if (wait <= 0) setImmediate(flushAll);
  else setTimeout(flushAll, wait);
}

function flushAll(): void {
  flushScheduled = false;
  lastFlush = performance.now();
  const batch = new FlushBatch();
  const due = dirty;
  dirty = [];
  for (const c of due) c.flush(batch);
  gap = Math.min(FLUSH_GAP_MAX_MS, Math.max(FLUSH_GAP_MS, FLUSH_GAP_PER_FLUSH * (performance.now() - lastFlush)));
}

const CRLF = Buffer.from('\r\n');
/** Distinct frame sequences remembered per first frame in one flush; beyond, a connection's bytes are its own. */
const SEQUENCES_KEPT = 8;

function sameFrames(a: readonly Buffer[], b: readonly Buffer[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * One flush's bytes, shared: connections with the same frames queued (all the subscribers of a
 * class, in the steady state) are written one Buffer, concatenated and framed once, rather than
 * a copy each.
 */
class FlushBatch {
  private readonly byFirst = new Map<Buffer, { frames: Buffer[]; raw: Buffer; chunk?: Buffer }[]>();

  /** `frames` as one Buffer; `chunked`: as one HTTP/1.1 chunk. */
  bytes(frames: Buffer[], chunked: boolean): Buffer {
    let seen = this.byFirst.get(frames[0]!);
    if (!seen) this.byFirst.set(frames[0]!, (seen = []));
    let entry = seen.find((x) => sameFrames(x.frames, frames));
    if (!entry) {
      entry = { frames, raw: frames.length === 1 ? frames[0]! : Buffer.concat(frames) };
      if (seen.length < SEQUENCES_KEPT) seen.push(entry);
    }
    if (!chunked) return entry.raw;
    return (entry.chunk ??= Buffer.concat([Buffer.from(`${entry.raw.length.toString(16)}\r\n`), entry.raw, CRLF]));
  }
}

class Connection {
  private pending: Buffer[] = [];
  private blocked = false;
  /** What refused the last write (the response or its socket), and will say when it drains. */
  private drainFrom: NodeJS.EventEmitter | null = null;
  private unblock: (() => void) | null = null;
  /** Set while a result is still being rendered: what follows waits for it, in order. */
  private chain: Promise<void> | null = null;
  onResume: (() => void) | null = null;
  closed = false;
  /** In the `dirty` list. */
  private queued = false;

  constructor(private readonly res: http.ServerResponse) {}

  push(frame: Buffer): void {
    if (this.closed) return;
    this.pending.push(frame);
    if (this.queued) return;
    this.queued = true;
    dirty.push(this);
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

  flush(batch: FlushBatch = new FlushBatch()): void {
    this.queued = false;
    if (this.closed || this.pending.length === 0) return;
    const frames = this.pending;
    this.pending = [];
    // Once the response's head and first chunk have gone out on its own socket, its chunks are
    // written to the socket as they would be framed by the response: ServerResponse's write
    // costs a cork, four buffers and a writev per call, and that per connection and flush was
    // most of a fan-out's cost. Before (a response queued behind another on its connection) or
    // unchunked (an HTTP/1.0 client), the response writes them.
    const socket = this.res.socket;
    const direct = socket !== null && this.res.headersSent && this.res.chunkedEncoding;
    const out = batch.bytes(frames, direct);
    const target = direct ? socket : this.res;
    // Listening from the moment the write is refused: the drain may come before anyone waits for it.
    if (!target.write(out) && !this.blocked) {
      this.blocked = true;
      this.drainFrom = target;
      target.once('drain', this.onDrain);
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
    this.drainFrom = null;
    const u = this.unblock;
    this.unblock = null;
    u?.();
    this.onResume?.();
  };

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    this.drainFrom?.off('drain', this.onDrain);
    this.drainFrom = null;
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

/** A subscription's results pushed to its connection; a class, for the reason given in messages.ts. */
class ConnectionSink implements PushSink<ExecutionResult | Promise<ExecutionResult>> {
  private finished = false;
  private readonly frame = (r: ExecutionResult): Buffer => frameOf(r.errors != null ? this.mask(r) : r);
  private readonly failed = (): void => this.finish(null);

  constructor(
    private readonly conn: Connection,
    private readonly mask: MaskResult,
    private readonly done: () => void,
  ) {}

  get ready(): boolean {
    return !this.conn.isBlocked && !this.conn.closed;
  }

  next(result: ExecutionResult | Promise<ExecutionResult>): void {
    if (!this.finished) this.conn.deliver(result, this.frame, this.failed);
  }

  end(): void {
    this.finish(COMPLETE);
  }

  // As yoga's: a failing stream ends the response without `complete`.
  error(): void {
    this.finish(null);
  }

  /** Nothing more is taken; `last` goes out after everything delivered so far. */
  finish(last: Buffer | null): void {
    if (this.finished) return;
    this.finished = true;
    this.conn.afterDelivered(() => {
      if (last) this.conn.push(last);
      this.done();
    });
  }
}

/** Answers false, having started nothing, when the subscription cannot push. */
function pushed(conn: Connection, res: http.ServerResponse, direct: DirectResults, mask: MaskResult): Promise<boolean> {
  return new Promise((resolve) => {
    const sink = new ConnectionSink(conn, mask, () => resolve(true));
    const control = direct[PUSH_KEY](sink);
    if (!control) return resolve(false);
    conn.onResume = () => control.resume();
    const gone = () => {
      conn.close();
      control.cancel();
      sink.finish(null);
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
