import type { Logger } from '../../log.js';
import type { Sql } from '../../db/sql.js';
import { comparePositions, encodeCursor, START, type LogPosition } from '../../store/cursor.js';
import type { EventStore } from '../../store/event-store.js';
import type { LogWaker } from '../../store/log-waker.js';
import { subscribe } from '../../store/subscribe.js';
import { visibleHead } from '../../audit/log-rows.js';
import { StreamOwners, type OwnedEvent } from '../../audit/visibility.js';
import { isDatabaseUnavailable } from '../../db/unavailable.js';
import { PUSH, type Pushable, type PushControl, type PushSink } from './push.js';

/** What a subscriber's predicate answers per event: pass it on, skip it, or end the stream. */
export type Verdict = 'deliver' | 'skip' | 'end';

export type FeedMessage =
  | { readonly kind: 'event'; readonly item: OwnedEvent }
  /** The consumer fell too far behind: resume from `cursor` (everything up to it was delivered). */
  | { readonly kind: 'lagged'; readonly cursor: string | null; readonly buffered: number }
  /** The predicate ended the stream (e.g. the caller's token was revoked). */
  | { readonly kind: 'ended'; readonly cursor: string | null; readonly reason: string };

export interface FeedOptions {
  /** Replay from the log after this position first; live only when absent. */
  readonly after?: LogPosition;
  readonly judge: (e: OwnedEvent) => Verdict | { end: string };
  /**
   * The part of the verdict that every feed with the same `key` shares (who may see the event,
   * what the subscription's filter takes), asked once per live event and key instead of once per
   * feed: an event `judge` would deliver is skipped unless it `passes`. `judge` then keeps only
   * what is the feed's own (its token's revocation).
   */
  readonly shared?: { readonly key: string; readonly passes: (e: OwnedEvent) => boolean };
  /** Most events held for a slow consumer before it is cut off. */
  readonly maxBuffer?: number;
  readonly catchUpBatch?: number;
}

const RING_SIZE = 10_000;
/**
 * Longest the follower hands events out without yielding: a batch read while the fan-out was busy
 * is published a slice at a time, so the flushes, the sockets and the next wake-up get their turn.
 */
const SLICE_MS = 10;

/**
 * One per process: tails the log once (`subscribe`, which reads one ordered, gap-free sequence)
 * and fans each event out to every live subscriber, so N subscribers cost one read per commit
 * instead of N. A subscriber with an older `after` replays from the database at its own pace until
 * it reaches the follower, then joins it in the same tick (no gap); anything the follower then
 * hands it at or before its position is dropped (no duplicate). A ring of recent events serves
 * reconnects without touching the database.
 */
export class LogFollower {
  private position: LogPosition = START;
  private readonly ring: OwnedEvent[] = [];
  /** The ring holds every event after this position. */
  private ringBase: LogPosition = START;
  /** Feeds that have joined the live fan-out. */
  private readonly feeds = new Set<Feed>();
  /** Every open feed, live or still catching up: all get the last word at shutdown. */
  private readonly members = new Set<Feed>();
  private readonly abort = new AbortController();
  private readonly owners: StreamOwners;
  readonly ready: Promise<void>;
  private stopped = false;
  /** The shared verdicts (FeedOptions.shared) of open feeds, by key. */
  private readonly verdicts = new Map<string, SharedVerdict>();

  constructor(
    private readonly sql: Sql,
    private readonly store: EventStore,
    private readonly waker: LogWaker,
    private readonly log?: Logger,
  ) {
    this.owners = new StreamOwners(sql);
    this.ready = this.start();
    // Feeds await `ready` and see its failure; nobody else needs to.
    this.ready.catch(() => {});
  }

  get subscriberCount(): number {
    return this.feeds.size;
  }

  /** The last position every subscriber has been offered. */
  get head(): LogPosition {
    return this.position;
  }

  annotate(events: Parameters<StreamOwners['annotate']>[0]): Promise<OwnedEvent[]> {
    return this.owners.annotate(events);
  }

  private async start(): Promise<void> {
    // A follower stopped as soon as it is made (a shutdown before any subscription) asks nothing.
    await null;
    // Started while the database is away: wait for it rather than fail every subscriber for good.
    for (let failures = 0; !this.stopped; failures++) {
      try {
        this.position = (await visibleHead(this.sql)) ?? START;
        break;
      } catch (err) {
        if (!isDatabaseUnavailable(err)) throw err;
        await this.backOff(err, failures);
      }
    }
    this.ringBase = this.position;
    void this.run();
  }

  private async run(): Promise<void> {
    for (let failures = 0; !this.stopped;) {
      try {
        let slice = performance.now();
        for await (const e of subscribe(this.store, this.waker, { after: this.position, signal: this.abort.signal, pollMs: 1000 })) {
          const [owned] = await this.owners.annotate([e]);
          this.publish(owned!);
          failures = 0;
          if (performance.now() - slice > SLICE_MS) {
            await new Promise((r) => setImmediate(r));
            slice = performance.now();
          }
        }
      } catch (err) {
        // The pool was ended under us: the process is shutting down.
        if (this.stopped || (err as { code?: string }).code === 'CONNECTION_ENDED') return;
        // Resumes from `position`, the last event published: nothing skipped, nothing repeated.
        await this.backOff(err, failures++);
      }
    }
  }

