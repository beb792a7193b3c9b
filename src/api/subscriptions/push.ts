/**
 * Push delivery: a subscription's layers (the follower's feed, the message mapping, the shared
 * rendering) hand each item straight to the next instead of each being pulled through a chain of
 * promises per subscriber. With a thousand subscribers that chain was most of the server's work.
 * A source that cannot push (an async mapping, say) is pulled as before.
 */
export const PUSH = Symbol('netledger.push');

export interface PushSink<T> {
  /** Whether it takes more now; while false the source holds items back, as for a slow reader. */
  readonly ready: boolean;
  next(item: T): void;
  /** The source has ended; nothing follows. */
  end(): void;
  /** The source failed; nothing follows. */
  error(err: unknown): void;
}

/**
 * A layer between a source and the next sink: `ready`, `end` and `error` pass through, `next` is
 * the layer's own. A class, not an object literal per subscription: the feed asks every sink
 * whether it is `ready` on each event, and one shape of sink keeps that call cheap.
 */
export abstract class LayerSink<In, Out> implements PushSink<In> {
  constructor(protected readonly sink: PushSink<Out>) {}

  get ready(): boolean {
    return this.sink.ready;
  }

  abstract next(item: In): void;

  end(): void {
    this.sink.end();
  }

  error(err: unknown): void {
    this.sink.error(err);
  }
}

export interface PushControl {
  /** The sink is ready again: hand it what was held back. */
  resume(): void;
  /** The consumer has gone: end the source. */
  cancel(): void;
}

export interface Pushable<T> {
  /** Starts pushing to `sink`, or answers null when this source cannot; once pushing, do not iterate it too. */
  [PUSH](sink: PushSink<T>): PushControl | null;
}

export function pushable<T>(source: unknown): Pushable<T> | null {
  return typeof source === 'object' && source !== null && PUSH in source ? (source as Pushable<T>) : null;
}
