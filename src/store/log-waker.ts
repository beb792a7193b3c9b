import { EventEmitter } from 'node:events';
import type { Sql } from '../db/sql.js';

export const WAKE_CHANNEL = 'nl_wake';

/**
 * Wakes log followers when something may have been appended. Local appends wake followers in the
 * same process at once; one coalesced NOTIFY, sent after the commit and never inside the append
 * transaction, wakes other processes. Followers also poll, so a lost notification only delays.
 */
export class LogWaker {
  private readonly emitter = new EventEmitter();
  private notifyPending = false;
  private unlisten: (() => Promise<void>) | undefined;
  private closed = false;

  constructor(private readonly sql: Sql) {
    this.emitter.setMaxListeners(0);
  }

  /** Starts listening for other processes' wake-ups. */
  async listen(): Promise<void> {
    const sub = await this.sql.listen(WAKE_CHANNEL, () => this.emitter.emit('wake'), () => this.emitter.emit('wake'));
    this.unlisten = () => sub.unlisten();
  }

  /** Called after a commit that appended events. */
  appended(): void {
    this.emitter.emit('wake');
    if (this.notifyPending || this.closed) return;
    this.notifyPending = true;
    setImmediate(() => {
      this.notifyPending = false;
      if (this.closed) return;
      this.sql.notify(WAKE_CHANNEL, '').catch(() => {});
    });
  }

  /** Resolves true on the next wake-up, false after `ms` or on abort, whichever is first. */
  wait(ms: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const finish = (woken: boolean) => {
        clearTimeout(timer);
        this.emitter.off('wake', onWake);
        signal?.removeEventListener('abort', onAbort);
        resolve(woken);
      };
      const onWake = () => finish(true);
      const onAbort = () => finish(false);
      const timer = setTimeout(() => finish(false), ms);
      this.emitter.on('wake', onWake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.emitter.emit('wake');
    await this.unlisten?.();
  }
}
