import ipaddr from 'ipaddr.js';
import { FW_TABLE, firewallAllows, type RouterFirewallSpec } from '../../projections/desired-state/fwaas.js';
import {
  SG_TABLE_PREFIX,
  flowAllowed,
  renderPortFilter,
  sgTableName,
  type Flow,
  type PortFilterSpec,
} from '../../projections/desired-state/security-groups.js';
import { renderSetBody, type NftChain, type NftSet, type NftVerdictMap, type UnitKey } from '../../projections/desired-state/index.js';
import { canonicalPrefix } from '../../projections/desired-state/ip.js';
import { routerNamespace } from '../../projections/desired-state/names.js';
import { idOfKey } from '../config.js';
import type { Driver, DriverContext } from '../driver.js';
import type { CommandRunner } from '../exec.js';
import type { ObservedChain } from './nat.js';

/**
 * Security groups (`network:<id>` keys: two tables per network in the host namespace, see
 * projections/desired-state/security-groups.ts) and FWaaS v2 (`router:<id>` keys:
 * `table inet netledger-fw` in the router namespace).
 *
 * Observed with one read-only `nft -j` process per pass (host namespace ruleset plus the
 * firewall table of each router key), skipped while this agent knows there is nothing of ours to
 * see: a pass over a host without filtering stays one process. Security-group tables change
 * incrementally in one `nft -f` transaction: only the chains, set elements and verdict-map
 * elements that differ are rewritten, so a change to one port or group leaves the others alone.
 * After a change, conntrack entries of flows the new rules would not let start are deleted
 * (judged per entry against the compiled rules), so a removed rule also stops live flows.
 */

export const BRIDGE_NF_SYSCTLS = ['net.bridge.bridge-nf-call-iptables', 'net.bridge.bridge-nf-call-ip6tables'] as const;

