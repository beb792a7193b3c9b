import type { Sql } from '../../db/sql.js';
import type { Logger } from '../../log.js';
import type { LogWaker } from '../log-waker.js';
import type { AuditKey } from './audit-key.js';
import { sealLog } from './log-chain.js';
import { signCheckpoint } from './signed-checkpoints.js';

/**
 * Follows the log, extending the whole-log chain shortly after each append, and signs the chain's
 * head every `checkpointMs` when it moved. Runs in every process that starts services; one sealer
 * works at a time (sealLog's lock), the others find nothing to do.
 */
export class LogSealer {
  private readonly stopped = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly sql: Sql,
    private readonly waker: LogWaker,
    private readonly key: AuditKey | null,
    private readonly log: Logger,
    private readonly options: { checkpointMs: number; pollMs?: number },
  ) {}

  start(): void {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    let lastCheckpoint = Date.now();
    while (!this.stopped.signal.aborted) {
      try {
        await sealLog(this.sql);
        if (this.key && Date.now() - lastCheckpoint >= this.options.checkpointMs) {
          lastCheckpoint = Date.now();
          const c = await signCheckpoint(this.sql, this.key);
          if (c) this.log.info({ seq: c.seq, head: c.head, cursor: c.cursor }, 'log checkpoint signed');
        }
      } catch (e) {
        if (this.stopped.signal.aborted) return;
        this.log.warn({ err: e }, 'sealing the log failed; retrying');
      }
      // A commit wakes us; the short wait lets the horizon pass it before we read.
      if (await this.waker.wait(this.options.pollMs ?? 1000, this.stopped.signal)) await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    this.stopped.abort();
    await this.loop;
  }
}
