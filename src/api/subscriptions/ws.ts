import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { YogaServerInstance } from 'graphql-yoga';
import type { Services } from '../../app/services.js';
import { authenticate } from '../../app/tenancy.js';
import type { Caller } from '../context.js';
import { stopFollower } from './followers.js';

type Yoga = YogaServerInstance<Record<string, unknown>, Record<string, unknown>>;

interface Execution {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
}

/**
 * graphql-ws on the HTTP server's /graphql: the same schema and yoga plugins as HTTP, the caller
 * from connectionParams `authorization` ("Bearer <token>" or the bare token). Closing the server
 * ends every socket and the log follower.
 */
export function attachGraphqlWs(server: http.Server, yoga: Yoga, services: Services): void {
  const wss = new WebSocketServer({ server, path: '/graphql' });
  const callers = new WeakMap<object, Caller>();
  useServer<Record<string, unknown>>(
    {
      execute: (args) => (args.rootValue as Execution).execute(args) as never,
      subscribe: (args) => (args.rootValue as Execution).subscribe(args) as never,
      onConnect: async (ctx) => {
        const raw = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        const secret = typeof raw === 'string' ? raw.replace(/^Bearer\s+/i, '').trim() : '';
        const caller = secret ? await authenticate(services.sql, secret) : null;
        if (!caller) return false;
        callers.set(ctx.extra.socket, caller);
        return true;
      },
      onSubscribe: async (ctx, _id, params) => {
        const caller = callers.get(ctx.extra.socket);
        if (!caller) return [new GraphQLError('missing or invalid token')];
        const requestId = randomUUID();
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          req: ctx.extra.request, caller, requestId, correlationId: requestId, params,
        });
        const document = parse(params.query);
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        return {
          schema, document, operationName: params.operationName ?? null, variableValues: params.variables ?? null,
          contextValue: await contextFactory(), rootValue: { execute, subscribe } satisfies Execution,
        };
      },
    },
    wss,
  );
  const close = server.close.bind(server);
  server.close = ((cb?: (err?: Error) => void) => {
    stopFollower(services);
    for (const c of wss.clients) c.terminate();
    wss.close();
    return close(cb);
  }) as typeof server.close;
}