export interface ObservedTable {
  readonly chains: ReadonlyMap<string, ObservedChain>;
  readonly sets: ReadonlyMap<string, readonly string[]>;
  readonly maps: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

export interface FirewallObservation {
  /** false: not listed this pass (the agent believes none of its tables exist). */
  readonly known: boolean;
  readonly bridge: ObservedTable | null;
  readonly inet: ObservedTable | null;
  /** bridge-nf-call-* values in the host namespace. */
  readonly bridgeNf: readonly (string | undefined)[];
}

export type FirewallAction =
  | { readonly kind: 'sysctl'; readonly keys: readonly string[] }
  | { readonly kind: 'nft'; readonly ns: 'host' | 'router'; readonly script: string; readonly summary: string }
  | { readonly kind: 'conntrack'; readonly ns: 'host' | 'router'; readonly zone: number | null };

/** Per command runner (one per agent): whether tables of ours may exist on the host. */
const inUse = new WeakMap<CommandRunner, boolean>();

interface NftJsonItem {
  table?: { family: string; name: string };
  chain?: { family: string; table: string; name: string; type?: string; hook?: string; prio?: number; policy?: string };
  rule?: { family: string; table: string; chain: string; comment?: string };
  set?: { family: string; table: string; name: string; elem?: unknown[] };
  map?: { family: string; table: string; name: string; elem?: unknown[] };
}

interface MutableTable {
  chains: Map<string, { hook: ObservedChain['hook']; policy: string | null; ruleIds: string[] }>;
  sets: Map<string, string[]>;
  maps: Map<string, Map<string, string>>;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** A set element as nft input text (the form the compiler writes), from `nft -j` output. */
function elementText(e: unknown): string {
  if (typeof e === 'string') {
    if (MAC.test(e)) return e;
    if (ipaddr.isValid(e)) return canonicalPrefix(e);
    return JSON.stringify(e);
  }
  const o = e as { prefix?: { addr: string; len: number }; elem?: { val: unknown }; range?: [string, string]; concat?: unknown[] };
  if (o.concat) return o.concat.map(elementText).join(' . ');
  if (o.prefix) return canonicalPrefix(`${o.prefix.addr}/${o.prefix.len}`);
  if (o.elem) return elementText(o.elem.val);
  if (o.range) return `${o.range[0]}-${o.range[1]}`;
  return JSON.stringify(e);
}

/** `nft -j list ruleset` → tables by `family name`. */
export function parseRuleset(json: unknown): Map<string, ObservedTable> {
  const tables = new Map<string, MutableTable>();
  const items = (json as { nftables?: NftJsonItem[] } | null)?.nftables ?? [];
  const table = (family: string, name: string): MutableTable => {
    const k = `${family} ${name}`;
    let t = tables.get(k);
    if (!t) {
      t = { chains: new Map(), sets: new Map(), maps: new Map() };
      tables.set(k, t);
    }
    return t;
  };
  for (const item of items) {
    if (item.table) table(item.table.family, item.table.name);
    else if (item.chain) {
      const c = item.chain;
      table(c.family, c.table).chains.set(c.name, {
        hook: c.hook !== undefined && c.type !== undefined ? { type: c.type, hook: c.hook, priority: c.prio ?? 0 } : null,
        policy: c.policy ?? null,
        ruleIds: [],
      });
    } else if (item.rule) {
      table(item.rule.family, item.rule.table)
        .chains.get(item.rule.chain)
        ?.ruleIds.push(item.rule.comment ?? '');
    } else if (item.set) {
      table(item.set.family, item.set.table).sets.set(item.set.name, (item.set.elem ?? []).map(elementText));
    } else if (item.map) {
      const m = new Map<string, string>();
      for (const e of item.map.elem ?? []) {
        const [key, verdict] = e as [unknown, { jump?: { target: string }; goto?: { target: string } }];
        m.set(String(key), verdict?.jump?.target ?? verdict?.goto?.target ?? JSON.stringify(verdict));
      }
      table(item.map.family, item.map.table).maps.set(item.map.name, m);
    }
  }
  return tables as Map<string, ObservedTable>;
}

function chainMatches(want: NftChain, have: ObservedChain | undefined): boolean {
  if (!have) return false;
  if ((want.hook === null) !== (have.hook === null)) return false;
  if (want.hook && have.hook) {
    if (want.hook.type !== have.hook.type || want.hook.hook !== have.hook.hook || want.hook.priority !== have.hook.priority) return false;
    if (have.policy !== 'accept') return false;
  }
  return want.rules.length === have.ruleIds.length && want.rules.every((r, i) => r.id === have.ruleIds[i]);
}

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

function tableMatches(
  chains: readonly NftChain[],
  maps: readonly NftVerdictMap[],
  have: ObservedTable | null,
  sets: readonly NftSet[] = [],
): boolean {
  if (!have) return false;
  if (have.chains.size !== chains.length || have.maps.size !== maps.length || have.sets.size !== sets.length) return false;
  if (!chains.every((c) => chainMatches(c, have.chains.get(c.name)))) return false;
  if (!sets.every((s) => sameList([...(have.sets.get(s.name) ?? ['?'])].sort(), [...s.elements].sort()))) return false;
  return maps.every((m) => mapMatches(m, have.maps.get(m.name)));
}

function mapMatches(want: NftVerdictMap, have: ReadonlyMap<string, string> | undefined): boolean {
  return !!have && have.size === want.elements.length && want.elements.every((e) => have.get(e.key) === e.chain);
}

/**
 * The `nft -f` input taking the observed bridge table to the desired one without touching what
 * already matches. Null: nothing to do.
 */
export function incrementalScript(spec: PortFilterSpec, have: ObservedTable): { script: string; changed: number } | null {
  const t = `bridge ${spec.table}`;
  const out: string[] = [];
  const late: string[] = [];
  let changed = 0;
  const wantSets = new Map(spec.sets.map((s) => [s.name, s]));
  for (const s of spec.sets) {
    const cur = have.sets.get(s.name);
    if (cur === undefined) {
      out.push(
        `add set ${t} ${s.name} { ${renderSetBody(s)
          .map((l) => l.trim())
          .join('; ')}; }`,
      );
      changed++;
    } else if (!sameList([...cur].sort(), [...s.elements].sort())) {
      out.push(`flush set ${t} ${s.name}`);
      if (s.elements.length > 0) out.push(`add element ${t} ${s.name} { ${s.elements.join(', ')} }`);
      changed++;
    }
  }
  const regular = spec.chains.filter((c) => c.hook === null);
  for (const c of regular) if (!have.chains.has(c.name)) out.push(`add chain ${t} ${c.name}`);
  for (const c of regular) {
    if (chainMatches(c, have.chains.get(c.name))) continue;
    changed++;
    if (have.chains.has(c.name)) out.push(`flush chain ${t} ${c.name}`);
    for (const r of c.rules) out.push(`add rule ${t} ${c.name} ${r.statement} comment "${r.id}"`);
  }
  for (const m of spec.maps) {
    const cur = have.maps.get(m.name) ?? new Map<string, string>();
    const want = new Map(m.elements.map((e) => [e.key, e.chain]));
    const drop = [...cur].filter(([k, v]) => want.get(k) !== v).map(([k]) => k);
    const add = m.elements.filter((e) => cur.get(e.key) !== e.chain);
    if (drop.length > 0) out.push(`delete element ${t} ${m.name} { ${drop.map((k) => JSON.stringify(k)).join(', ')} }`);
    if (add.length > 0)
      out.push(`add element ${t} ${m.name} { ${add.map((e) => `${JSON.stringify(e.key)} : jump ${e.chain}`).join(', ')} }`);
    changed += drop.length + add.length;
  }
  // Stale chains and sets go last, once nothing refers to them any more.
  const wantChains = new Set(spec.chains.map((c) => c.name));
  for (const name of have.chains.keys()) {
    if (wantChains.has(name)) continue;
    out.push(`flush chain ${t} ${name}`);
    late.push(`delete chain ${t} ${name}`);
    changed++;
  }
  for (const name of have.sets.keys()) {
    if (!wantSets.has(name)) {
      late.push(`delete set ${t} ${name}`);
      changed++;
    }
  }
  if (changed === 0) return null;
  return { script: [...out, ...late, ''].join('\n'), changed };
}

/** Whether the observed bridge table can be patched (same base chains and maps) or must be replaced. */
function patchable(spec: PortFilterSpec, have: ObservedTable | null): have is ObservedTable {
  if (!have) return false;
  const base = spec.chains.filter((c) => c.hook !== null);
  if (!base.every((c) => chainMatches(c, have.chains.get(c.name)))) return false;
  if ([...have.chains.entries()].some(([name, c]) => c.hook !== null && !base.some((b) => b.name === name))) return false;
  return spec.maps.every((m) => have.maps.has(m.name)) && have.maps.size === spec.maps.length;
}

export function diffPortFilter(spec: PortFilterSpec | null, observed: FirewallObservation, tableName: string): FirewallAction[] {
  const actions: FirewallAction[] = [];
  if (spec === null) {
    if (observed.known && (observed.bridge || observed.inet)) {
      const script = [
        ...(observed.bridge ? [`delete table bridge ${tableName}`] : []),
        ...(observed.inet ? [`delete table inet ${tableName}`] : []),
        '',
      ].join('\n');
      actions.push({ kind: 'nft', ns: 'host', script, summary: `delete ${tableName}` });
    }
    return actions;
  }
  const off = BRIDGE_NF_SYSCTLS.filter((_, i) => observed.bridgeNf[i] !== '1');
  if (off.length > 0) actions.push({ kind: 'sysctl', keys: off });
  const inetOk = tableMatches(spec.inetChains, [], observed.inet);
  if (!observed.known || !inetOk || !patchable(spec, observed.bridge)) {
    actions.push({
      kind: 'nft',
      ns: 'host',
      script: renderPortFilter(spec),
      summary: `replace ${spec.table} (${spec.ports.length} ports)`,
    });
  } else {
    const patch = incrementalScript(spec, observed.bridge);
    if (patch) actions.push({ kind: 'nft', ns: 'host', script: patch.script, summary: `patch ${spec.table} (${patch.changed} objects)` });
  }
  if (actions.some((a) => a.kind === 'nft')) actions.push({ kind: 'conntrack', ns: 'host', zone: spec.zone });
  return actions;
}

export function diffRouterFirewall(spec: RouterFirewallSpec | null, observed: FirewallObservation): FirewallAction[] {
  if (spec === null) {
    return observed.known && observed.inet
      ? [{ kind: 'nft', ns: 'router', script: `delete table inet ${FW_TABLE}\n`, summary: `delete ${FW_TABLE}` }]
      : [];
  }
  if (observed.known && tableMatches(spec.chains, spec.maps, observed.inet)) return [];
  return [
    { kind: 'nft', ns: 'router', script: spec.ruleset, summary: `replace ${FW_TABLE} (${spec.ports.length} ports)` },
    { kind: 'conntrack', ns: 'router', zone: null },
  ];
}

// Only the tables of the keys being observed: listing a whole ruleset with thousands of rules
// costs nft far more than the few tables a change touches.
const OBSERVE_SCRIPT = `
host="$1"; n="$2"; shift 2
tables=""; i=0
while [ "$i" -lt "$n" ]; do tables="$tables $1"; shift; i=$((i+1)); done
if [ -n "$tables" ]; then
  if [ -e "/run/netns/$host" ]; then
    ip netns exec "$host" sh -c 'for t in "$@"; do for f in bridge inet; do printf "\n@@T %s %s\n" "$f" "$t"; nft -j list table "$f" "$t" 2>/dev/null || printf null; done; done' sh $tables
  else
    for t in $tables; do for f in bridge inet; do printf '\n@@T %s %s\n' "$f" "$t"; printf null; done; done
  fi
fi
for ns in "$@"; do
  printf '\n@@NS %s\n' "$ns"
  if [ -e "/run/netns/$ns" ]; then ip netns exec "$ns" nft -j list table inet ${FW_TABLE} 2>/dev/null || printf null; else printf null; fi
done
`;

function parseJson(text: string | undefined): unknown {
  const t = text?.trim();
  if (!t || t === 'null') return null;
  return JSON.parse(t) as unknown;
}

async function listTables(
  ctx: DriverContext,
  sgTables: readonly string[],
  routerNamespaces: readonly string[],
): Promise<{ host: Map<string, ObservedTable>; routers: Map<string, ObservedTable | null> }> {
  const { stdout } = await ctx.exec.run(
    'sh',
    ['-c', OBSERVE_SCRIPT, 'sh', ctx.config.hostNamespace, String(sgTables.length), ...sgTables, ...routerNamespaces],
    { mutating: false },
  );
  const sections = stdout.split(/\n?@@(T [^\n]*|NS [^\n]*)\n/);
  const host = new Map<string, ObservedTable>();
  const routers = new Map<string, ObservedTable | null>();
  for (let i = 1; i < sections.length; i += 2) {
    const tag = sections[i] ?? '';
    const json = parseJson(sections[i + 1]);
    if (tag.startsWith('T ')) {
      const name = tag.slice(2);
      const table = parseRuleset(json).get(name);
      if (table) host.set(name, table);
    } else routers.set(tag.slice(3), parseRuleset(json).get(`inet ${FW_TABLE}`) ?? null);
  }
  return { host, routers };
}

// ---- conntrack ----

const PROTO_BY_NAME: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58, sctp: 132, dccp: 33, udplite: 136 };

export interface ConntrackEntry {
  /** conntrack -D arguments selecting exactly this entry. */
  readonly selector: readonly string[];
  /** The flow as the forward hook judged it: original source, reply source (post-DNAT destination). */
  readonly flow: Flow;
}

/** `conntrack -L` lines (default output format). */
export function parseConntrack(text: string): ConntrackEntry[] {
  const out: ConntrackEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(\d+)\s/.exec(line.replace(/^ipv[46]\s+\d+\s+/, ''));
    if (!m) continue;
    const name = m[1] ?? '';
    const protocol = PROTO_BY_NAME[name] ?? Number(m[2]);
    const fields: [string, string][] = [...line.matchAll(/(\w+)=(\S+)/g)].map((x) => [x[1] ?? '', x[2] ?? '']);
    const first = (k: string, nth = 0): string | undefined => fields.filter(([f]) => f === k)[nth]?.[1];
    const src = first('src');
    const dst = first('dst');
    const replySrc = first('src', 1) ?? dst;
    if (!src || !dst || !replySrc) continue;
    const sport = first('sport');
    const dport = first('dport');
    const type = first('type');
    const code = first('code');
    const id = first('id');
    const zone = first('zone');
    const version = src.includes(':') ? 6 : 4;
    const selector = ['-f', version === 4 ? 'ipv4' : 'ipv6', '-p', name, '-s', src, '-d', dst];
    if (sport && dport) selector.push('--sport', sport, '--dport', dport);
    if (type && code && (protocol === 1 || protocol === 58))
      selector.push('--icmp-type', type, '--icmp-code', code, ...(id ? ['--icmp-id', id] : []));
    if (zone) selector.push('-w', zone);
    out.push({
      selector,
      flow: {
        ipVersion: version,
        protocol,
        src,
        dst: replySrc,
        sport: sport ? Number(sport) : null,
        dport: dport ? Number(dport) : null,
        icmpType: type ? Number(type) : null,
        icmpCode: code ? Number(code) : null,
      },
    });
  }
  return out;
}

