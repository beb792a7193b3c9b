/** postgres.js's own codes for a connection that failed, was cut, or timed out while connecting. */
const CLIENT_CODES = new Set(['CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'CONNECTION_ENDED', 'CONNECT_TIMEOUT']);
/** The socket's codes: nothing listens, the peer went away, or the address does not resolve. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** SQLSTATEs of a server that is shutting down, crashed, starting up or in recovery, or full. */
const SERVER_CODES = new Set(['57P01', '57P02', '57P03', '53300']);

/**
 * True when `e` says the database could not be reached or dropped the connection, as opposed to
 * a query that PostgreSQL answered with an error. Such a failure says nothing about the request:
 * it is answered `ServiceUnavailable` and the client may try again.
 */
export function isDatabaseUnavailable(e: unknown): boolean {
  if (e instanceof DatabaseUnavailable) return true;
  if (typeof e !== 'object' || e === null) return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (CLIENT_CODES.has(code) || SOCKET_CODES.has(code) || SERVER_CODES.has(code)) return true;
    // Class 08: connection exception.
    if (/^08[0-9A-Z]{3}$/.test(code)) return true;
  }
  // A connect to several addresses fails with all of their errors.
  const errors = (e as { errors?: unknown }).errors;
  if (Array.isArray(errors) && errors.length > 0 && errors.every(isDatabaseUnavailable)) return true;
  return false;
}

/** What a caller sees instead of the driver's error when the database is out of reach. */
export class DatabaseUnavailable extends Error {
  readonly code = 'ServiceUnavailable';
  constructor(cause?: unknown) {
    super('the database is unavailable; try again shortly', { cause });
    this.name = 'DatabaseUnavailable';
  }
}

/** Rejects with DatabaseUnavailable when `work` has not settled within `ms` (a hung connection). */
export async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DatabaseUnavailable(new Error(`no answer within ${ms} ms`))), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
