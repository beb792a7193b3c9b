import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError } from 'graphql';
import { createYoga, maskError } from 'graphql-yoga';
import type { Services } from '../app/services.js';
import { authenticate } from '../app/tenancy.js';
import { isDatabaseUnavailable, withDeadline } from '../db/unavailable.js';
import { pendingMigrations } from '../store/migrate.js';
import type { Caller } from '../app/tenancy.js';
import type { Context } from './context.js';
import { compiledQueries } from './compiled-queries.js';
import { Cors } from './http/cors.js';
import { DASHBOARD_PATH, serveDashboard } from './http/dashboard.js';
import { GRAPHIQL_ASSETS, renderGraphiqlPage, serveGraphiqlAsset } from './http/graphiql.js';
import { ApiMetrics } from './http/metrics.js';
import { requestTracePlugin, type RequestTrace } from './http/request-trace.js';
import { sseStreams, streamEvents, type MaskResult, type SseSlot } from './http/sse.js';
import { sharedSubscriptionResults } from './subscriptions/shared-results.js';
import { schema } from './schema/index.js';
import { stopFollower } from './subscriptions/followers.js';
import { attachGraphqlWs } from './subscriptions/ws.js';

const MAX_BODY = 1 << 20;
const READY_CHECK_MS = 2000;
/** yoga's default text for a masked error. */
const MASKED_MESSAGE = 'Unexpected error.';
const UNAVAILABLE = 'the database is unavailable; try again shortly';
const SHUTTING_DOWN = 'the server is shutting down; resubscribe with after: cursor';

export interface ApiServer extends http.Server {
  /**
   * Graceful shutdown: stops accepting, ends every subscription with its last cursor, lets
   * in-flight requests finish for up to `ms`, then closes what is left. Answers whether everything
   * finished in time.
   */
  drain(ms: number): Promise<boolean>;
  /** Its Prometheus metrics; undefined with NETLEDGER_METRICS=off. */
  readonly metrics: ApiMetrics | undefined;
}

/** GraphQL's form of "the database is unavailable": HTTP 503 and the code `ServiceUnavailable`. */
function serviceUnavailable(message = UNAVAILABLE): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'ServiceUnavailable', http: { status: 503, headers: { 'retry-after': '1' } } } });
}

function rootCause(error: unknown): unknown {
  let e = error;
  for (let i = 0; i < 5 && e instanceof GraphQLError && e.originalError; i++) e = e.originalError;
  return e;
}

interface ServerContext {
  req: http.IncomingMessage;
  caller: Caller;
  requestId: string;
  correlationId: string;
  trace: RequestTrace;
  sse: SseSlot;
}

/** Probes and scrapes arrive every few seconds: their request lines are debug, not info. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/**
 * The HTTP server: /healthz (liveness), /readyz (readiness), /metrics (Prometheus), the dashboard
 * (/ui) and GraphiQL's assets without auth, /graphql (GraphiQL in a browser) with a bearer token. A client's
 * misbehaviour ends its own request only.
 */
