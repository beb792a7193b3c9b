import { getOperationAST, type ExecutionArgs, type GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** What one HTTP request came to; filled in as it is served, logged and counted when it ends. */
export interface RequestTrace {
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  project?: string;
  /** The GraphQL operation's name ('' when anonymous); unset outside GraphQL. */
  operation?: string;
  /** query, mutation or subscription. */
  type?: string;
  /** The code of each GraphQL error answered. */
  readonly errorCodes: string[];
}

function noteOperation(args: ExecutionArgs): void {
  const trace = (args.contextValue as { trace?: RequestTrace }).trace;
  if (!trace) return;
  const op = getOperationAST(args.document, args.operationName);
  trace.operation = op?.name?.value ?? args.operationName ?? '';
  if (op) trace.type = op.operation;
}

function noteErrors(trace: RequestTrace | undefined, errors: readonly GraphQLError[] | undefined): void {
  for (const e of errors ?? []) {
    const code = e.extensions?.code;
    trace?.errorCodes.push(typeof code === 'string' ? code : 'UNCODED');
  }
}

/** Records each request's operation and error codes into the `trace` of its server context. */
export function requestTracePlugin(): Plugin<{ trace?: RequestTrace }> {
  return {
    onParams({ params, context }) {
      // Before parsing, so a request that fails to parse or validate still has its name.
      const trace = (context as { trace?: RequestTrace }).trace;
      if (trace) trace.operation = params.operationName ?? '';
    },
    onExecute({ args }) {
      noteOperation(args);
    },
    onSubscribe({ args }) {
      noteOperation(args);
    },
    onResultProcess({ result, serverContext }) {
      const trace = (serverContext as { trace?: RequestTrace }).trace;
      if (Symbol.asyncIterator in result) return;
      for (const r of Array.isArray(result) ? result : [result]) noteErrors(trace, r.errors);
    },
  };
}
