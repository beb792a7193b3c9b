import type { Logger } from 'pino';
import type { Reconciler } from './reconciler.js';

export interface LoopOptions {
  readonly reconciler: Reconciler;
  /**
   * One round: bring the desired state up to date, run a pass, report. `resync` says every key
   * is to be re-observed this round. Defaults to one reconciler pass (a fixed desired state).
   */
  readonly round?: (resync: boolean) => Promise<void>;
  /** A round that threw: the loop tries again after `errorRetryMs`. */
  readonly onError?: (err: unknown) => void;
  /** Re-observe every key roughly every `resyncIntervalMs` (drift repair); default true. */
  readonly periodicResync?: boolean;
  /** Wake-ups within this window become one round (default 0). */
  readonly debounceMs?: number;
  readonly errorRetryMs?: number;
  readonly logger: Logger;
  /** Injected for tests; jitter only. */
  readonly random?: () => number;
}

/**
 * The one loop around the reconciler (controller-runtime's contract): wake-ups only say "look
 * again", keys are level-triggered, and the loop owns every retry: a key that failed is tried
 * again when its backoff is due, a round that threw after `errorRetryMs`, every key on the
 * jittered periodic resync. Rounds never overlap; `stop()` lets the running round finish.
 */
export class ReconcileLoop {
  private readonly reconciler: Reconciler;
  private readonly round: (resync: boolean) => Promise<void>;
  private readonly random: () => number;
  private stopping = false;
  private poked = true;
  private wake: (() => void) | null = null;
  private done: Promise<void> | null = null;
  /** The first round always resyncs: a restarted agent does not know what the host holds. */
  private resyncAt = 0;
  private retryAt = Number.POSITIVE_INFINITY;

  constructor(private readonly options: LoopOptions) {
    this.reconciler = options.reconciler;
    this.random = options.random ?? Math.random;
    this.round =
      options.round ??
      (async (resync) => {
        if (resync) await this.reconciler.resync();
        await this.reconciler.runPass();
      });
  }

  /** Something changed (an event, a new desired state): run a round soon. */
  poke(): void {
    this.poked = true;
    this.wake?.();
  }

  start(): void {
    if (this.done) return;
    this.stopping = false;
    this.done = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.done;
    this.done = null;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      if (!this.poked) {
        const poked = await this.sleep(this.nextWakeIn());
        if (this.stopping) break;
        // Debounce: a burst of events (one command appends several) becomes one round.
        if (poked && this.options.debounceMs) await new Promise((r) => setTimeout(r, this.options.debounceMs));
      }
      this.poked = false;
      const now = Date.now();
      const resync = now >= this.resyncAt;
      if (resync) this.resyncAt = this.options.periodicResync === false ? Number.POSITIVE_INFINITY : now + this.resyncInterval();
      this.retryAt = Number.POSITIVE_INFINITY;
      try {
        await this.round(resync);
      } catch (err) {
        this.options.logger.error({ err }, 'reconcile round failed');
        this.options.onError?.(err);
        if (resync) this.resyncAt = 0;
        this.retryAt = Date.now() + (this.options.errorRetryMs ?? 1000);
      }
    }
  }

  private resyncInterval(): number {
    const { resyncIntervalMs, resyncJitter } = this.reconciler.config;
    return resyncIntervalMs * (1 + (this.random() * 2 - 1) * resyncJitter);
  }

  /** ms until the loop has work of its own: a key's backoff ends, a resync or a retry is due. */
  private nextWakeIn(): number {
    const now = Date.now();
    const due = this.reconciler.pendingKeys.length > 0 ? this.reconciler.nextDueIn() : Number.POSITIVE_INFINITY;
    return Math.max(0, Math.min(due, this.resyncAt - now, this.retryAt - now));
  }

  /** Resolves true when poked, false when the time ran out. */
  private sleep(ms: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      // setTimeout takes at most 2^31-1 ms; longer waits (no resync) simply wake and sleep again.
      const timer = setTimeout(
        () => {
          this.wake = null;
          resolve(false);
        },
        Math.min(ms, 2 ** 31 - 1),
      );
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve(true);
      };
    });
  }
}
