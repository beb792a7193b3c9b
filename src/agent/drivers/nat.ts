import { NAT_TABLE, type FloatingIpMapping, type NatSpec, type UnitKey } from '../../projections/desired-state/index.js';
import { routerNamespace, snatNamespace } from '../../projections/desired-state/names.js';
import { idOfKey } from '../config.js';
import type { Driver, DriverContext } from '../driver.js';

/**
 * One `table ip netledger-nat` per router namespace. Observed with `nft -j list table` (in the
 * shared probe); replaced whole and atomically with `nft -f -`. Rules are identified by their
 * comment (a digest of chain + statement), so any edited, missing or extra rule shows up.
 * Conntrack entries of floating IPs that went away are flushed, or live flows keep the old NAT.
 */

export interface ObservedChain {
  readonly hook: { readonly type: string; readonly hook: string; readonly priority: number } | null;
  readonly policy: string | null;
  readonly ruleIds: readonly string[];
}

export interface NatObservation {
  readonly namespace: string;
  readonly namespaceExists: boolean;
  /** null: no table. */
  readonly chains: ReadonlyMap<string, ObservedChain> | null;
  /** DNAT mappings currently installed (from the fip_dnat chain). */
  readonly floatingIps: readonly FloatingIpMapping[];
}

export type NatAction =
  | { readonly kind: 'replace'; readonly ruleset: string }
  | { readonly kind: 'delete-table' }
  | { readonly kind: 'flush-conntrack'; readonly addresses: readonly string[] };

interface NftItem {
  chain?: { name: string; type?: string; hook?: string; prio?: number; policy?: string };
  rule?: { chain: string; comment?: string; expr?: unknown[] };
}

export function parseNftTable(json: unknown): Pick<NatObservation, 'chains' | 'floatingIps'> {
  const items = (json as { nftables?: NftItem[] } | null)?.nftables;
  if (!items) return { chains: null, floatingIps: [] };
  const chains = new Map<string, { hook: ObservedChain['hook']; policy: string | null; ruleIds: string[] }>();
  const floatingIps: FloatingIpMapping[] = [];
  for (const item of items) {
    if (item.chain) {
      const c = item.chain;
      chains.set(c.name, {
        hook: c.hook !== undefined && c.type !== undefined ? { type: c.type, hook: c.hook, priority: c.prio ?? 0 } : null,
        policy: c.policy ?? null,
        ruleIds: [],
      });
    } else if (item.rule) {
      chains.get(item.rule.chain)?.ruleIds.push(item.rule.comment ?? '');
      if (item.rule.chain === 'fip_dnat') {
        const mapping = dnatMapping(item.rule.expr ?? []);
        if (mapping) floatingIps.push(mapping);
      }
    }
  }
  return { chains, floatingIps };
}

function dnatMapping(expr: unknown[]): FloatingIpMapping | null {
  let floatingIp: string | null = null;
  let fixedIp: string | null = null;
  for (const e of expr as Record<string, unknown>[]) {
    const match = e['match'] as { left?: { payload?: { field?: string } }; right?: unknown } | undefined;
    if (match?.left?.payload?.field === 'daddr' && typeof match.right === 'string') floatingIp = match.right;
    const dnat = e['dnat'] as { addr?: unknown } | undefined;
    if (typeof dnat?.addr === 'string') fixedIp = dnat.addr;
  }
  return floatingIp !== null && fixedIp !== null ? { floatingIp, fixedIp } : null;
}

export function natMatches(desired: NatSpec, chains: ReadonlyMap<string, ObservedChain>): boolean {
  if (chains.size !== desired.chains.length) return false;
  for (const want of desired.chains) {
    const have = chains.get(want.name);
    if (!have) return false;
    if ((want.hook === null) !== (have.hook === null)) return false;
    if (want.hook && have.hook) {
      if (want.hook.type !== have.hook.type || want.hook.hook !== have.hook.hook || want.hook.priority !== have.hook.priority) return false;
      if (have.policy !== 'accept') return false;
    }
    if (want.rules.length !== have.ruleIds.length) return false;
    if (want.rules.some((r, i) => r.id !== have.ruleIds[i])) return false;
  }
  return true;
}

export function diffNat(desired: NatSpec | null, observed: NatObservation): NatAction[] {
  const actions: NatAction[] = [];
  if (desired === null) {
    if (observed.chains !== null) actions.push({ kind: 'delete-table' });
  } else if (observed.chains === null || !natMatches(desired, observed.chains)) {
    actions.push({ kind: 'replace', ruleset: desired.ruleset });
  }
  const kept = new Set((desired?.floatingIps ?? []).map((f) => `${f.floatingIp}>${f.fixedIp}`));
  const gone = observed.floatingIps.filter((f) => !kept.has(`${f.floatingIp}>${f.fixedIp}`)).map((f) => f.floatingIp);
  if (gone.length > 0 && actions.length > 0) actions.push({ kind: 'flush-conntrack', addresses: [...new Set(gone)].sort() });
  return actions;
}

/** Router keys NAT in their qrouter, a distributed router's snat key in its snat namespace. */
function natNamespace(config: DriverContext['config'], key: UnitKey): string | null {
  if (key.startsWith('router:')) return routerNamespace(config, idOfKey(key));
  if (key.startsWith('snat:')) return snatNamespace(config, idOfKey(key));
  return null;
}

// Flows to the FIP (DNATed) and flows SNATed to it (reply destination is the FIP).
const FLUSH_SCRIPT = 'for a in "$@"; do conntrack -D -d "$a"; conntrack -D -q "$a"; done >/dev/null 2>&1; exit 0';

export const natDriver: Driver<NatObservation, NatAction> = {
  name: 'nat',

  async observe(keys, snapshot, ctx) {
    const out = new Map<UnitKey, NatObservation>();
    for (const key of keys) {
      const namespace = natNamespace(ctx.config, key);
      if (namespace === null) continue;
      const ns = snapshot.get(namespace);
      out.set(key, { namespace, namespaceExists: ns?.exists ?? false, ...parseNftTable(ns?.nft ?? null) });
    }
    return out;
  },

  diff(key, unit, observed) {
    if (!observed) return [];
    // A removed router loses its namespace, and the table with it.
    if (unit?.kind === 'router') return diffNat(unit.router.nat, observed);
    if (unit?.kind === 'snat') return diffNat(unit.snat.nat, observed);
    return [];
  },

  async apply(key, actions, ctx) {
    const ns = natNamespace(ctx.config, key);
    if (ns === null) return;
    for (const a of actions) {
      if (a.kind === 'replace') {
        await ctx.exec.run('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { mutating: true, input: a.ruleset });
      } else if (a.kind === 'delete-table') {
        await ctx.exec.run('ip', ['netns', 'exec', ns, 'nft', 'delete', 'table', 'ip', NAT_TABLE], { mutating: true });
      } else {
        await ctx.exec.run('ip', ['netns', 'exec', ns, 'sh', '-c', FLUSH_SCRIPT, 'sh', ...a.addresses], { mutating: true });
      }
    }
  },

  describe(a) {
    return a.kind === 'flush-conntrack' ? `conntrack flush ${a.addresses.join(',')}` : a.kind;
  },
};
