import { START, type LogPosition } from './cursor.js';
import type { EventStore } from './event-store.js';
import type { LogWaker } from './log-waker.js';
import type { RecordedEvent } from './types.js';

export interface SubscribeOptions {
  readonly after?: LogPosition;
  readonly batchSize?: number;
  /** Longest wait between reads when nobody wakes us. */
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Catches up from the log, then follows it. Reads always go through `readAll`, so the catch-up
 * and the live part are one sequence: no gap and no duplicate at the switch.
 */
export async function* subscribe(store: EventStore, waker: LogWaker, options: SubscribeOptions = {}): AsyncGenerator<RecordedEvent> {
  let position = options.after ?? START;
  const batch = options.batchSize ?? 500;
  const poll = options.pollMs ?? 500;
  // After a wake-up that found nothing (an older transaction still holds xmin back), look again
  // soon, backing off, instead of waiting a whole poll period.
  let retry = 0;
  while (!options.signal?.aborted) {
    const events = await store.readAll(position, batch);
    for (const e of events) {
      if (options.signal?.aborted) return;
      yield e;
      position = e.position;
    }
    if (events.length === batch) continue;
    if (events.length > 0) retry = 0;
    const waitMs = retry > 0 ? Math.min(5 * 2 ** (retry - 1), poll) : poll;
    const woken = await waker.wait(waitMs, options.signal);
    retry = woken ? 1 : retry > 0 ? retry + 1 : 0;
  }
}
