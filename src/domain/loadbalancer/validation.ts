import ipaddr from 'ipaddr.js';
import { domainError, invalidField, type DomainError } from '../errors.js';
import {
  LISTENER_POOL_PROTOCOLS,
  MAX_INT,
  TIMEOUT_RANGE,
  type HealthMonitorType,
  type ListenerProtocol,
  type PoolProtocol,
  type SessionPersistence,
} from './model.js';

/** Validation rules of Octavia's API types; each answers the first problem or null. */
export type Check = DomainError | null;

export function firstError(...checks: readonly (() => Check)[]): Check {
  for (const check of checks) {
    const error = check();
    if (error) return error;
  }
  return null;
}

/** Octavia answers these 400 "Invalid input"; here they are what they are, a bad field of the input. */
function invalid(field: string, message: string): DomainError {
  return invalidField(field.split('.'), message);
}

export function intInRange(field: string, value: number | undefined, min: number, max: number): Check {
  if (value === undefined) return null;
  if (!Number.isInteger(value) || value < min || value > max)
    return invalid(field, `Value should be an integer between ${min} and ${max}, got ${value}.`);
  return null;
}

export function maxLength(field: string, value: string | undefined, max = 255): Check {
  return value !== undefined && value.length > max ? invalid(field, `String is longer than ${max} characters.`) : null;
}

export function tagsValid(tags: readonly string[] | undefined): Check {
  if (tags === undefined) return null;
  const bad = tags.find((t) => t.length === 0 || t.length > 255 || t.includes(','));
  return bad !== undefined ? invalid('tags', `Invalid tag '${bad}'.`) : null;
}

export function descriptiveValid(c: { name?: string; description?: string; tags?: readonly string[] }): Check {
  return firstError(
    () => maxLength('name', c.name),
    () => maxLength('description', c.description),
    () => tagsValid(c.tags),
  );
}

export function portValid(field: string, value: number | null | undefined): Check {
  return value === null ? null : intInRange(field, value, 1, 65535);
}

/** -1 means unlimited; 0 would render `maxconn 0`, a listener that accepts nothing. */
export function connectionLimitValid(value: number | undefined): Check {
  if (value === undefined || value === -1) return null;
  return Number.isInteger(value) && value >= 1 && value <= MAX_INT
    ? null
    : invalid('connectionLimit', `Value should be -1 (unlimited) or an integer between 1 and ${MAX_INT}, got ${value}.`);
}

export function timeoutsValid(
  c: Partial<Record<'timeoutClientData' | 'timeoutMemberConnect' | 'timeoutMemberData' | 'timeoutTcpInspect', number>>,
): Check {
  return firstError(
    () => intInRange('timeoutClientData', c.timeoutClientData, TIMEOUT_RANGE.min, TIMEOUT_RANGE.max),
    () => intInRange('timeoutMemberConnect', c.timeoutMemberConnect, TIMEOUT_RANGE.min, TIMEOUT_RANGE.max),
    () => intInRange('timeoutMemberData', c.timeoutMemberData, TIMEOUT_RANGE.min, TIMEOUT_RANGE.max),
    () => intInRange('timeoutTcpInspect', c.timeoutTcpInspect, TIMEOUT_RANGE.min, TIMEOUT_RANGE.max),
  );
}

export function protocolsCompatible(listener: ListenerProtocol, pool: PoolProtocol): Check {
  return LISTENER_POOL_PROTOCOLS[listener].includes(pool)
    ? null
    : domainError('ListenerPoolProtocolMismatch', `The listener protocol ${listener} and pool protocol ${pool} are not compatible.`, {
        details: { listenerProtocol: listener, poolProtocol: pool },
      });
}

const visibleAscii = (ch: string): boolean => ch >= '!' && ch <= '~';
/** Octavia's cookie-name rule: RFC 6265 token characters only. */
const isCookieToken = (name: string): boolean => [...name].every((ch) => visibleAscii(ch) && !'"(),/:;<=>?@[\\]{}'.includes(ch));

/**
 * Cookies are only visible to an HTTP-mode backend: TCP and HTTPS-passthrough pools run haproxy in
 * tcp mode, so only SOURCE_IP persistence means anything there.
 */
