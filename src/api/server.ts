import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { createYoga, maskError } from 'graphql-yoga';
import type { Services } from '../app/services.js';
import { authenticate } from '../app/tenancy.js';
import type { Caller, Context } from './context.js';
import { schema } from './schema/index.js';
import { attachGraphqlWs } from './subscriptions/ws.js';

const MAX_BODY = 1 << 20;

interface ServerContext {
  req: http.IncomingMessage;
  caller: Caller;
  requestId: string;
  correlationId: string;
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** The HTTP server: /healthz without auth, /graphql (GraphiQL in a browser) with a bearer token. */
export function createApiServer(services: Services): http.Server {
  const yoga = createYoga<ServerContext, Context>({
    schema: schema(),
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: { title: 'netledger' },
    logging: false,
    // Clients see "Unexpected error."; the log gets what happened, with the request id to find it.
    maskedErrors: {
      maskError: (error, message) => {
        const masked = maskError(error, message);
        // Deliberate GraphQL errors (with a code) pass through unmasked and are not news.
        if (masked.message === message) {
          services.log.error({ err: (error as { originalError?: unknown }).originalError ?? error }, 'unexpected error in a request');
        }
        return masked;
      },
    },
    plugins: [
      EnvelopArmorPlugin({
        maxDepth: { n: 12 },
        maxAliases: { n: 30 },
        costLimit: { maxCost: 250000 },
        maxTokens: { n: 5000 },
        blockFieldSuggestion: { enabled: true },
      }),
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

  const server = http.createServer(async (req, res) => {
    const requestId = randomUUID();
    const correlationHeader = req.headers['x-correlation-id'];
    const correlationId = typeof correlationHeader === 'string' && correlationHeader.length <= 128 ? correlationHeader : requestId;
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/healthz') {
      try {
        await services.sql`select 1`;
        return json(res, 200, { status: 'ok' });
      } catch {
        return json(res, 503, { status: 'database unavailable' });
      }
    }
    if (url.pathname !== '/graphql') return json(res, 404, { error: 'not found: try /graphql or /healthz' });
    // A browser asking for the page gets GraphiQL; the token goes into its headers pane.
    const wantsPage = req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');
    const auth = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    const caller = m ? await authenticate(services.sql, m[1]!) : null;
    if (!caller && !wantsPage) {
      return json(res, 401, { errors: [{ message: 'missing or invalid bearer token', extensions: { code: 'UNAUTHENTICATED' } }] }, { 'www-authenticate': 'Bearer' });
    }
    const body = await readBody(req);
    if (body === 'too large') return json(res, 413, { errors: [{ message: `request body over ${MAX_BODY} bytes` }] });
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const response = await yoga.fetch(
      `http://localhost${req.url ?? '/graphql'}`,
      { method: req.method ?? 'GET', headers, ...(body.length > 0 ? { body: body.toString('utf8') } : {}) },
      { req, caller: caller ?? ANONYMOUS, requestId, correlationId },
    );
    const out: Record<string, string> = { 'x-request-id': requestId };
    response.headers.forEach((v, k) => (out[k] = v));
    res.writeHead(response.status, out);
    if (!response.body) return res.end();
    // Streamed, so subscriptions over SSE flow as they happen; a closed client stops the stream.
    const reader = response.body.getReader();
    req.on('close', () => void reader.cancel().catch(() => {}));
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done) break;
      // Backpressure: a slow reader holds the stream, so its subscription's bounded buffer fills.
      if (!res.write(value)) await drained(res);
    }
    res.end();
  });
  attachGraphqlWs(server, yoga as never, services);
  return server;
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

const ANONYMOUS: Caller = { tokenId: '', tokenName: '', projectId: '00000000-0000-0000-0000-000000000000', projectName: '', isAdmin: false };
