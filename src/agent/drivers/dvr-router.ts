import { readdir } from 'node:fs/promises';
import type { DvrFipLink, DvrRouterSpec, DvrRule, DvrTableRoute, UnitKey } from '../../projections/desired-state/index.js';
import { routerNamespace } from '../../projections/desired-state/names.js';
import { idOfKey } from '../config.js';
import type { Driver } from '../driver.js';
import type { LinkObservation } from '../probe.js';
import { Script } from '../script.js';

/**
 * What a distributed router's qrouter holds beyond the links driver's qr- ports
 * (projections/desired-state/dvr.ts): the policy routing (`ip rule`s and the default route of
 * each table they name) that sends north-south traffic to the SNAT host's sg- port or, for an
 * instance with a floating IP, into the host's fip namespace; and the rfp-/fpr- veth pair into
 * that namespace with the routes there to the router's floating IPs (Neutron's router adds them
 * too). On router keys of dvr/dvr_snat agents only; one observing command per pass for all keys.
 */

const FIXED_RULE_PRIORITIES = new Set([0, 32766, 32767]);
const FIXED_TABLES = new Set(['local', 'main', 'default']);

interface ObservedFipNamespace {
  readonly links: ReadonlyMap<string, { readonly kind: string | null; readonly up: boolean; readonly addresses: readonly string[] }>;
  /** Routes via fpr- devices: `<destination> <via> <dev>`. */
  readonly routes: readonly { readonly destination: string; readonly via: string | null; readonly dev: string }[];
}

export interface DvrRouterObservation {
  readonly namespace: string;
  readonly exists: boolean;
  readonly rules: readonly DvrRule[];
  readonly tables: readonly DvrTableRoute[];
  readonly rfp: ReadonlyMap<string, LinkObservation>;
  /** Every fip namespace of the host, by name. */
  readonly fipNamespaces: ReadonlyMap<string, ObservedFipNamespace>;
}

export type DvrRouterAction = { readonly ns: string; readonly line: string; readonly order: number; readonly tolerate?: boolean };

const OBSERVE_SCRIPT = `
q="$1"; shift
for ns in $q; do
  printf '\\n@@Q %s\\n' "$ns"
  [ -e "/run/netns/$ns" ] || continue
  ip -n "$ns" -j rule show || printf 'null'
  printf '\\n@@T\\n'; ip -n "$ns" -j route show table all || printf 'null'
done
for ns in "$@"; do
  printf '\\n@@F %s\\n' "$ns"
  ip -n "$ns" -j -d addr show || printf 'null'
  printf '\\n@@R\\n'; ip -n "$ns" -j route show || printf 'null'
done
`;

interface RuleJson {
  priority: number;
  src?: string;
  srclen?: number;
  table?: string;
}
interface RouteJson {
  dst: string;
  protocol?: string;
  gateway?: string;
  dev?: string;
  table?: string;
}
interface AddrJson {
  ifname: string;
  flags?: string[];
  linkinfo?: { info_kind?: string };
  addr_info?: { family: string; local: string; prefixlen: number; scope: string }[];
}

/** `@@Q ns` / `@@F ns` open a namespace's sections; `@@T` / `@@R` continue the last one. */
function parseSections(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  let name = '';
  let current = '';
  for (const line of stdout.split('\n')) {
    const m = /^@@([QTFR]) ?(.*)$/.exec(line);
    if (m) {
      if (m[1] === 'Q' || m[1] === 'F') name = m[2] ?? '';
      current = `${m[1]} ${name}`;
      out.set(current, '');
      continue;
    }
    out.set(current, `${out.get(current) ?? ''}${line}\n`);
  }
  return out;
}

const json = <T>(text: string | undefined): T[] => {
  const t = text?.trim();
  if (!t || t === 'null') return [];
  return JSON.parse(t) as T[];
};

function rulesOf(text: string | undefined): DvrRule[] {
  return json<RuleJson>(text)
    .filter((r) => !FIXED_RULE_PRIORITIES.has(r.priority) && r.src !== undefined && r.table !== undefined && /^\d+$/.test(r.table))
    .map((r) => ({
      priority: r.priority,
      from: `${r.src === 'all' ? '0.0.0.0' : r.src}/${r.srclen ?? (r.src === 'all' ? 0 : 32)}`,
      table: Number(r.table),
    }));
}

