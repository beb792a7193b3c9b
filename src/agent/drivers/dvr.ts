import type { DvrHostSpec, UnitKey } from '../../projections/desired-state/index.js';
import { DVR_TABLE } from '../../projections/desired-state/dvr.js';
import type { Driver } from '../driver.js';
import { parseNftTable, type ObservedChain } from './nat.js';

/**
 * The host's DVR MAC rewrite (projections/desired-state/dvr.ts): one `table bridge netledger-dvr`
 * in the host namespace, on the `host` key. Observed with `nft -j list table`, replaced whole with
 * `nft -f -`, removed when the host routes no distributed router. A legacy agent never has the
 * table and pays no command for it.
 */

export interface DvrObservation {
  /** null: no table. */
  readonly chains: ReadonlyMap<string, ObservedChain> | null;
}

export type DvrAction = { readonly kind: 'replace'; readonly ruleset: string } | { readonly kind: 'delete-table' };

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
  if (desired === null) return observed.chains === null ? [] : [{ kind: 'delete-table' }];
  return observed.chains !== null && matches(desired, observed.chains) ? [] : [{ kind: 'replace', ruleset: desired.ruleset }];
}

export const dvrDriver: Driver<DvrObservation, DvrAction> = {
  name: 'dvr',

  async observe(keys, _snapshot, ctx) {
    const out = new Map<UnitKey, DvrObservation>();
    if (!keys.includes('host') || ctx.config.agentMode === 'legacy') return out;
    const ns = ctx.config.hostNamespace;
    const r = await ctx.exec.run('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'table', 'bridge', DVR_TABLE], {
      mutating: false,
      reject: false,
    });
    out.set('host', { chains: r.exitCode === 0 ? parseNftTable(JSON.parse(r.stdout)).chains : null });
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
        await ctx.exec.run('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { mutating: true, input: a.ruleset });
      } else {
        await ctx.exec.run('ip', ['netns', 'exec', ns, 'nft', 'delete', 'table', 'bridge', DVR_TABLE], { mutating: true });
      }
    }
  },

  describe(a) {
    return `dvr mac rewrite: ${a.kind}`;
  },
};