  /** Waits before the next try; an outage is logged once, not on every retry. */
  private async backOff(err: unknown, failures: number): Promise<void> {
    if (failures === 0) this.log?.warn({ err }, 'log follower failed; retrying');
    else this.log?.debug({ err, failures }, 'log follower still failing');
    await new Promise((r) => setTimeout(r, Math.min(2000, 250 * 2 ** failures)));
  }

  private publish(e: OwnedEvent): void {
    this.position = e.event.position;
    this.ring.push(e);
    if (this.ring.length > RING_SIZE) this.ringBase = this.ring.shift()!.event.position;
    // One message for every feed it reaches, not one each.
    const m: FeedMessage = { kind: 'event', item: e };
    for (const f of this.feeds) f.offer(e, m);
  }

  /** The verdict a new feed shares with the open feeds of the same key. */
  sharedVerdict(shared: NonNullable<FeedOptions['shared']>): SharedVerdict {
    let v = this.verdicts.get(shared.key);
    if (!v) this.verdicts.set(shared.key, (v = new SharedVerdict(shared.passes)));
    v.feeds += 1;
    return v;
  }

  /** A subscriber's feed; iterate it, and `return()` it to leave. */
  feed(options: FeedOptions): FeedIterator {
    const feed = new Feed(this, options);
    if (this.stopped) feed.close();
    else this.members.add(feed);
    return feed;
  }

  /** Joins a feed to the live fan-out at `at`, handing it the ring's events after `at` first. */
  join(feed: Feed, at: LogPosition): boolean {
    if (comparePositions(at, this.ringBase) < 0) return false;
    for (const e of this.ring) if (comparePositions(e.event.position, at) > 0) feed.offer(e);
    this.feeds.add(feed);
    return true;
  }

  leave(feed: Feed): void {
    this.feeds.delete(feed);
  }

  closed(feed: Feed, shared: { key: string } | undefined): void {
    this.feeds.delete(feed);
    this.members.delete(feed);
    const v = shared && this.verdicts.get(shared.key);
    if (v && --v.feeds === 0) this.verdicts.delete(shared.key);
  }

  /** Reads a catch-up batch from the log, with owners. */
  async readAfter(after: LogPosition, limit: number): Promise<OwnedEvent[]> {
    return this.owners.annotate(await this.store.readAll(after, limit));
  }

  waitForMore(ms: number): Promise<boolean> {
    return this.waker.wait(ms, this.abort.signal);
  }

  /**
   * Ends every feed. With a `reason` (a shutdown), each subscriber gets a last `ended` message
   * with the cursor to resume from, after everything delivered so far; without, feeds just end.
   */
  stop(reason?: string): void {
    this.stopped = true;
    this.abort.abort();
    for (const f of [...this.members]) {
      if (reason) f.end(reason);
      else f.close();
    }
    this.feeds.clear();
  }
}

/** One key's shared verdict: the answer for the last event asked about, which every feed of the key asks about in turn. */
class SharedVerdict {
  feeds = 0;
  private event: OwnedEvent | null = null;
  private answer = false;

  constructor(private readonly passes: (e: OwnedEvent) => boolean) {}

  of(e: OwnedEvent): boolean {
    if (e !== this.event) {
      this.answer = this.passes(e);
      this.event = e;
    }
    return this.answer;
  }
}

export interface FeedIterator extends AsyncIterableIterator<FeedMessage>, Pushable<FeedMessage> {
  /** Resolves once the feed has its starting position (the live head when no `after`). */
  start(): Promise<void>;
}

class Feed implements FeedIterator {
  private readonly queue: FeedMessage[] = [];
  /** Highest position offered or read: the duplicate fence. */
  private seen: LogPosition;
  /** Everything up to here has been delivered or skipped: where a cut-off consumer resumes. */
  private resume: LogPosition;
  private live = false;
  private done = false;
  private final: FeedMessage | null = null;
  private wake: (() => void) | null = null;
  private readonly maxBuffer: number;
  private started: Promise<void> | null = null;
  /** Push mode: messages go to this sink as they come instead of waiting for `next()`. */
  private sink: PushSink<FeedMessage> | null = null;
  private sinkEnded = false;
  private readonly shared: SharedVerdict | null;

  constructor(
    private readonly follower: LogFollower,
    private readonly options: FeedOptions,
  ) {
    this.shared = options.shared ? follower.sharedVerdict(options.shared) : null;
    this.maxBuffer = options.maxBuffer ?? 1000;
    this.seen = options.after ?? START;
    this.resume = this.seen;
  }

