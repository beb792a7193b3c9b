import { ConfigError, loadConfig, type Config } from '../config.js';
import { createLogger, type Logger } from '../log.js';
import { startServices, type Running } from '../app/bootstrap.js';

export function setup(): { config: Config; log: Logger } {
  try {
    const config = loadConfig();
    return { config, log: createLogger(config.LOG_LEVEL) };
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
}

/**
 * Runs `fn` with services, stopping them (and the embedded database) on the way out. It says on
 * stderr which database it uses, and only `createDatabase` commands (migrate) create an embedded
 * one: a command run with another environment than the server's must not work on an empty database
 * of its own without a word.
 */
export async function withServices<T>(
  fn: (s: Running) => Promise<T>,
  options: { quietLog?: boolean; createDatabase?: boolean } = {},
): Promise<T> {
  const { config, log } = setup();
  const s = await startServices(config, options.quietLog ? log.child({}, { level: 'warn' }) : log, {
    createDatabase: options.createDatabase ?? false,
  });
  process.stderr.write(`netledger: using ${s.database}\n`);
  try {
    return await fn(s);
  } finally {
    await s.stop();
  }
}
