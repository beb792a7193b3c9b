/** Builds one `sh` script per apply so a change costs one process, however many objects it touches. */

const HEREDOC = 'NL_BATCH_EOF';

export function shQuote(value: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export class Script {
  private readonly lines: string[] = ['set -e'];
  private steps = 0;

  get empty(): boolean {
    return this.steps === 0;
  }

  /** A command; `tolerateFailure` for deletions whose target may already be gone. */
  command(argv: readonly string[], tolerateFailure = false): this {
    this.steps += 1;
    this.lines.push(argv.map(shQuote).join(' ') + (tolerateFailure ? ' || true' : ''));
    return this;
  }

  /** A command fed `input` on stdin (e.g. `ip -batch -`, `nft -f -`). */
  commandWithInput(argv: readonly string[], input: readonly string[], tolerateFailure = false): this {
    if (input.some((l) => l === HEREDOC)) throw new Error('script input contains the heredoc delimiter');
    this.steps += 1;
    this.lines.push(`${argv.map(shQuote).join(' ')} <<'${HEREDOC}'${tolerateFailure ? ' || true' : ''}`);
    this.lines.push(...input, HEREDOC);
    return this;
  }

  render(): string {
    return `${this.lines.join('\n')}\n`;
  }
}