  start(): Promise<void> {
    this.started ??= this.follower.ready.then(() => {
      if (this.options.after !== undefined || this.done) return;
      this.seen = this.resume = this.follower.head;
      this.goLive();
    });
    return this.started;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private goLive(): boolean {
    if (!this.follower.join(this, this.seen)) return false;
    this.live = true;
    return true;
  }

  /** From the follower (live) or the catch-up reader: in log order, possibly repeated. */
  offer(e: OwnedEvent, message?: FeedMessage): void {
    if (this.done || this.final || comparePositions(e.event.position, this.seen) <= 0) return;
    this.seen = e.event.position;
    let verdict = this.options.judge(e);
    if (verdict === 'deliver' && this.shared && !this.shared.of(e)) verdict = 'skip';
    if (verdict === 'skip') {
      if (this.queue.length === 0) this.resume = e.event.position;
    } else if (verdict === 'deliver') {
      if (this.live && this.queue.length >= this.maxBuffer) {
        this.finish({ kind: 'lagged', cursor: this.cursorOf(this.resume), buffered: this.queue.length });
        return;
      }
      this.queue.push(message ?? { kind: 'event', item: e });
    } else {
      this.finish({ kind: 'ended', cursor: this.cursorOf(this.resume), reason: verdict === 'end' ? 'ended' : verdict.end });
      return;
    }
    this.wakeUp();
  }

  private cursorOf(p: LogPosition): string | null {
    return p.transactionId === 0n && p.globalPosition === 0n ? null : encodeCursor(p);
  }

  /** The server ends the feed: what is queued is still delivered, then `ended` with the cursor after it. */
  end(reason: string): void {
    if (this.done || this.final) return;
    this.follower.leave(this);
    const last = this.queue.findLast((m) => m.kind === 'event');
    const cursor = last?.kind === 'event' ? last.item.event.position : this.resume;
    this.final = { kind: 'ended', cursor: this.cursorOf(cursor), reason };
    this.wakeUp();
  }

  /** Cut off: what is queued is dropped, the consumer gets `message` next and then the end. */
  private finish(message: FeedMessage): void {
    this.queue.length = 0;
    this.final = message;
    this.follower.leave(this);
    this.wakeUp();
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
    if (this.sink) this.pump();
  }

  [PUSH](sink: PushSink<FeedMessage>): PushControl {
    this.sink = sink;
    this.pushLoop().catch((err: unknown) => {
      if (this.sinkEnded) return;
      this.sinkEnded = true;
      this.close();
      sink.error(err);
    });
    return { resume: () => this.wakeUp(), cancel: () => this.close() };
  }

  /** Push mode's `next()`: catches up from the log until live; live messages are pumped as offered. */
  private async pushLoop(): Promise<void> {
    await this.start();
    for (;;) {
      this.pump();
      if (this.done || this.live) return;
      // Held back (the sink is full) or ending: wait to be woken.
      if (this.queue.length > 0 || this.final) {
        await new Promise<void>((r) => (this.wake = r));
        continue;
      }
      try {
        await this.catchUp();
      } catch (err) {
        if (!isDatabaseUnavailable(err) || this.done) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Hands the sink what is queued, in order, as far as it takes it; as `next()` would, one by one. */
  private pump(): void {
    const sink = this.sink!;
    // The queue is looked at before the sink is asked whether it is ready: the asking goes
    // through every layer of the subscription, and most pumps hand over one event.
    while (!this.done && (this.queue.length > 0 || this.final) && sink.ready) {
      const m = this.queue.shift();
      if (m) {
        if (m.kind === 'event') this.resume = m.item.event.position;
        sink.next(m);
        continue;
      }
      if (this.final) {
        const f = this.final;
        this.sinkEnded = true;
        this.close();
        sink.next(f);
        sink.end();
      }
      return;
    }
    if (this.done && !this.sinkEnded) {
      this.sinkEnded = true;
      sink.end();
    }
  }

  async next(): Promise<IteratorResult<FeedMessage>> {
    await this.start();
    for (;;) {
      if (this.done) return { done: true, value: undefined };
      const m = this.queue.shift();
      if (m) {
        if (m.kind === 'event') this.resume = m.item.event.position;
        return { done: false, value: m };
      }
      if (this.final) {
        const f = this.final;
        this.close();
        return { done: false, value: f };
      }
      if (!this.live) {
        try {
          await this.catchUp();
        } catch (err) {
          // The database is away: keep the place and try again, the subscriber just waits.
          if (!isDatabaseUnavailable(err) || this.done) throw err;
          await new Promise((r) => setTimeout(r, 500));
        }
        continue;
      }
      await new Promise<void>((r) => (this.wake = r));
    }
  }

  /** One catch-up step: join the follower if it is within reach, else read a batch from the log. */
  private async catchUp(): Promise<void> {
    if (this.goLive()) return;
    const batch = await this.follower.readAfter(this.seen, this.options.catchUpBatch ?? 500);
    if (this.done) return;
    for (const e of batch) this.offer(e);
    // Nothing newer visible yet though the follower is ahead (it cannot be, but do not spin).
    if (batch.length === 0) await this.follower.waitForMore(50);
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.queue.length = 0;
    this.follower.closed(this, this.options.shared);
    this.wakeUp();
  }

  async return(): Promise<IteratorResult<FeedMessage>> {
    this.close();
    return { done: true, value: undefined };
  }
}
