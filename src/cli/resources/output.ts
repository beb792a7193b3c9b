import { CliError, EXIT } from './api-client.js';

/**
 * The one output module of the resource commands, for every kind: a record is a flat object of
 * Neutron field names (snake_case) to JSON values. `list` prints rows, `show` prints one record;
 * both as an openstack-style table by default, or json, yaml, value.
 */

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type Row = Record<string, Json>;
export const FORMATS = ['table', 'json', 'yaml', 'value'] as const;
export type Format = (typeof FORMATS)[number];

const ACRONYMS = new Set(['id', 'ip', 'ips', 'mtu', 'vip', 'mac', 'cidr', 'dhcp', 'ha', 'snat', 'ipv6', 'ra', 'ttl']);

/** `floating_ip_address` -> `Floating IP Address`: the list table's header, as openstack writes it. */
export function header(key: string): string {
  return key
    .split('_')
    .map((w) =>
      ACRONYMS.has(w) ? (w === 'ips' ? 'IPs' : w === 'ipv6' ? 'IPv6' : w.toUpperCase()) : w.charAt(0).toUpperCase() + w.slice(1),
    )
    .join(' ');
}

const normalise = (name: string) => name.toLowerCase().replace(/[\s-]+/g, '_');

/**
 * The columns to print: every one of `available` (or `defaults`) unless -c named some. A column is
 * named by its field (`fixed_ips`) or its header (`"Fixed IPs"`), in any case.
 */
export function selectColumns(available: readonly string[], defaults: readonly string[], requested: readonly string[]): string[] {
  if (requested.length === 0) return [...defaults];
  return requested.map((r) => {
    const key = available.find((a) => a === normalise(r) || normalise(header(a)) === normalise(r));
    if (!key) throw new CliError(EXIT.usage, 'UnknownColumn', `no column ${JSON.stringify(r)}; the columns are: ${available.join(', ')}`);
    return key;
  });
}

function scalar(v: Json): string {
  if (v === null) return '';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  return JSON.stringify(v);
}

function inlineObject(o: { [key: string]: Json }): string {
  return Object.entries(o)
    .map(([k, v]) => `${k}='${scalar(v)}'`)
    .join(', ');
}

/** One cell: lists of scalars joined by ", ", objects as key='value' pairs, one per line in a table. */
export function cell(v: Json, multiline: boolean): string {
  if (Array.isArray(v)) {
    if (v.every((x) => x === null || typeof x !== 'object')) return v.map(scalar).join(', ');
    return v
      .map((x) => (x !== null && typeof x === 'object' && !Array.isArray(x) ? inlineObject(x) : scalar(x)))
      .join(multiline ? '\n' : '; ');
  }
  if (v !== null && typeof v === 'object') return inlineObject(v);
  return scalar(v);
}

function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const split = rows.map((r) => r.map((c) => c.split('\n')));
  const widths = headers.map((h, i) => Math.max(h.length, ...split.map((r) => Math.max(...r[i]!.map((l) => l.length)))));
  const rule = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const out = [rule, line(headers), rule];
  for (const r of split) {
    const height = Math.max(...r.map((c) => c.length));
    for (let k = 0; k < height; k++) out.push(line(r.map((c) => c[k] ?? '')));
  }
  if (rows.length > 0) out.push(rule);
  return out.join('\n');
}

const PLAIN = /^[A-Za-z0-9_./][A-Za-z0-9 _./:@+-]*$/;
const RESERVED = /^(true|false|yes|no|on|off|null|~|y|n|[-+]?(\d[\d_]*)?\.?\d*([eE][-+]?\d+)?)$/i;

function yamlScalar(v: string | number | boolean | null): string {
  if (v === null) return 'null';
  if (typeof v !== 'string') return String(v);
  return PLAIN.test(v) && !RESERVED.test(v) && !v.endsWith(' ') ? v : JSON.stringify(v);
}

/** YAML 1.2 block style; strings that could read as another type are double-quoted (JSON escapes are valid YAML). */
export function yaml(v: Json, indent = ''): string {
  if (Array.isArray(v)) {
    if (v.length === 0) return `${indent}[]`;
    return v
      .map((x) => {
        if (
          x !== null &&
          typeof x === 'object' &&
          !(Array.isArray(x) && x.length === 0) &&
          !(!Array.isArray(x) && Object.keys(x).length === 0)
        ) {
          const nested = yaml(x, `${indent}  `);
          return `${indent}- ${nested.slice(indent.length + 2)}`;
        }
        return `${indent}- ${yaml(x, '').trimStart()}`;
      })
      .join('\n');
  }
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v);
    if (entries.length === 0) return `${indent}{}`;
    return entries
      .map(([k, x]) => {
        const key = `${indent}${yamlScalar(k)}:`;
        if (Array.isArray(x) && x.length > 0) return `${key}\n${yaml(x, indent)}`;
        if (x !== null && typeof x === 'object' && !Array.isArray(x) && Object.keys(x).length > 0)
          return `${key}\n${yaml(x, `${indent}  `)}`;
        return `${key} ${yaml(x, '')}`;
      })
      .join('\n');
  }
  return `${indent}${yamlScalar(v)}`;
}

const pick = (row: Row, columns: readonly string[]): Row => Object.fromEntries(columns.map((c) => [c, row[c] ?? null]));

/** Rows of a list: a table with headers, a JSON array, a YAML sequence, or one line of values per row. */
export function formatList(rows: readonly Row[], columns: readonly string[], format: Format): string {
  switch (format) {
    case 'json':
      return JSON.stringify(
        rows.map((r) => pick(r, columns)),
        null,
        2,
      );
    case 'yaml':
      return rows.length === 0 ? '[]' : yaml(rows.map((r) => pick(r, columns)));
    case 'value':
      return rows.map((r) => columns.map((c) => cell(r[c] ?? null, false)).join(' ')).join('\n');
    case 'table':
      return table(
        columns.map(header),
        rows.map((r) => columns.map((c) => cell(r[c] ?? null, true))),
      );
  }
}

/** One record: a Field/Value table, a JSON object, a YAML mapping, or one value per line. */
export function formatOne(row: Row, columns: readonly string[], format: Format): string {
  switch (format) {
    case 'json':
      return JSON.stringify(pick(row, columns), null, 2);
    case 'yaml':
      return yaml(pick(row, columns));
    case 'value':
      return columns.map((c) => cell(row[c] ?? null, false)).join('\n');
    case 'table':
      return table(
        ['Field', 'Value'],
        columns.map((c) => [c, cell(row[c] ?? null, true)]),
      );
  }
}
