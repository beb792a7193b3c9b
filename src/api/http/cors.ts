import type http from 'node:http';

/**
 * CORS for browser apps on other origins, allowed one exact origin at a time
 * (NETLEDGER_CORS_ORIGINS). Tokens travel in the Authorization header, never in cookies, so no
 * credentials mode is offered. A preflight carries no token by design: it is answered before
 * authentication, with the allow headers for a listed origin and 403 (no allow headers) for any other.
 */

const ALLOWED_METHODS = 'GET, POST, OPTIONS';
const ALLOWED_HEADERS = 'authorization, content-type, accept, x-correlation-id';
/** What a script may read from a response besides the safelisted headers. */
const EXPOSED_HEADERS = 'x-request-id, retry-after';
const PREFLIGHT_MAX_AGE_S = '600';

export class Cors {
  private readonly origins: ReadonlySet<string>;

  constructor(origins: readonly string[]) {
    this.origins = new Set(origins);
  }

  /** True when the request was a preflight, now answered. */
  preflight(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    if (req.method !== 'OPTIONS' || !req.headers.origin || !req.headers['access-control-request-method']) return false;
    if (!this.origins.has(req.headers.origin)) {
      res.writeHead(403, { 'content-type': 'text/plain', vary: 'Origin' });
      res.end(`origin ${req.headers.origin} is not allowed (NETLEDGER_CORS_ORIGINS)`);
      return true;
    }
    res.writeHead(204, {
      'access-control-allow-origin': req.headers.origin,
      'access-control-allow-methods': ALLOWED_METHODS,
      'access-control-allow-headers': ALLOWED_HEADERS,
      'access-control-max-age': PREFLIGHT_MAX_AGE_S,
      vary: 'Origin',
    });
    res.end();
    return true;
  }

  /** The headers an actual response carries for the request's origin (none for others). */
  headers(req: http.IncomingMessage): Record<string, string> {
    const origin = req.headers.origin;
    if (!origin || !this.origins.has(origin)) return this.origins.size > 0 ? { vary: 'Origin' } : {};
    return { 'access-control-allow-origin': origin, 'access-control-expose-headers': EXPOSED_HEADERS, vary: 'Origin' };
  }
}