async function cleanConntrack(ctx: DriverContext, ns: string, zone: number | null, allowed: (f: Flow) => boolean): Promise<void> {
  const z = zone === null ? '' : ` -w ${zone}`;
  const list = await ctx.exec.run(
    'ip',
    ['netns', 'exec', ns, 'sh', '-c', `conntrack -L -f ipv4${z} 2>/dev/null; conntrack -L -f ipv6${z} 2>/dev/null; exit 0`],
    {
      mutating: false,
    },
  );
  const stale = parseConntrack(list.stdout).filter((e) => !allowed(e.flow));
  if (stale.length === 0) return;
  const script = stale.map((e) => `conntrack -D ${e.selector.join(' ')} >/dev/null 2>&1`).join('\n') + '\nexit 0\n';
  await ctx.exec.run('ip', ['netns', 'exec', ns, 'sh', '-c', script], { mutating: true });
}

function specsOf(key: UnitKey, unit: Parameters<Driver['diff']>[1]): { sg: PortFilterSpec | null; fw: RouterFirewallSpec | null } {
  if (key.startsWith('network:')) return { sg: unit?.kind === 'network' ? (unit.network.securityGroups ?? null) : null, fw: null };
  return { sg: null, fw: unit?.kind === 'router' ? (unit.router.firewall ?? null) : null };
}

