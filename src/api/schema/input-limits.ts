import { MAX_FIXED_IPS_PER_PORT } from '../../domain/port/index.js';

/**
 * What every mutation input must satisfy before its own schema looks at it: clean text and
 * bounded lists. Checked once, over the whole input, so no field (names, descriptions, tags, ids,
 * addresses, any future free text) can let a NUL byte or a lone surrogate reach PostgreSQL (which
 * refuses them mid-transaction) or an unbounded list reach a decider.
 */

/**
 * Upper bounds on list lengths, by input field name, wherever the field appears. Neutron's where
 * it has one: 50 tags per resource (neutron tagging MAX_TAGS); fixed IPs have none in Neutron Zed,
 * so theirs is the domain's MAX_FIXED_IPS_PER_PORT, the general bound. Lists that a decider
 * bounds with Neutron's own typed error (allowedAddressPairs: AllowedAddressPairExhausted at 10,
 * dnsNameservers: DNSNameServersExhausted, hostRoutes: HostRoutesExhausted, routes:
 * RoutesExhausted) are left to the decider under the general bound.
 */
export const MAX_TAGS = 50;
export const LIST_BOUNDS: Readonly<Record<string, number>> = {
  tags: MAX_TAGS,
  fixedIps: MAX_FIXED_IPS_PER_PORT,
  externalFixedIps: MAX_FIXED_IPS_PER_PORT,
  securityGroupIds: 50,
  portIds: 100,
  members: 1000,
  firewallRules: 1000,
};
/** Any other list. */
export const DEFAULT_LIST_BOUND = 1000;

/**
 * C0 controls, DEL and C1 controls, except tab, line feed and carriage return in descriptions.
 * Lone surrogates are halves of a UTF-16 pair with no other half: not text in any encoding.
 */
// Control characters are exactly what these patterns look for.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// eslint-disable-next-line no-control-regex
const CONTROL_EXCEPT_LINES = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const MULTILINE_FIELDS = new Set(['description']);

export interface InputIssue {
  readonly path: readonly string[];
  readonly message: string;
}

/** Every string and list in `input` that breaks the rules above, with its path. */
export function inputLimitIssues(input: unknown, path: readonly string[] = []): InputIssue[] {
  const key = path[path.length - 1] ?? '';
  if (typeof input === 'string') {
    if (LONE_SURROGATE.test(input)) return [{ path, message: 'Text contains a lone UTF-16 surrogate.' }];
    const control = MULTILINE_FIELDS.has(key) ? CONTROL_EXCEPT_LINES : CONTROL;
    return control.test(input) ? [{ path, message: 'Text contains a NUL byte or another control character.' }] : [];
  }
  if (Array.isArray(input)) {
    const bound = LIST_BOUNDS[key] ?? DEFAULT_LIST_BOUND;
    if (input.length > bound) return [{ path, message: `Too many items: at most ${bound} are allowed.` }];
    return input.flatMap((item, i) => inputLimitIssues(item, [...path, String(i)]));
  }
  if (input !== null && typeof input === 'object') {
    return Object.entries(input as Record<string, unknown>).flatMap(([k, v]) => inputLimitIssues(v, [...path, k]));
  }
  return [];
}