export function createApiServer(services: Services): ApiServer {
  const config = services.config;
  const cors = new Cors(config.NETLEDGER_CORS_ORIGINS);
  const metrics = config.NETLEDGER_METRICS === 'on' ? new ApiMetrics(services) : undefined;
  // Clients see "Unexpected error."; the log gets what happened, with the request id to find it.
  const maskErrorOf = (error: unknown, message: string): Error => {
    if (isDatabaseUnavailable(rootCause(error))) return serviceUnavailable();
    const masked = maskError(error, message);
    // Deliberate GraphQL errors (with a code) pass through unmasked and are not news.
    if (masked.message === message) {
      services.log.error({ err: (error as { originalError?: unknown }).originalError ?? error }, 'unexpected error in a request');
    }
    return masked;
  };
  // What yoga's masking does to each result of a subscription, for the results SSE takes unwrapped.
  const maskResult: MaskResult = (result) => ({
    ...result,
    errors: result.errors?.map((e) => maskErrorOf(e, MASKED_MESSAGE) as GraphQLError),
  });
  const yoga = createYoga<ServerContext, Context>({
    schema: schema(),
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: { title: 'netledger' },
    renderGraphiQL: renderGraphiqlPage,
    // CORS is ours (http/cors.ts): yoga's default would allow every origin.
    cors: false,
    logging: false,
    // The body limit is ours (MAX_BODY, read before yoga runs, and Node's parser refuses a bad
    // Content-Length): yoga's own 25 MB check would wrap every body in another stream again.
    maxRequestBodySize: false,
    maskedErrors: { maskError: maskErrorOf, errorMessage: MASKED_MESSAGE },
    plugins: [
      EnvelopArmorPlugin({
        maxDepth: { n: 12 },
        maxAliases: { n: 30 },
        costLimit: { maxCost: 250000 },
        maxTokens: { n: 5000 },
        blockFieldSuggestion: { enabled: true },
      }),
      requestTracePlugin(),
      compiledQueries(),
      sharedSubscriptionResults(),
      sseStreams(),
    ],
    context: ({ caller, requestId, correlationId }) => ({
      services,
      caller,
      requestId,
      correlationId,
      log: services.log.child({ requestId, correlationId, project: caller.projectName }),
      memo: new Map(),
    }),
  });

  let inFlight = 0;
  let draining = false;
  const server = http.createServer(
    {
      // Slow or stalled clients: headers, then the whole request, must arrive in time (408).
      headersTimeout: Math.min(config.NETLEDGER_HEADERS_TIMEOUT_MS, config.NETLEDGER_REQUEST_TIMEOUT_MS),
      requestTimeout: config.NETLEDGER_REQUEST_TIMEOUT_MS,
      keepAliveTimeout: config.NETLEDGER_KEEPALIVE_TIMEOUT_MS,
      // Node checks those timeouts only this often (30 s by default).
      connectionsCheckingInterval: Math.min(1000, config.NETLEDGER_HEADERS_TIMEOUT_MS),
    },
    (req, res) => {
      inFlight++;
      const started = performance.now();
      const trace: RequestTrace = {
        requestId: randomUUID(),
        method: req.method ?? '',
        path: new URL(req.url ?? '/', 'http://localhost').pathname,
        errorCodes: [],
      };
      res.once('close', () => {
        inFlight--;
        finished(trace, res, (performance.now() - started) / 1000);
      });
      // A client gone mid-response: nothing to tell it, and nothing to crash on.
      res.on('error', () => {});
      if (draining) res.setHeader('connection', 'close');
      handle(req, res, trace).catch((err: unknown) => failed(req, res, trace, err));
    },
  );
  server.maxConnections = config.NETLEDGER_MAX_CONNECTIONS;

  /** One line and one count per request, whatever it came to. */
  const finished = (trace: RequestTrace, res: http.ServerResponse, seconds: number) => {
    // Never answered: the client went away first (nginx's 499).
    const status = res.headersSent ? res.statusCode : 499;
    metrics?.request({ operation: trace.operation, type: trace.type, status, seconds, errorCodes: trace.errorCodes });
    const line = {
      requestId: trace.requestId,
      method: trace.method,
      path: trace.path,
      status,
      durationMs: Math.round(seconds * 1e4) / 10,
      ...(trace.operation !== undefined ? { operation: trace.operation || 'anonymous', type: trace.type } : {}),
      ...(trace.project ? { project: trace.project } : {}),
      ...(trace.errorCodes.length > 0 ? { errorCodes: trace.errorCodes } : {}),
      ...(res.writableFinished ? {} : { aborted: true }),
    };
    if (QUIET_PATHS.has(trace.path)) services.log.debug(line, 'request');
    else services.log.info(line, 'request');
  };

  const failed = (req: http.IncomingMessage, res: http.ServerResponse, trace: RequestTrace, err: unknown) => {
    const gone = req.destroyed || res.destroyed || (err as { code?: string }).code === 'ECONNRESET' || (err as Error).message === 'aborted';
    if (gone) {
      services.log.debug({ err }, 'client went away mid-request');
    } else if (isDatabaseUnavailable(err)) {
      trace.errorCodes.push('ServiceUnavailable');
      if (!res.headersSent) return unavailable(res, UNAVAILABLE);
    } else {
      services.log.error({ err }, 'unexpected error serving a request');
      if (!res.headersSent) return json(res, 500, { errors: [{ message: 'Unexpected error.' }] });
    }
    res.destroy();
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, trace: RequestTrace) => {
    const requestId = trace.requestId;
    const correlationHeader = req.headers['x-correlation-id'];
    const correlationId = typeof correlationHeader === 'string' && correlationHeader.length <= 128 ? correlationHeader : requestId;
    const pathname = trace.path;
    res.setHeader('x-request-id', requestId);
    // Before authentication: a browser's preflight never carries the token.
    if (cors.preflight(req, res)) return;
    for (const [k, v] of Object.entries(cors.headers(req))) res.setHeader(k, v);
    // Liveness: the process answers. Whether it can serve is /readyz.
    if (pathname === '/healthz') return json(res, 200, { status: 'ok' });
    if (pathname === '/readyz') return json(res, ...(await readiness(services, draining)));
    if (pathname === '/metrics' && metrics) {
      const body = await metrics.expose();
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      return void res.end(body);
    }
    if (pathname.startsWith(GRAPHIQL_ASSETS) && (req.method === 'GET' || req.method === 'HEAD')) return serveGraphiqlAsset(pathname, res);
    if ((pathname === DASHBOARD_PATH || pathname.startsWith(`${DASHBOARD_PATH}/`)) && (req.method === 'GET' || req.method === 'HEAD'))
      return serveDashboard(pathname, res);
    if (pathname !== '/graphql') return json(res, 404, { error: 'not found: try /ui, /graphql, /healthz, /readyz or /metrics' });
    if (draining) {
      trace.errorCodes.push('ServiceUnavailable');
      return unavailable(res, 'the server is shutting down');
    }
    // A browser asking for the page gets GraphiQL; the token goes into its headers pane.
    const wantsPage = req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');
    const auth = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    const caller = m ? await authenticate(services.sql, m[1]!) : null;
    if (caller) trace.project = caller.projectName;
    if (!caller && !wantsPage) {
      trace.errorCodes.push('UNAUTHENTICATED');
      return json(
        res,
        401,
        { errors: [{ message: 'missing or invalid bearer token', extensions: { code: 'UNAUTHENTICATED' } }] },
        { 'www-authenticate': 'Bearer' },
      );
    }
    const body = await readBody(req);
    if (body === 'too large')
      return json(res, 413, { errors: [{ message: `request body over ${MAX_BODY} bytes` }] }, { connection: 'close' });
    // yoga's own Request class over the plain header object: it wraps it lazily, where a global
    // Headers would copy and validate every header.
    const headers: Record<string, string> = {};
    for (const k in req.headers) {
      const v = req.headers[k];
      if (typeof v === 'string') headers[k] = v;
    }
    const sse: SseSlot = {};
    const request = new yoga.fetchAPI.Request(`http://localhost${req.url ?? '/graphql'}`, {
      method: req.method ?? 'GET',
      headers,
      ...(body.length > 0 ? { body: body.toString('utf8') } : {}),
    });
    const response = await yoga.handleRequest(request, { req, caller: caller ?? ANONYMOUS, requestId, correlationId, trace, sse });
    const out: Record<string, string> = {};
    response.headers.forEach((v, k) => (out[k] = v));
    if (draining) out.connection = 'close';
    if (res.destroyed) {
      if (sse.results) void Promise.resolve(sse.results[Symbol.asyncIterator]().return?.()).catch(() => {});
      return void response.body?.cancel().catch(() => {});
    }
    res.writeHead(response.status, out);
    // A subscription over SSE: its results are written by http/sse.ts, batched across subscribers.
    if (sse.results) return streamEvents(res, sse, maskResult);
    // A whole answer (every query and mutation): written as it is, without a web stream around it.
    const whole = wholeBody(response);
    if (whole !== undefined) return void res.end(whole);
    if (!response.body) return void res.end();
    // Streamed, so subscriptions over SSE flow as they happen; a closed client stops the stream.
    const reader = response.body.getReader();
    res.once('close', () => void reader.cancel().catch(() => {}));
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done || res.destroyed) break;
      // Backpressure: a slow reader holds the stream, so its subscription's bounded buffer fills.
      if (!res.write(value)) await drained(res);
    }
    res.end();
  };

  const ws = attachGraphqlWs(server, yoga as never, services);
  const api = Object.assign(server, { metrics }) as ApiServer;
  api.drain = async (ms) => {
    draining = true;
    ws.stopAccepting();
    // Stop listening, but leave the open connections (close() here would cut the WebSockets).
    http.Server.prototype.close.call(server);
    stopFollower(services, SHUTTING_DOWN);
    const deadline = Date.now() + ms;
    let open = ws.closeIdle();
    while ((inFlight > 0 || open > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      server.closeIdleConnections();
      open = ws.closeIdle();
    }
    const clean = inFlight === 0 && open === 0;
    server.closeAllConnections();
    ws.terminate();
    return clean;
  };
  return api;
}

