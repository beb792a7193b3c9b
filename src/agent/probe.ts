import { NAT_TABLE } from '../projections/desired-state/index.js';
import type { CommandRunner } from './exec.js';

/** Kernel state of one namespace, as read by a single batched probe. */
export interface NamespaceObservation {
  readonly name: string;
  readonly exists: boolean;
  /** The name exists but cannot be entered (e.g. `ip netns add` killed before its bind mount). */
  readonly broken: boolean;
  readonly links: ReadonlyMap<string, LinkObservation>;
  readonly routes: readonly RouteObservation[];
  readonly sysctls: ReadonlyMap<string, string>;
  /** `nft -j list table ip netledger-nat` output, null when the table is absent. */
  readonly nft: unknown;
}

export interface LinkObservation {
  readonly name: string;
  readonly ifindex: number;
  readonly kind: string | null;
  readonly mac: string;
  readonly mtu: number;
  readonly up: boolean;
  readonly master: string | null;
  readonly linkIndex: number | null;
  /** The device group (`ip link set ... group`): 0 by default, -1 when it has a name other than `default`. */
  readonly group: number;
  /** Global-scope addresses as `ip/prefixlen` (kernel link-local IPv6 is ignored). */
  readonly addresses: readonly string[];
}

export interface RouteObservation {
  /** `default` or `ip/prefixlen`. */
  readonly destination: string;
  readonly protocol: string;
  readonly nexthops: readonly { readonly via: string | null; readonly dev: string | null }[];
}

export type Snapshot = ReadonlyMap<string, NamespaceObservation>;

// One process for any number of namespaces: `ip netns exec` per namespace runs a reader that
// prints tagged sections. Sysctl values are read with the shell's `read`, costing no process; a
// key may hold a glob (`net.ipv6.conf.*.accept_ra`), expanded in /proc/sys to every device's key.
const PROBE_SCRIPT = `
paths="$1"; shift
for ns in "$@"; do
  printf '\\n@@NS %s\\n' "$ns"
  if [ ! -e "/run/netns/$ns" ]; then printf '@@ABSENT\\n'; continue; fi
  ip netns exec "$ns" sh -c '
    printf "@@ADDR\\n"; ip -j -d addr show || printf "null"
    printf "\\n@@ROUTE\\n"; ip -j route show table main || printf "null"
    printf "\\n@@ROUTE6\\n"; ip -6 -j route show table main || printf "null"
    printf "\\n@@SYSCTL\\n"
    cd /proc/sys
    for p in $1; do
      v=; [ -r "/proc/sys/$p" ] && { read -r v < "/proc/sys/$p" || :; printf "%s=%s\\n" "$p" "$v"; }
    done
    printf "\\n@@NFT\\n"; nft -j list table ip ${NAT_TABLE} 2>/dev/null || printf "null"
    printf "\\n@@END\\n"' sh "$paths" || printf '\\n@@FAILED\\n'
done
`;

