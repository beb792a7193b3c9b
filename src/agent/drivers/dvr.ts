import type { DvrHostSpec, UnitKey } from '../../projections/desired-state/index.js';
import { DVR_TABLE } from '../../projections/desired-state/dvr.js';
import type { Driver } from '../driver.js';
import { parseNftTable, type ObservedChain } from './nat.js';

/**
 * The host's DVR MAC rewrite (projections/desired-state/dvr.ts): one `table bridge netledger-dvr`
 * in the host namespace, on the `host` key. Observed with `nft -j list table`, replaced whole with
 * `nft -f -`. It stays while the agent runs in a DVR mode with a DVR MAC (a host registered
 * before DVR has none, and has the table removed). A legacy agent never looks for it and pays no
 * command for it.
 *
 * The table is loaded only while the namespace holds a bridge: a bridge-family base chain
 * registered in a namespace that has never had a bridge stays listed but never sees a frame
 * (measured on 6.18: its counters stay at 0 while a chain added after the first bridge counts
 * every frame). The agent applies the host key before any network key makes a bridge, so it keeps
 * one of its own, empty and down, for the table's sake, and reloads the table whenever that
 * bridge was missing.
 */
export const DVR_ANCHOR_BRIDGE = 'dvr-anchor';

export interface DvrObservation {
  /** null: no table. */
  readonly chains: ReadonlyMap<string, ObservedChain> | null;
  readonly anchor: boolean;
}

export type DvrAction =
  | { readonly kind: 'replace'; readonly ruleset: string; readonly addAnchor: boolean }
  | { readonly kind: 'delete-table'; readonly deleteAnchor: boolean };

function matches(desired: DvrHostSpec, chains: ReadonlyMap<string, ObservedChain>): boolean {
  if (chains.size !== desired.chains.length) return false;
  return desired.chains.every((want) => {
    const have = chains.get(want.name);
    if (!have || (want.hook === null) !== (have.hook === null)) return false;
    if (want.hook && have.hook) {
      const same = want.hook.type === have.hook.type && want.hook.hook === have.hook.hook && want.hook.priority === have.hook.priority;
      if (!same || have.policy !== 'accept') return false;
    }
    return want.rules.length === have.ruleIds.length && want.rules.every((r, i) => r.id === have.ruleIds[i]);
  });
}

export function diffDvr(desired: DvrHostSpec | null, observed: DvrObservation): DvrAction[] {
  if (desired === null) {
    return observed.chains === null && !observed.anchor ? [] : [{ kind: 'delete-table', deleteAnchor: observed.anchor }];
  }
  // Without its anchor the loaded table may be one of those inert chains: load it again.
  if (observed.anchor && observed.chains !== null && matches(desired, observed.chains)) return [];
  return [{ kind: 'replace', ruleset: desired.ruleset, addAnchor: !observed.anchor }];
}

export const dvrDriver: Driver<DvrObservation, DvrAction> = {
  name: 'dvr',

  async observe(keys, snapshot, ctx) {
    const out = new Map<UnitKey, DvrObservation>();
    if (!keys.includes('host') || ctx.config.agentMode === 'legacy') return out;
    const ns = ctx.config.hostNamespace;
    const r = await ctx.exec.run('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'table', 'bridge', DVR_TABLE], {
      mutating: false,
      reject: false,
    });
    out.set('host', {
      chains: r.exitCode === 0 ? parseNftTable(JSON.parse(r.stdout)).chains : null,
      anchor: snapshot.get(ns)?.links.get(DVR_ANCHOR_BRIDGE)?.kind === 'bridge',
    });
    return out;
  },

  diff(key, unit, observed) {
    if (key !== 'host' || observed === undefined) return [];
    return diffDvr(unit?.kind === 'host' ? (unit.dvr ?? null) : null, observed);
  },

  async apply(_key, actions, ctx) {
    const ns = ctx.config.hostNamespace;
    for (const a of actions) {
      if (a.kind === 'replace') {
        if (a.addAnchor) await ctx.exec.run('ip', ['-n', ns, 'link', 'add', DVR_ANCHOR_BRIDGE, 'type', 'bridge'], { mutating: true });
        await ctx.exec.run('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { mutating: true, input: a.ruleset });
      } else {
        await ctx.exec.run('ip', ['netns', 'exec', ns, 'nft', 'delete', 'table', 'bridge', DVR_TABLE], { mutating: true, reject: false });
        if (a.deleteAnchor) await ctx.exec.run('ip', ['-n', ns, 'link', 'del', DVR_ANCHOR_BRIDGE], { mutating: true });
      }
    }
  },

  describe(a) {
    return `dvr mac rewrite: ${a.kind}${(a.kind === 'replace' ? a.addAnchor : a.deleteAnchor) ? ' (and its anchor bridge)' : ''}`;
  },
};
