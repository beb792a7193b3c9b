import { GraphQLError } from 'graphql';
import { decodeCursor, type LogPosition } from '../../store/cursor.js';
import type { OwnedEvent } from '../../audit/visibility.js';
import type { FeedMessage } from './log-follower.js';
import { LayerSink, PUSH, pushable, type Pushable, type PushSink } from './push.js';

/** The last message of a subscription the server ends: why, and where to resume. */
export interface CutOff {
  readonly __typename: 'SubscriptionCutOff';
  readonly reason: 'LAGGED' | 'ENDED';
  readonly cursor: string | null;
  readonly message: string;
}

export function cutOffOf(m: Exclude<FeedMessage, { kind: 'event' }>): CutOff {
  return m.kind === 'lagged'
    ? {
        __typename: 'SubscriptionCutOff',
        reason: 'LAGGED',
        cursor: m.cursor,
        message: `fell more than ${m.buffered} events behind; resubscribe with after: lastCursor`,
      }
    : { __typename: 'SubscriptionCutOff', reason: 'ENDED', cursor: m.cursor, message: m.reason };
}

export function parseAfter(after: string | null | undefined): LogPosition | undefined {
  if (after == null || after === '') return undefined;
  try {
    return decodeCursor(after);
  } catch (e) {
    throw new GraphQLError((e as Error).message, { extensions: { code: 'InvalidCursor' } });
  }
}

/**
 * Maps a feed's events to zero or more payloads each (in order, one event at a time), passing
 * the cut-off message through. Not an async generator: `return()` must end a consumer that is
 * waiting for an event at once, not after the next one arrives. A synchronous `map` (`sync`) lets
 * the result push (push.ts) when its source does.
 */
export function mapFeed<T>(
  source: AsyncIterableIterator<FeedMessage>,
  map: (e: OwnedEvent) => Promise<readonly T[]> | readonly T[],
  options: { sync?: boolean } = {},
): AsyncIterableIterator<T | CutOff> & Pushable<T | CutOff> {
  const pending: (T | CutOff)[] = [];
  let done = false;
  const it: AsyncIterableIterator<T | CutOff> & Pushable<T | CutOff> = {
    [Symbol.asyncIterator]: () => it,
    async next() {
      for (;;) {
        const p = pending.shift();
        if (p !== undefined) return { done: false, value: p };
        if (done) return { done: true, value: undefined };
        const r = await source.next();
        if (r.done) {
          done = true;
          continue;
        }
        if (r.value.kind === 'event') pending.push(...(await map(r.value.item)));
        else pending.push(cutOffOf(r.value));
      }
    },
    async return() {
      done = true;
      pending.length = 0;
      await source.return?.();
      return { done: true, value: undefined };
    },
    [PUSH](sink) {
      const src = pushable<FeedMessage>(source);
      if (!options.sync || !src) return null;
      return src[PUSH](new MappedSink(sink, map as (e: OwnedEvent) => readonly T[]));
    },
  };
  return it;
}

/** mapFeed's pushing layer: each event mapped to what the subscription sends, a cut-off as its final message. */
class MappedSink<T> extends LayerSink<FeedMessage, T | CutOff> {
  constructor(
    sink: PushSink<T | CutOff>,
    private readonly map: (e: OwnedEvent) => readonly T[],
  ) {
    super(sink);
  }

  next(m: FeedMessage): void {
    if (m.kind !== 'event') return this.sink.next(cutOffOf(m));
    for (const x of this.map(m.item)) this.sink.next(x);
  }
}
