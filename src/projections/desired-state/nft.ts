import { createHash } from 'node:crypto';

/**
 * The nftables vocabulary every table of ours is written in (NAT, security groups, FWaaS):
 * chains of rules whose identity is a digest carried as the rule's comment, named sets and
 * verdict maps, and their `nft -f` rendering.
 */

export interface NftChain {
  readonly name: string;
  /** Base-chain hook, or null for a regular chain reached by jump. */
  readonly hook: { readonly type: 'nat' | 'filter'; readonly hook: string; readonly priority: number } | null;
  readonly rules: readonly NftRule[];
}

export interface NftRule {
  /** nft statement without the comment. */
  readonly statement: string;
  /** Rule identity carried as the nft comment: a digest of chain + statement. */
  readonly id: string;
}

export interface NftSet {
  readonly name: string;
  /** nft type, e.g. `ipv4_addr` or `ifname . ether_addr . ipv4_addr`. */
  readonly type: string;
  readonly interval: boolean;
  /**
   * As nft input: addresses canonical (a bare address for a host prefix, else `network/len`, no
   * element inside another), interface names quoted, parts of a concatenation joined by ` . `.
   */
  readonly elements: readonly string[];
}

export interface NftVerdictMap {
  readonly name: string;
  /** Interface name → chain it jumps to; sorted by key. */
  readonly elements: readonly { readonly key: string; readonly chain: string }[];
}

export function nftRule(chain: string, statement: string): NftRule {
  const digest = createHash('sha256').update(`${chain}\n${statement}`).digest('hex').slice(0, 20);
  return { statement, id: `nl:${digest}` };
}

export function renderChainBody(c: NftChain): string[] {
  const lines: string[] = [];
  if (c.hook) lines.push(`\t\ttype ${c.hook.type} hook ${c.hook.hook} priority ${c.hook.priority}; policy accept;`);
  for (const r of c.rules) lines.push(`\t\t${r.statement} comment "${r.id}"`);
  return lines;
}

export function renderSetBody(s: NftSet): string[] {
  return [
    `\t\ttype ${s.type}`,
    ...(s.interval ? ['\t\tflags interval'] : []),
    ...(s.elements.length > 0 ? [`\t\telements = { ${s.elements.join(', ')} }`] : []),
  ];
}

export function renderMapBody(m: NftVerdictMap): string[] {
  const elems = m.elements.map((e) => `${JSON.stringify(e.key)} : jump ${e.chain}`);
  return ['\t\ttype ifname : verdict', ...(elems.length > 0 ? [`\t\telements = { ${elems.join(', ')} }`] : [])];
}
