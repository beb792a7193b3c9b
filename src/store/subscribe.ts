import { comparePositions, START, type LogPosition } from './cursor.js';
import type { EventStore } from './event-store.js';
import { wakePosition, type LogWaker, type WakeEvent } from './log-waker.js';
import type { RecordedEvent } from './types.js';

export interface SubscribeOptions {
  readonly after?: LogPosition;
  readonly batchSize?: number;
  /** Longest wait between reads when nobody wakes us. */
  readonly pollMs?: number;
  /**
   * Longest wait between reads while notifications are known to arrive (the waker hears them):
   * the poll then only covers a notification lost on the way. Default: pollMs.
   */
  readonly idlePollMs?: number;
  /**
   * Whether a wake-up that says what was appended calls for a read now. The events it judges not
   * are read at the next poll or the next wake-up that does (default: every wake-up does).
   */
  readonly wakesFor?: (events: readonly WakeEvent[]) => boolean;
  readonly signal?: AbortSignal;
}

/** Reads after a wake-up that said nothing of what was appended, while they find nothing. */
const UNKNOWN_RETRIES = 3;

/**
 * Catches up from the log, then follows it. Reads always go through `readAll`, so the catch-up
 * and the live part are one sequence: no gap and no duplicate at the switch.
 */
export async function* subscribe(store: EventStore, waker: LogWaker, options: SubscribeOptions = {}): AsyncGenerator<RecordedEvent> {
  let position = options.after ?? START;
  const batch = options.batchSize ?? 500;
  const poll = options.pollMs ?? 500;
  const idle = options.idlePollMs ?? poll;
  const signal = options.signal;
  // A wake-up that came while we read or yielded is not lost: the next wait returns at once.
  let woken = false;
  let wake: (() => void) | null = null;
  // The newest position a wake-up announced and no read has reached yet: a read that does not
  // reach it met an older transaction still in flight (readAll's horizon), so look again soon.
  let pending: LogPosition | null = null;
  // Reads left after a wake-up that said nothing of what was appended and found nothing.
  let unknown = 0;
  const off = waker.onWake((events) => {
    if (events === null) unknown = UNKNOWN_RETRIES;
    else {
      // Events already read (our own append heard twice, one read that found several) wake nobody.
      const fresh = events.filter((e) => {
        const at = wakePosition(e);
        return at === null || comparePositions(at, position) > 0;
      });
      if (fresh.length === 0 || (options.wakesFor && !options.wakesFor(fresh))) return;
      for (const e of fresh) {
        const at = wakePosition(e);
        if (at === null) unknown = UNKNOWN_RETRIES;
        else if (pending === null || comparePositions(at, pending) > 0) pending = at;
      }
    }
    woken = true;
    wake?.();
  });
  const sleep = (ms: number) =>
    new Promise<boolean>((resolve) => {
      const finish = (w: boolean) => {
        clearTimeout(timer);
        wake = null;
        signal?.removeEventListener('abort', onAbort);
        resolve(w);
      };
      const onAbort = () => finish(false);
      const timer = setTimeout(() => finish(false), ms);
      wake = () => finish(true);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  try {
    let retry = 0;
    while (!signal?.aborted) {
      woken = false;
      const events = await store.readAll(position, batch);
      for (const e of events) {
        if (signal?.aborted) return;
        yield e;
        position = e.position;
      }
      if (events.length === batch) continue;
      if (pending !== null && comparePositions(position, pending) >= 0) pending = null;
      if (events.length > 0) {
        retry = 0;
        unknown = 0;
      }
      const quiet = waker.listening ? idle : poll;
      let waitMs = quiet;
      // Backing off: 5, 10, 20 ms... up to a quiet wait.
      if (pending !== null || unknown > 0) {
        if (pending === null) unknown -= 1;
        waitMs = Math.min(5 * 2 ** retry, quiet);
        retry += 1;
      } else retry = 0;
      if (!woken) await sleep(waitMs);
    }
  } finally {
    off();
  }
}