/** Ready: not shutting down, the database answers (in time), and every migration is applied. */
async function readiness(services: Services, draining: boolean): Promise<[number, Record<string, unknown>]> {
  if (draining) return [503, { status: 'shutting down' }];
  try {
    const pending = await withDeadline(pendingMigrations(services.sql), READY_CHECK_MS);
    if (pending.length > 0) return [503, { status: 'migrations pending', pending }];
    return [200, { status: 'ready' }];
  } catch (err) {
    if (!isDatabaseUnavailable(err)) services.log.warn({ err }, 'readiness check failed');
    return [503, { status: 'database unavailable' }];
  }
}

/** The same 503 answer GraphQL gives, for failures before GraphQL runs (authentication, shutdown). */
function unavailable(res: http.ServerResponse, message: string) {
  json(res, 503, { errors: [{ message, extensions: { code: 'ServiceUnavailable' } }] }, { 'retry-after': '1' });
}

/**
 * The body of an answer yoga built whole (a string or bytes), read from @whatwg-node/node-fetch's
 * Response without a stream (as its own Node adapter does); undefined for a streamed one.
 */
function wholeBody(response: Response): string | Buffer | undefined {
  const r = response as Response & { bodyType?: string; bodyInit?: unknown; _buffer?: unknown };
  if (r.bodyType === 'String' && typeof r.bodyInit === 'string') return r.bodyInit;
  if (Buffer.isBuffer(r._buffer)) return r._buffer;
  return undefined;
}

function drained(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

async function readBody(req: http.IncomingMessage): Promise<Buffer | 'too large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return 'too large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const ANONYMOUS: Caller = {
  tokenId: '',
  tokenName: '',
  projectId: '00000000-0000-0000-0000-000000000000',
  projectName: '',
  isAdmin: false,
};