/** Desired specs of the keys being applied, remembered from diff for the conntrack judgement. */
const pendingSpecs = new WeakMap<CommandRunner, Map<UnitKey, { sg: PortFilterSpec | null; fw: RouterFirewallSpec | null }>>();

export const firewallDriver: Driver<FirewallObservation, FirewallAction> = {
  name: 'firewall',
  probeSysctls: BRIDGE_NF_SYSCTLS,

  async observe(keys, snapshot, ctx) {
    const out = new Map<UnitKey, FirewallObservation>();
    const relevant = keys.filter((k) => k.startsWith('network:') || k.startsWith('router:'));
    if (relevant.length === 0) return out;
    const hostSysctls = snapshot.get(ctx.config.hostNamespace)?.sysctls;
    const bridgeNf = BRIDGE_NF_SYSCTLS.map((k) => hostSysctls?.get(k));
    if (inUse.get(ctx.exec) === false) {
      for (const k of relevant) out.set(k, { known: false, bridge: null, inet: null, bridgeNf });
      return out;
    }
    const routerNs = relevant.filter((k) => k.startsWith('router:')).map((k) => routerNamespace(ctx.config, idOfKey(k)));
    const sgTables = relevant.filter((k) => k.startsWith('network:')).map((k) => sgTableName(idOfKey(k)));
    const { host, routers } = await listTables(ctx, sgTables, routerNs);
    // Once something of ours was seen it stays "in use"; only a first look that finds nothing
    // lets later passes skip the listing (apply and discover turn it back on).
    const any = host.size > 0 || [...routers.values()].some((t) => t !== null);
    if (any || !inUse.has(ctx.exec)) inUse.set(ctx.exec, any);
    for (const k of relevant) {
      if (k.startsWith('network:')) {
        const table = sgTableName(idOfKey(k));
        out.set(k, { known: true, bridge: host.get(`bridge ${table}`) ?? null, inet: host.get(`inet ${table}`) ?? null, bridgeNf });
      } else {
        out.set(k, { known: true, bridge: null, inet: routers.get(routerNamespace(ctx.config, idOfKey(k))) ?? null, bridgeNf });
      }
    }
    return out;
  },

  diff(key, unit, observed, ctx) {
    if (!observed) return [];
    const specs = specsOf(key, unit);
    let actions: FirewallAction[];
    if (key.startsWith('network:')) actions = diffPortFilter(specs.sg, observed, sgTableName(idOfKey(key)));
    else if (unit === undefined)
      actions = []; // the namespace goes, and the table with it
    else actions = diffRouterFirewall(specs.fw, observed);
    if (actions.length > 0) {
      const m = pendingSpecs.get(ctx.exec) ?? new Map();
      m.set(key, specs);
      pendingSpecs.set(ctx.exec, m);
    }
    return actions;
  },

  async apply(key, actions, ctx) {
    inUse.set(ctx.exec, true);
    const host = ctx.config.hostNamespace;
    const router = key.startsWith('router:') ? routerNamespace(ctx.config, idOfKey(key)) : host;
    const specs = pendingSpecs.get(ctx.exec)?.get(key);
    for (const a of actions) {
      if (a.kind === 'sysctl') {
        const writes = a.keys.map((k) => `echo 1 > /proc/sys/${k.replace(/\./g, '/')}`).join('; ');
        await ctx.exec.run('ip', ['netns', 'exec', host, 'sh', '-c', writes], { mutating: true });
      } else if (a.kind === 'nft') {
        await ctx.exec.run('ip', ['netns', 'exec', a.ns === 'host' ? host : router, 'nft', '-f', '-'], { mutating: true, input: a.script });
      } else if (a.ns === 'host' && specs?.sg) {
        const sg = specs.sg;
        await cleanConntrack(ctx, host, a.zone, (f) => flowAllowed(sg, f));
      } else if (a.ns === 'router' && specs?.fw) {
        const fw = specs.fw;
        await cleanConntrack(ctx, router, null, (f) => firewallAllows(fw, f));
      }
    }
  },

  /** Networks whose tables are still on the host (a network gone from the topology leaves them). */
  async discover(ctx) {
    const r = await ctx.exec.run('ip', ['netns', 'exec', ctx.config.hostNamespace, 'nft', 'list', 'tables'], {
      mutating: false,
      reject: false,
    });
    const keys = new Set<UnitKey>();
    for (const m of r.stdout.matchAll(new RegExp(`^table (?:bridge|inet) ${SG_TABLE_PREFIX}(\\S+)$`, 'gm')))
      keys.add(`network:${m[1] ?? ''}`);
    if (keys.size > 0) inUse.set(ctx.exec, true);
    return [...keys];
  },

  describe(a) {
    if (a.kind === 'sysctl') return `sysctl ${a.keys.join(',')}=1`;
    if (a.kind === 'nft') return a.summary;
    return `conntrack cleanup${a.zone === null ? '' : ` zone ${a.zone}`}`;
  },
};