const sysctlPath = (key: string): string => key.replace(/\./g, '/');
const sysctlKey = (path: string): string => path.replace(/\//g, '.');

export async function probeNamespaces(
  exec: CommandRunner,
  namespaces: readonly string[],
  sysctlKeys: readonly string[],
): Promise<Map<string, NamespaceObservation>> {
  const unique = [...new Set(namespaces)];
  const out = new Map<string, NamespaceObservation>();
  if (unique.length === 0) return out;
  const paths = [...new Set(sysctlKeys)].map(sysctlPath).join(' ');
  const { stdout } = await exec.run('sh', ['-c', PROBE_SCRIPT, 'sh', paths, ...unique], { mutating: false });
  for (const [name, sections] of splitSections(stdout)) out.set(name, parseNamespace(name, sections));
  for (const name of unique) if (!out.has(name)) throw new Error(`probe returned nothing for ${name}`);
  return out;
}

function splitSections(stdout: string): Map<string, Map<string, string>> {
  const result = new Map<string, Map<string, string>>();
  let current: Map<string, string> | null = null;
  let section = '';
  let buffer: string[] = [];
  const flush = (): void => {
    if (current && section) current.set(section, buffer.join('\n'));
    buffer = [];
  };
  for (const line of stdout.split('\n')) {
    const m = /^@@([A-Z0-9]+)(?: (.*))?$/.exec(line);
    if (!m) {
      buffer.push(line);
      continue;
    }
    flush();
    if (m[1] === 'NS') {
      current = new Map();
      result.set(m[2] ?? '', current);
      section = '';
    } else {
      section = m[1] ?? '';
      current?.set(section, '');
    }
  }
  flush();
  return result;
}

function parseJson(text: string | undefined): unknown {
  const t = text?.trim();
  if (!t || t === 'null') return null;
  return JSON.parse(t) as unknown;
}

interface IpAddrJson {
  ifindex: number;
  ifname: string;
  flags?: string[];
  mtu: number;
  address?: string;
  master?: string;
  link_index?: number;
  group?: string;
  linkinfo?: { info_kind?: string };
  addr_info?: { family: string; local: string; prefixlen: number; scope: string }[];
}

interface IpRouteJson {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  nexthops?: { gateway?: string; dev?: string }[];
}

function normalizeDestination(dst: string): string {
  if (dst === 'default') return dst;
  return dst.includes('/') ? dst : `${dst}/${dst.includes(':') ? 128 : 32}`;
}

/** `ip -j` prints a group by its name in /etc/iproute2/group when it has one (0 is `default`). */
function deviceGroup(name: string | undefined): number {
  if (name === undefined || name === 'default') return 0;
  return /^\d+$/.test(name) ? Number(name) : -1;
}

function parseNamespace(name: string, sections: Map<string, string>): NamespaceObservation {
  if (sections.has('ABSENT')) {
    return { name, exists: false, broken: false, links: new Map(), routes: [], sysctls: new Map(), nft: null };
  }
  if (sections.has('FAILED') || !sections.has('END')) {
    return { name, exists: true, broken: true, links: new Map(), routes: [], sysctls: new Map(), nft: null };
  }
  const links = new Map<string, LinkObservation>();
  for (const l of (parseJson(sections.get('ADDR')) ?? []) as IpAddrJson[]) {
    links.set(l.ifname, {
      name: l.ifname,
      ifindex: l.ifindex,
      kind: l.linkinfo?.info_kind ?? null,
      mac: (l.address ?? '').toLowerCase(),
      mtu: l.mtu,
      up: (l.flags ?? []).includes('UP'),
      master: l.master ?? null,
      linkIndex: l.link_index ?? null,
      group: deviceGroup(l.group),
      addresses: (l.addr_info ?? [])
        .filter((a) => (a.family === 'inet' || a.family === 'inet6') && a.scope !== 'link' && a.scope !== 'host')
        .map((a) => `${a.local}/${a.prefixlen}`),
    });
  }
  const v4 = (parseJson(sections.get('ROUTE')) ?? []) as IpRouteJson[];
  // The IPv6 default route is `::/0` in a RouteSpec: `default` already names the IPv4 one.
  const v6 = ((parseJson(sections.get('ROUTE6')) ?? []) as IpRouteJson[]).map((r) => (r.dst === 'default' ? { ...r, dst: '::/0' } : r));
  const routes: RouteObservation[] = [...v4, ...v6].map((r) => ({
    destination: normalizeDestination(r.dst),
    protocol: r.protocol ?? 'boot',
    nexthops: r.nexthops
      ? r.nexthops.map((h) => ({ via: h.gateway ?? null, dev: h.dev ?? null }))
      : [{ via: r.gateway ?? null, dev: r.dev ?? null }],
  }));
  const sysctls = new Map<string, string>();
  for (const line of (sections.get('SYSCTL') ?? '').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) sysctls.set(sysctlKey(line.slice(0, eq)), line.slice(eq + 1).trim());
  }
  return { name, exists: true, broken: false, links, routes, sysctls, nft: parseJson(sections.get('NFT')) };
}
