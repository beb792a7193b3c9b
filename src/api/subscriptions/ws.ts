import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { YogaServerInstance } from 'graphql-yoga';
import type { Services } from '../../app/services.js';
import { authenticate } from '../../app/tenancy.js';
import { isDatabaseUnavailable } from '../../db/unavailable.js';
import type { Caller } from '../../app/tenancy.js';
import { followerFor, stopFollower } from './followers.js';
import { parseAfter } from './messages.js';

type Yoga = YogaServerInstance<Record<string, unknown>, Record<string, unknown>>;

interface Execution {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
}

/** Close codes this server uses besides graphql-ws's own (4400 bad message, 4403 forbidden, 4408 no connection_init in time). */
export const WS_CLOSE = {
  /** The server is shutting down: resubscribe elsewhere or later with `after:` the last cursor. */
  goingAway: 1001,
  /** A message over NETLEDGER_WS_MAX_MESSAGE_BYTES (ws's own code). */
  tooBig: 1009,
  /** The database is unavailable: try again later. */
  tryAgainLater: 1013,
  /** The connection's token was revoked. */
  tokenRevoked: 4403,
} as const;

export interface GraphqlWs {
  /** Refuses new connections and subscriptions from now on. */
  stopAccepting(): void;
  /** Closes every connection that has no subscription left (1001); answers how many remain. */
  closeIdle(): number;
  /** Ends every connection at once. */
  terminate(): void;
}

/**
 * graphql-ws on the HTTP server's /graphql: the same schema and yoga plugins as HTTP, the caller
 * from connectionParams `authorization` ("Bearer <token>" or the bare token). Messages over the
 * size limit are refused from the frame header, before anything is buffered; a connection that
 * does not authenticate in time is closed (4408); beyond the connection limit an upgrade gets 503,
 * beyond the per-connection subscription limit a subscribe gets a `TooManySubscriptions` error.
 * Closing the server ends every socket and the log follower.
 */
