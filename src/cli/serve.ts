import type http from 'node:http';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';

/** Exit status after a second signal, as a shell reports a process killed by it. */
export const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

/**
 * The last resort of a long-running server: an exception nobody caught is a bug to fix, but one
 * request's bug must not take every other request (and the embedded database) down with it.
 */
export function keepRunningOnBugs(log: Logger): void {
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled promise rejection (a bug); the server keeps running'));
  process.on('uncaughtException', (err) => log.error({ err }, 'uncaught exception (a bug); the server keeps running'));
}

/** Listens on HOST:PORT; answers null, or one line naming the variable that is wrong. */
export function listenOrExplain(server: http.Server, config: Pick<Config, 'HOST' | 'PORT'>): Promise<string | null> {
  const { HOST, PORT } = config;
  return new Promise((resolve) => {
    const failed = (err: NodeJS.ErrnoException) => {
      switch (err.code) {
        case 'EADDRINUSE':
          return resolve(`invalid configuration: PORT=${PORT}: ${HOST}:${PORT} is already in use`);
        case 'EACCES':
          return resolve(`invalid configuration: PORT=${PORT}: not allowed to listen on it (ports below 1024 need privileges)`);
        case 'ENOTFOUND':
        case 'EAI_AGAIN':
        case 'EAI_NONAME':
          return resolve(`invalid configuration: HOST=${JSON.stringify(HOST)}: the name does not resolve`);
        case 'EADDRNOTAVAIL':
          return resolve(`invalid configuration: HOST=${JSON.stringify(HOST)}: not an address of this machine`);
        default:
          return resolve(`cannot listen on HOST=${JSON.stringify(HOST)} PORT=${PORT}: ${err.message}`);
      }
    };
    server.once('error', failed);
    server.listen(PORT, HOST, () => {
      server.off('error', failed);
      resolve(null);
    });
  });
}
