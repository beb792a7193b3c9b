import { EventEmitter } from 'node:events';
import type { Sql } from '../db/sql.js';
import type { LogPosition } from './cursor.js';
import type { RecordedEvent } from './types.js';

export const WAKE_CHANNEL = 'nl_wake';

/**
 * What a wake-up says was appended: each event's type and the fields of its data that say where
 * it lands (WAKE_FIELDS), so a follower interested in a few resources can tell, without reading
 * the log, that a change is none of its business (issue 16: a port change wakes the hosts it
 * touches, not every host). Null: unknown, read the log.
 */
export interface WakeEvent {
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
  /** Its log position, `transactionId:globalPosition`: a follower past it has read it already. */
  readonly at?: string;
}
export type WakeEvents = readonly WakeEvent[] | null;

/** The data fields a wake-up carries; `changes` (an update's) carries CHANGE_FIELDS of its own. */
export const WAKE_FIELDS = ['id', 'networkId', 'bindingHost', 'deviceOwner', 'securityGroups'] as const;
export const CHANGE_FIELDS = ['bindingHost', 'securityGroups'] as const;
/** PostgreSQL refuses NOTIFY payloads of 8000 bytes and more: a longer summary goes as unknown. */
const MAX_PAYLOAD = 7900;
/** The payload of the waker's own liveness probe: nothing was appended. */
const PROBE = 'probe';

function pick(from: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) if (from[f] !== undefined) out[f] = from[f];
  return out;
}

export function wakeEvent(e: Pick<RecordedEvent, 'type' | 'data'> & { readonly position?: LogPosition }): WakeEvent {
  const d = e.data !== null && typeof e.data === 'object' ? (e.data as Record<string, unknown>) : {};
  const data = pick(d, WAKE_FIELDS);
  if (d.changes !== null && typeof d.changes === 'object') data.changes = pick(d.changes as Record<string, unknown>, CHANGE_FIELDS);
  return e.position ? { type: e.type, data, at: `${e.position.transactionId}:${e.position.globalPosition}` } : { type: e.type, data };
}

/** A wake-up event's position; null when it has none (or not one we read). */
export function wakePosition(e: WakeEvent): LogPosition | null {
  const m = e.at === undefined ? null : /^(\d{1,20}):(\d{1,20})$/.exec(e.at);
  return m ? { transactionId: BigInt(m[1]!), globalPosition: BigInt(m[2]!) } : null;
}

export function encodeWake(events: WakeEvents): string {
  if (events === null) return '';
  try {
    const text = JSON.stringify(events);
    return Buffer.byteLength(text) < MAX_PAYLOAD ? text : '';
  } catch {
    // Sent after a commit: a summary that cannot be written must not fail the command.
    return '';
  }
}

/** '' (an older sender, a nudge, an oversized summary) and anything unreadable are unknown. */
export function decodeWake(payload: string | undefined): WakeEvents {
  if (payload === PROBE) return [];
  if (!payload) return null;
  try {
    const v: unknown = JSON.parse(payload);
    if (!Array.isArray(v)) return null;
    const ok = v.every(
      (e: unknown) =>
        e !== null && typeof e === 'object' && typeof (e as WakeEvent).type === 'string' && typeof (e as WakeEvent).data === 'object',
    );
    return ok ? (v as WakeEvent[]) : null;
  } catch {
    return null;
  }
}

/**
 * Wakes log followers when something may have been appended. Local appends wake followers in the
 * same process at once; one coalesced NOTIFY, sent after the commit and never inside the append
 * transaction, wakes other processes. Followers also poll, so a lost notification only delays.
 * Each wake-up carries what was appended (WakeEvents) when that fits in a notification.
 */
export class LogWaker {
  private readonly emitter = new EventEmitter();
  private notifyPending = false;
  private unlisten: (() => Promise<void>) | undefined;
  private closed = false;
  private heardAt = 0;
  private probeMs = 5000;
  private probe: NodeJS.Timeout | undefined;
  /** What was appended since the last NOTIFY went out; null: unknown. */
  private unsent: WakeEvent[] | null = [];

  constructor(private readonly sql: Sql) {
    this.emitter.setMaxListeners(0);
  }

  /** Starts listening for other processes' wake-ups, and keeps listening across database outages. */
  async listen(probeMs = 5000): Promise<void> {
    this.probeMs = probeMs;
    await this.subscribe();
    this.probe = setInterval(() => void this.check(probeMs).catch(() => {}), probeMs);
    this.probe.unref();
  }

  private async subscribe(): Promise<void> {
    const heard = (payload: string) => {
      this.heardAt = Date.now();
      this.emitter.emit('wake', decodeWake(payload));
    };
    // (Re)listening: whatever was sent while we were not listening is unknown.
    const listened = () => {
      this.heardAt = Date.now();
      this.emitter.emit('wake', null);
    };
    const sub = await this.sql.listen(WAKE_CHANNEL, heard, listened);
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
    await this.sql.notify(WAKE_CHANNEL, PROBE);
    await this.wait(Math.min(2000, probeMs));
    if (this.closed || this.heardAt >= sent) return;
    await this.unlisten?.().catch(() => {});
    await this.subscribe();
  }

  /**
   * Notifications are known to arrive: listening, and the probe (or anything else) was heard
   * lately. Followers may then poll seldom.
   */
  get listening(): boolean {
    return !this.closed && this.unlisten !== undefined && Date.now() - this.heardAt < 2 * this.probeMs + 2000;
  }

  /** Called after a commit that appended `events` (unknown when not given). */
  appended(events?: readonly Pick<RecordedEvent, 'type' | 'data' | 'position'>[]): void {
    const summary = events ? events.map(wakeEvent) : null;
    this.emitter.emit('wake', summary);
    if (this.closed) return;
    this.unsent = this.unsent === null || summary === null ? null : [...this.unsent, ...summary];
    if (this.notifyPending) return;
    this.notifyPending = true;
    setImmediate(() => {
      this.notifyPending = false;
      const payload = encodeWake(this.unsent);
      this.unsent = [];
      if (this.closed) return;
      this.sql.notify(WAKE_CHANNEL, payload).catch(() => {});
    });
  }

  /** Calls `listener` on every wake-up, with what it says was appended, until the returned function is called. */
  onWake(listener: (events: WakeEvents) => void): () => void {
    this.emitter.on('wake', listener);
    return () => this.emitter.off('wake', listener);
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
    this.emitter.emit('wake', null);
    // The database may be gone already (shutdown during an outage): nothing left to unlisten then.
    await this.unlisten?.().catch(() => {});
  }
}