export function sessionPersistenceValid(sp: SessionPersistence | null | undefined, protocol: PoolProtocol): Check {
  if (!sp) return null;
  const cookieName = sp.cookieName ?? null;
  if (sp.type === 'APP_COOKIE' && !cookieName) {
    return invalid(
      'sessionPersistence.cookieName',
      'Field "cookieName" must be specified when using the "APP_COOKIE" session persistence type.',
    );
  }
  if (sp.type !== 'APP_COOKIE' && cookieName !== null) {
    return invalid(
      'sessionPersistence.cookieName',
      'Field "cookieName" can only be specified with session persistence of type "APP_COOKIE".',
    );
  }
  if (cookieName !== null && !isCookieToken(cookieName))
    return invalid('sessionPersistence.cookieName', 'Supplied "cookieName" is invalid.');
  if (sp.type !== 'SOURCE_IP' && protocol !== 'HTTP') {
    return invalid(
      'sessionPersistence.type',
      `Session persistence ${sp.type} needs an HTTP pool; a ${protocol} pool supports SOURCE_IP only.`,
    );
  }
  return null;
}

/** Dotted-quad IPv4 or IPv6, answered in canonical form so address+port uniqueness compares equal forms. */
export function canonicalAddress(field: string, address: string): string | DomainError {
  if (ipaddr.IPv4.isValidFourPartDecimal(address)) return ipaddr.IPv4.parse(address).toString();
  if (ipaddr.IPv6.isValid(address)) return ipaddr.IPv6.parse(address).toString();
  return invalid(field, `'${address}' is not a valid IP address.`);
}

const EXPECTED_CODES = /^(\d{3}(\s*,\s*\d{3})*|\d{3}-\d{3})$/;

/** Octavia accepts `200`, `200,202` or `200-204`; each code must be an HTTP status (100-599). */
export function expectedCodesValid(codes: string): Check {
  if (!EXPECTED_CODES.test(codes))
    return invalid('expectedCodes', `'${codes}' is not a code, a comma list or a range of HTTP status codes.`);
  const numbers = codes.split(/[,-]/).map((c) => Number(c.trim()));
  if (numbers.some((n) => n < 100 || n > 599)) return invalid('expectedCodes', `'${codes}' contains a code outside 100-599.`);
  if (codes.includes('-') && numbers[0]! > numbers[1]!) return invalid('expectedCodes', `Range '${codes}' is reversed.`);
  return null;
}

export function urlPathValid(path: string): Check {
  return path.startsWith('/') && [...path].every(visibleAscii)
    ? null
    : invalid('urlPath', `URL path '${path}' must start with / and contain only visible ASCII characters.`);
}

export function isHttpMonitor(type: HealthMonitorType): boolean {
  return type === 'HTTP' || type === 'HTTPS';
}

/** Checks one complete monitor configuration (after defaults and updates are merged). */
export function healthMonitorValid(m: {
  monitorType: HealthMonitorType;
  delay: number;
  timeout: number;
  maxRetries: number;
  maxRetriesDown: number;
  urlPath: string | null;
  expectedCodes: string | null;
}): Check {
  return firstError(
    () => intInRange('delay', m.delay, 0, MAX_INT),
    () => intInRange('timeout', m.timeout, 0, MAX_INT),
    () => intInRange('maxRetries', m.maxRetries, 1, 10),
    () => intInRange('maxRetriesDown', m.maxRetriesDown, 1, 10),
    () =>
      m.delay < m.timeout ? invalid('delay', `The delay (${m.delay}) must be greater than or equal to the timeout (${m.timeout}).`) : null,
    () => (m.urlPath !== null ? urlPathValid(m.urlPath) : null),
    () => (m.expectedCodes !== null ? expectedCodesValid(m.expectedCodes) : null),
  );
}

/** Octavia rejects HTTP options on PING and TCP monitors instead of ignoring them. */
export function httpFieldsAllowed(type: HealthMonitorType, c: { httpMethod?: unknown; urlPath?: unknown; expectedCodes?: unknown }): Check {
  if (isHttpMonitor(type)) return null;
  const given = (['httpMethod', 'urlPath', 'expectedCodes'] as const).find((f) => c[f] !== undefined);
  return given ? invalid(given, `${given} is not a valid option for health monitors of type ${type}.`) : null;
}

export function revisionMatches(expected: number | undefined, current: number): Check {
  return expected === undefined || expected === current
    ? null
    : domainError('RevisionNumberConstraintFailed', `Constrained to ${expected}, but current revision is ${current}`, {
        details: { expected, current },
      });
}