function tablesOf(text: string | undefined): DvrTableRoute[] {
  return json<RouteJson>(text)
    .filter((r) => r.table !== undefined && !FIXED_TABLES.has(r.table) && /^\d+$/.test(r.table) && r.dst === 'default')
    .map((r) => ({ table: Number(r.table), via: r.gateway ?? '', dev: r.dev ?? '' }));
}

function fipNamespaceOf(addr: string | undefined, routes: string | undefined): ObservedFipNamespace {
  const links = new Map<string, { kind: string | null; up: boolean; addresses: string[] }>();
  for (const l of json<AddrJson>(addr)) {
    links.set(l.ifname, {
      kind: l.linkinfo?.info_kind ?? null,
      up: (l.flags ?? []).includes('UP'),
      addresses: (l.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
    });
  }
  const viaFpr = json<RouteJson>(routes)
    .filter((r) => r.dev?.startsWith('fpr-') && r.protocol === 'static')
    .map((r) => ({ destination: r.dst.includes('/') ? r.dst : `${r.dst}/32`, via: r.gateway ?? null, dev: r.dev ?? '' }));
  return { links, routes: viaFpr };
}

const EMPTY: DvrRouterSpec = { rules: [], tables: [], fipLink: null };
const ruleKey = (r: DvrRule): string => `${r.priority} ${r.from} ${r.table}`;
const tableKey = (t: DvrTableRoute): string => `${t.table} ${t.via} ${t.dev}`;
const ipOf = (cidr: string): string => cidr.slice(0, cidr.indexOf('/'));

/** Actions in apply order: the pair, its addresses, the routes, the rules. */
export function diffDvrRouter(desired: DvrRouterSpec, observed: DvrRouterObservation): DvrRouterAction[] {
  const q = observed.namespace;
  const out: DvrRouterAction[] = [];
  const link: DvrFipLink | null = desired.fipLink;
  const rfpHave = observed.rfp.get(link?.rfp ?? '');
  for (const l of observed.rfp.values()) {
    if (l.name.startsWith('rfp-') && l.name !== link?.rfp) out.push({ ns: q, line: `link del ${l.name}`, order: 0, tolerate: true });
  }
  let fresh = false;
  if (link) {
    const fip = observed.fipNamespaces.get(link.fipNamespace);
    const fpr = fip?.links.get(link.fpr);
    const paired = rfpHave?.kind === 'veth' && rfpHave.linkIndex !== null && fpr?.kind === 'veth';
    if (!paired) {
      fresh = true;
      if (rfpHave) out.push({ ns: q, line: `link del ${link.rfp}`, order: 0, tolerate: true });
      if (fpr) out.push({ ns: link.fipNamespace, line: `link del ${link.fpr}`, order: 0, tolerate: true });
      out.push(
        { ns: q, line: `link add ${link.rfp} type veth peer name ${link.fpr} netns ${link.fipNamespace}`, order: 1 },
        { ns: q, line: `addr add ${link.rfpAddress} dev ${link.rfp}`, order: 2 },
        { ns: q, line: `link set ${link.rfp} up`, order: 2 },
        { ns: link.fipNamespace, line: `addr add ${link.fprAddress} dev ${link.fpr}`, order: 2 },
        { ns: link.fipNamespace, line: `link set ${link.fpr} up`, order: 2 },
      );
    } else {
      const fix = (ns: string, dev: string, have: { up: boolean; addresses: readonly string[] }, want: string) => {
        for (const a of have.addresses) if (a !== want) out.push({ ns, line: `addr del ${a} dev ${dev}`, order: 2 });
        if (!have.addresses.includes(want)) out.push({ ns, line: `addr add ${want} dev ${dev}`, order: 2 });
        if (!have.up) out.push({ ns, line: `link set ${dev} up`, order: 2 });
      };
      fix(q, link.rfp, rfpHave, link.rfpAddress);
      fix(link.fipNamespace, link.fpr, fpr, link.fprAddress);
    }
    const via = ipOf(link.rfpAddress);
    const have = fresh ? [] : (fip?.routes ?? []).filter((r) => r.dev === link.fpr);
    const want = new Set(link.fipRoutes);
    for (const r of have) {
      if (!want.has(r.destination) || r.via !== via)
        out.push({ ns: link.fipNamespace, line: `route del ${r.destination} dev ${link.fpr}`, order: 3 });
    }
    for (const d of link.fipRoutes) {
      if (!have.some((r) => r.destination === d && r.via === via)) {
        out.push({ ns: link.fipNamespace, line: `route replace ${d} via ${via} dev ${link.fpr} proto static`, order: 3 });
      }
    }
  }
  // A table's default route through a recreated rfp- went with the old device.
  const tablesHave = observed.exists ? observed.tables.filter((t) => !(fresh && t.dev === link?.rfp)) : [];
  const wantTables = new Set(desired.tables.map(tableKey));
  for (const t of tablesHave) {
    if (!wantTables.has(tableKey(t)) && !desired.tables.some((d) => d.table === t.table)) {
      out.push({ ns: q, line: `route del default table ${t.table}`, order: 3, tolerate: true });
    }
  }
  const haveTables = new Set(tablesHave.map(tableKey));
  for (const t of desired.tables) {
    if (!haveTables.has(tableKey(t)))
      out.push({ ns: q, line: `route replace default via ${t.via} dev ${t.dev} table ${t.table} proto static`, order: 3 });
  }
  const rulesHave = observed.exists ? observed.rules : [];
  const wantRules = new Set(desired.rules.map(ruleKey));
  for (const r of rulesHave) {
    if (!wantRules.has(ruleKey(r))) out.push({ ns: q, line: `rule del priority ${r.priority} from ${r.from} table ${r.table}`, order: 4 });
  }
  const haveRules = new Set(rulesHave.map(ruleKey));
  for (const r of desired.rules) {
    if (!haveRules.has(ruleKey(r))) out.push({ ns: q, line: `rule add priority ${r.priority} from ${r.from} table ${r.table}`, order: 4 });
  }
  return out;
}

export const dvrRouterDriver: Driver<DvrRouterObservation, DvrRouterAction> = {
  name: 'dvr-router',
  probeSysctls: ['net.ipv4.conf.*.proxy_arp'],

  async observe(keys, snapshot, ctx) {
    const out = new Map<UnitKey, DvrRouterObservation>();
    if (ctx.config.agentMode === 'legacy') return out;
    const routerKeys = keys.filter((k) => k.startsWith('router:'));
    if (routerKeys.length === 0) return out;
    const namespaces = routerKeys.map((k) => routerNamespace(ctx.config, idOfKey(k)));
    const fipPrefix = `${ctx.config.namespacePrefix}fip-`;
    let fips: string[] = [];
    try {
      fips = (await readdir('/run/netns')).filter((n) => n.startsWith(fipPrefix)).sort();
    } catch {
      fips = [];
    }
    const r = await ctx.exec.run('sh', ['-c', OBSERVE_SCRIPT, 'sh', namespaces.join(' '), ...fips], { mutating: false });
    const sections = parseSections(r.stdout);
    const fipNamespaces = new Map(fips.map((f) => [f, fipNamespaceOf(sections.get(`F ${f}`), sections.get(`R ${f}`))]));
    for (const [i, key] of routerKeys.entries()) {
      const ns = namespaces[i] as string;
      const own = snapshot.get(ns);
      const rfp = new Map([...(own?.links.values() ?? [])].filter((l) => l.name.startsWith('rfp-')).map((l) => [l.name, l]));
      out.set(key, {
        namespace: ns,
        exists: own?.exists === true && !own.broken,
        rules: rulesOf(sections.get(`Q ${ns}`)),
        tables: tablesOf(sections.get(`T ${ns}`)),
        rfp,
        fipNamespaces,
      });
    }
    return out;
  },

  diff(key, unit, observed) {
    if (!observed || !key.startsWith('router:')) return [];
    // A removed router loses its namespace, and its rules and rfp- (with the fpr- end) with it.
    if (unit?.kind !== 'router') return [];
    return diffDvrRouter(unit.router.dvr ?? EMPTY, observed);
  },

  async apply(_key, actions, ctx) {
    const script = new Script();
    for (const a of [...actions].sort((x, y) => x.order - y.order)) {
      script.command(['ip', '-n', a.ns, ...a.line.split(' ')], a.tolerate === true);
    }
    if (!script.empty) await ctx.exec.run('sh', ['-c', script.render()], { mutating: true });
  },

  describe(a) {
    return `${a.ns}: ${a.line}`;
  },
};