export function attachGraphqlWs(server: http.Server, yoga: Yoga, services: Services): GraphqlWs {
  const config = services.config;
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.NETLEDGER_WS_MAX_MESSAGE_BYTES });
  const callers = new WeakMap<WebSocket, Caller>();
  const subscriptionCount = new WeakMap<WebSocket, () => number>();
  let accepting = true;
  const revocations = new RevocationWatch(services, (tokenId) => {
    for (const socket of wss.clients) {
      if (callers.get(socket)?.tokenId === tokenId) socket.close(WS_CLOSE.tokenRevoked, 'the token was revoked');
    }
  });

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== '/graphql') return refuseUpgrade(socket, 404, 'Not Found');
    if (!accepting) return refuseUpgrade(socket, 503, 'Service Unavailable', 'the server is shutting down');
    if (wss.clients.size >= config.NETLEDGER_WS_MAX_CONNECTIONS) {
      return refuseUpgrade(
        socket,
        503,
        'Service Unavailable',
        `over ${config.NETLEDGER_WS_MAX_CONNECTIONS} WebSocket connections (NETLEDGER_WS_MAX_CONNECTIONS)`,
      );
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  // Registered before graphql-ws's own listener: a client's protocol violation (a frame over the
  // size limit, a malformed frame) is not our error. ws has already closed that connection with
  // the code that says why (1009, 1002); graphql-ws would print it as an internal error with a
  // stack trace, so it is logged here as what it is and goes no further.
  wss.on('connection', (socket: WebSocket) => {
    const emit = socket.emit.bind(socket);
    socket.emit = ((event: string | symbol, ...args: unknown[]) => {
      const err = args[0] as { code?: unknown; message?: unknown } | undefined;
      if (event === 'error' && typeof err?.code === 'string' && err.code.startsWith('WS_ERR_')) {
        services.log.info({ code: err.code, reason: err.message }, 'closed a WebSocket connection that broke the protocol');
        return true;
      }
      return emit(event, ...args);
    }) as typeof socket.emit;
  });

  useServer<Record<string, unknown>>(
    {
      connectionInitWaitTimeout: config.NETLEDGER_WS_AUTH_TIMEOUT_MS,
      execute: (args) => (args.rootValue as Execution).execute(args) as never,
      subscribe: (args) => (args.rootValue as Execution).subscribe(args) as never,
      onConnect: async (ctx) => {
        const socket = ctx.extra.socket;
        const raw = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        const secret = typeof raw === 'string' ? raw.replace(/^Bearer\s+/i, '').trim() : '';
        if (!secret) return false;
        let caller: Caller | null;
        try {
          // Watching before looking up: a revocation that commits after the lookup is seen.
          await revocations.started();
          caller = await authenticate(services.sql, secret);
        } catch (err) {
          if (!isDatabaseUnavailable(err)) throw err;
          socket.close(WS_CLOSE.tryAgainLater, 'the database is unavailable; try again shortly');
          return false;
        }
        if (!caller) return false;
        callers.set(socket, caller);
        subscriptionCount.set(socket, () => Object.keys(ctx.subscriptions).length);
        return true;
      },
      onSubscribe: async (ctx, _id, params) => {
        const caller = callers.get(ctx.extra.socket);
        if (!caller) return [new GraphQLError('missing or invalid token')];
        if (!accepting) return [new GraphQLError('the server is shutting down', { extensions: { code: 'ServiceUnavailable' } })];
        // graphql-ws counts this subscription already.
        if (Object.keys(ctx.subscriptions).length > config.NETLEDGER_WS_MAX_SUBSCRIPTIONS) {
          return [
            new GraphQLError(
              `over ${config.NETLEDGER_WS_MAX_SUBSCRIPTIONS} operations on one connection (NETLEDGER_WS_MAX_SUBSCRIPTIONS)`,
              { extensions: { code: 'TooManySubscriptions' } },
            ),
          ];
        }
        const requestId = randomUUID();
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          req: ctx.extra.request,
          caller,
          requestId,
          correlationId: requestId,
          params,
        });
        const document = parse(params.query);
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        return {
          schema,
          document,
          operationName: params.operationName ?? null,
          variableValues: params.variables ?? null,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe } satisfies Execution,
        };
      },
    },
    wss,
  );
  const close = server.close.bind(server);
  server.close = ((cb?: (err?: Error) => void) => {
    accepting = false;
    revocations.stop();
    stopFollower(services);
    for (const c of wss.clients) c.terminate();
    wss.close();
    return close(cb);
  }) as typeof server.close;
  return {
    stopAccepting: () => {
      accepting = false;
    },
    closeIdle: () => {
      let open = 0;
      for (const c of wss.clients) {
        if ((subscriptionCount.get(c)?.() ?? 0) === 0) c.close(WS_CLOSE.goingAway, 'the server is shutting down');
        else open++;
      }
      return open;
    },
    terminate: () => {
      for (const c of wss.clients) c.terminate();
    },
  };
}

function refuseUpgrade(socket: Duplex, status: number, text: string, message = text): void {
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/**
 * Follows TokenRevoked events in the log for the process, so that a connection authenticated by
 * a token is closed as soon as the token's revocation commits (from this process or another).
 */
class RevocationWatch {
  private starting: Promise<void> | null = null;
  private stopped = false;
  private feed: ReturnType<ReturnType<typeof followerFor>['feed']> | null = null;

  constructor(
    private readonly services: Services,
    private readonly revoked: (tokenId: string) => void,
  ) {}

  started(): Promise<void> {
    this.starting ??= this.follow(undefined).catch((err: unknown) => {
      this.starting = null;
      throw err;
    });
    return this.starting;
  }

  private follow(after: string | null | undefined): Promise<void> {
    const feed = followerFor(this.services).feed({
      after: parseAfter(after),
      maxBuffer: 100_000,
      judge: (e) => (e.event.type === 'TokenRevoked' ? 'deliver' : 'skip'),
    });
    this.feed = feed;
    const ready = feed.start();
    void (async () => {
      await ready;
      for await (const m of feed) {
        if (m.kind === 'event') this.revoked((m.item.event.data as { tokenId: string }).tokenId);
        // Cut off (cannot happen with this buffer and a consumer that never waits): go on from there.
        else if (m.kind === 'lagged' && !this.stopped) void this.follow(m.cursor);
      }
    })().catch((err: unknown) => this.services.log.error({ err }, 'watching token revocations failed'));
    return ready;
  }

  stop(): void {
    this.stopped = true;
    void this.feed?.return?.();
  }
}
