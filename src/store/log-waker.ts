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
  private heardAt = 0;
  private probe: NodeJS.Timeout | undefined;

  constructor(private readonly sql: Sql) {
    this.emitter.setMaxListeners(0);
  }

  /** Starts listening for other processes' wake-ups, and keeps listening across database outages. */
  async listen(probeMs = 5000): Promise<void> {
    await this.subscribe();
    this.probe = setInterval(() => void this.check(probeMs).catch(() => {}), probeMs);
    this.probe.unref();
  }

  private async subscribe(): Promise<void> {
    const heard = () => {
      this.heardAt = Date.now();
      this.emitter.emit('wake');
    };
    const sub = await this.sql.listen(WAKE_CHANNEL, heard, heard);
    this.unlisten = () => sub.unlisten();
  }

  /**
   * postgres.js re-issues LISTEN when its connection closes, but gives up for good if the database
   * is still down at that moment. So when nothing was heard for a while, send ourselves a NOTIFY;
   * if it does not come back, listen afresh (polling covers the time in between).
   */
  private async check(probeMs: number): Promise<void> {
    if (this.closed || Date.now() - this.heardAt < probeMs) return;
    const sent = Date.now();
    await this.sql.notify(WAKE_CHANNEL, 'probe');
    await this.wait(Math.min(2000, probeMs));
    if (this.closed || this.heardAt >= sent) return;
    await this.unlisten?.().catch(() => {});
    await this.subscribe();
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
    clearInterval(this.probe);
    this.emitter.emit('wake');
    // The database may be gone already (shutdown during an outage): nothing left to unlisten then.
    await this.unlisten?.().catch(() => {});
  }
}
