import { createRequire } from 'node:module';
import type { DocumentNode, ExecutionArgs, ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { OwnedEvent } from '../../audit/visibility.js';
import type { Context } from '../context.js';

// graphql's CommonJS build, the one yoga and Pothos load: under a bundler's resolution (vitest)
// an ESM import may load its .mjs twin, whose execute refuses a schema built by the other.
const { createSourceEventStream, execute } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

/** How many recent events keep their rendered results (one per class each, so memory grows with distinct projects subscribed); subscribers that lag further render their own. */
const EVENTS_KEPT = 64;

const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 1;

/**
 * Which subscribers may share one rendering of an event: the same parsed document (yoga caches
 * parsed documents, so equal query texts are one object), operation and variables, and the same
 * project and admin flag, which is all a resolver may learn of its caller. The feed has already
 * decided, per subscriber, whether the event reaches it at all (visibility, filter, revocation);
 * sharing only saves executing the selection again for the next subscriber it reaches.
 */
function classOf(args: ExecutionArgs): string {
  let id = documentIds.get(args.document);
  if (id === undefined) {
    id = nextDocumentId++;
    documentIds.set(args.document, id);
  }
  const caller = (args.contextValue as Context).caller;
  return JSON.stringify([id, args.operationName ?? null, args.variableValues ?? {}, caller.projectId, caller.isAdmin]);
}

/** A log event's cursor names it; anything else (a cut-off, a resource change) is rendered per subscriber. */
function eventKey(payload: unknown): string | null {
  const e = payload as Partial<OwnedEvent> | null;
  return e && typeof e === 'object' && e.event && typeof e.event.cursor === 'string' && e.owner ? e.event.cursor : null;
}

const rendered = new Map<string, Map<string, Promise<ExecutionResult>>>();

function renderedFor(cursor: string): Map<string, Promise<ExecutionResult>> {
  let byClass = rendered.get(cursor);
  if (!byClass) {
    byClass = new Map();
    rendered.set(cursor, byClass);
    // Map keeps insertion order: the first key is the oldest event.
    if (rendered.size > EVENTS_KEPT) rendered.delete(rendered.keys().next().value!);
  }
  return byClass;
}

/**
 * Gives a shared result the serialiser yoga's SSE and multipart writers look for (`stringify`), so
 * its JSON is built once however many subscribers it goes to. Anything else handed to it (yoga
 * copies a result to strip internals from its errors) is serialised as usual.
 */
function serialisedOnce(result: ExecutionResult): ExecutionResult {
  let json: string | undefined;
  const stringify = (r: unknown) => (r === result ? (json ??= JSON.stringify(result)) : JSON.stringify(r));
  // Not enumerable: it is no field of the result, and a copy must not carry it.
  Object.defineProperty(result, 'stringify', { value: stringify });
  return result;
}

/**
 * Subscriptions execute their selection once per event and class of subscriber (above) rather
 * than once per subscriber: with 1,000 subscribers to one feed each event was executed 1,000
 * times. Otherwise this is graphql-js's own subscribe: the source stream, each payload executed
 * with it as the root value.
 */
export function sharedSubscriptionResults(): Plugin<Context> {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn((async (args: ExecutionArgs) => {
        const source = await createSourceEventStream(args);
        if (!(Symbol.asyncIterator in source)) return source;
        const it = source[Symbol.asyncIterator]();
        const cls = classOf(args);
        const render = (payload: unknown): Promise<ExecutionResult> => Promise.resolve(execute({ ...args, rootValue: payload }));
        const renderShared = (payload: unknown): Promise<ExecutionResult> => render(payload).then(serialisedOnce);
        const mapped: AsyncIterableIterator<ExecutionResult> = {
          [Symbol.asyncIterator]: () => mapped,
          async next() {
            const r = await it.next();
            if (r.done) return { done: true, value: undefined };
            const cursor = eventKey(r.value);
            if (cursor === null) return { done: false, value: await render(r.value) };
            const byClass = renderedFor(cursor);
            let result = byClass.get(cls);
            if (!result) {
              result = renderShared(r.value);
              byClass.set(cls, result);
            }
            return { done: false, value: await result };
          },
          async return() {
            await it.return?.();
            return { done: true, value: undefined };
          },
          async throw(e: unknown) {
            await it.return?.();
            throw e;
          },
        };
        return mapped;
      }) as never);
    },
  };
}
