import { createRequire } from 'node:module';
import type { DocumentNode, ExecutionArgs, ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { OwnedEvent } from '../../audit/visibility.js';
import type { Context } from '../context.js';
import { LayerSink, PUSH, pushable, type Pushable, type PushSink } from './push.js';

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

type MaybePromise<T> = T | Promise<T>;

export function isPromise<T>(v: MaybePromise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown }).then === 'function';
}

/** The subscription's own results, before yoga's wrappers (error masking); see `directResults`. */
export type DirectResults = Pushable<MaybePromise<ExecutionResult>>;

const rendered = new Map<string, Map<string, MaybePromise<ExecutionResult>>>();

function renderedFor(cursor: string): Map<string, MaybePromise<ExecutionResult>> {
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
 * A class's last rendering: live subscribers of one class take each event one after another, so
 * the one before is the one asked for, found without the lookups of `rendered`. Held by the
 * class's subscriptions, and dropped from here with the last of them.
 */
interface LastRendering {
  cursor: string | null;
  result: MaybePromise<ExecutionResult> | null;
}

const lastRenderings = new Map<string, WeakRef<LastRendering>>();

function lastRenderingOf(cls: string): LastRendering {
  let last = lastRenderings.get(cls)?.deref();
  if (!last) {
    last = { cursor: null, result: null };
    lastRenderings.set(cls, new WeakRef(last));
    // The classes of ended subscriptions go when there are as many of them as of open ones.
    if (lastRenderings.size >= 2 * liveClasses) {
      for (const [k, ref] of lastRenderings) if (!ref.deref()) lastRenderings.delete(k);
      liveClasses = Math.max(64, lastRenderings.size);
    }
  }
  return last;
}
let liveClasses = 64;

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

/** The pushing layer of a shared subscription: each payload rendered (once per class, above). */
class RenderingSink extends LayerSink<unknown, MaybePromise<ExecutionResult>> {
  constructor(
    sink: PushSink<MaybePromise<ExecutionResult>>,
    private readonly resultOf: (payload: unknown) => MaybePromise<ExecutionResult>,
  ) {
    super(sink);
  }

  next(payload: unknown): void {
    let result: MaybePromise<ExecutionResult>;
    try {
      result = this.resultOf(payload);
    } catch (err) {
      // As a failing `next()`: this subscription ends, the feed's other subscribers do not notice.
      result = Promise.reject(err as Error);
    }
    this.sink.next(result);
  }
}

/**
 * Subscriptions execute their selection once per event and class of subscriber (above) rather
 * than once per subscriber: with 1,000 subscribers to one feed each event was executed 1,000
 * times. Otherwise this is graphql-js's own subscribe: the source stream, each payload executed
 * with it as the root value. A request that carries a `direct` slot in its context (SSE, see
 * http/sse.ts) also gets the results unwrapped there, to take them pushed.
 */
export function sharedSubscriptionResults(): Plugin<Context> {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn((async (args: ExecutionArgs) => {
        const source = await createSourceEventStream(args);
        if (!(Symbol.asyncIterator in source)) return source;
        const it = source[Symbol.asyncIterator]();
        const cls = classOf(args);
        const last = lastRenderingOf(cls);
        const render = (payload: unknown): MaybePromise<ExecutionResult> => execute({ ...args, rootValue: payload });
        const renderShared = (payload: unknown): MaybePromise<ExecutionResult> => {
          const r = render(payload);
          return isPromise(r) ? r.then(serialisedOnce) : serialisedOnce(r);
        };
        const resultOf = (payload: unknown): MaybePromise<ExecutionResult> => {
          const cursor = eventKey(payload);
          if (cursor === null) return render(payload);
          if (last.cursor === cursor) return last.result!;
          const byClass = renderedFor(cursor);
          let result = byClass.get(cls);
          if (!result) {
            result = renderShared(payload);
            byClass.set(cls, result);
          }
          last.cursor = cursor;
          last.result = result;
          return result;
        };
        const mapped: AsyncIterableIterator<ExecutionResult> & DirectResults = {
          [Symbol.asyncIterator]: () => mapped,
          async next() {
            const r = await it.next();
            if (r.done) return { done: true, value: undefined };
            return { done: false, value: await resultOf(r.value) };
          },
          async return() {
            await it.return?.();
            return { done: true, value: undefined };
          },
          async throw(e: unknown) {
            await it.return?.();
            throw e;
          },
          [PUSH](sink) {
            const src = pushable<unknown>(it);
            if (!src) return null;
            return src[PUSH](new RenderingSink(sink, resultOf));
          },
        };
        const slot = (args.contextValue as { sse?: { direct?: DirectResults } }).sse;
        if (slot) slot.direct = mapped;
        return mapped;
      }) as never);
    },
  };
}
