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

/** Runs `fn` with services, stopping them (and the embedded database) on the way out. */
export async function withServices<T>(fn: (s: Running) => Promise<T>, options: { quietLog?: boolean } = {}): Promise<T> {
  const { config, log } = setup();
  const s = await startServices(config, options.quietLog ? log.child({}, { level: 'warn' }) : log);
  try {
    return await fn(s);
  } finally {
    await s.stop();
  }
}
