import pino, { type Logger } from 'pino';

export type { Logger };

/** Pretty for a person at a terminal, JSON lines for everything else. */
export function createLogger(level: string, options: { pretty?: boolean } = {}): Logger {
  const pretty = options.pretty ?? Boolean(process.stderr.isTTY);
  return pino(
    { level, base: undefined },
    pretty ? pino.transport({ target: 'pino-pretty', options: { destination: 2, colorize: true } }) : pino.destination(2),
  );
}
