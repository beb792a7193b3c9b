/**
 * Runs `poll` again `intervalMs` after each run ends, never two at once, until stopped: the loop of
 * every reporter that reads what the host's daemons say (load balancer health, VPN and HA states).
 */
export class Poller {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly poll: () => Promise<unknown>,
    private readonly intervalMs: () => number,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    if (this.timer || this.running) return;
    const tick = (): void => {
      this.running = this.poll()
        .then(() => undefined)
        .catch(this.onError)
        .finally(() => {
          this.running = null;
          if (this.timer !== null) this.timer = setTimeout(tick, this.intervalMs()).unref();
        });
    };
    this.timer = setTimeout(tick, 0).unref();
  }

  async stop(): Promise<void> {
    const t = this.timer;
    this.timer = null;
    if (t) clearTimeout(t);
    await this.running;
  }
}
