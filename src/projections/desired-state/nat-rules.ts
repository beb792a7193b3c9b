import type { FloatingIpMapping, NatSpec } from './host-state.js';
import { nftRule, renderChainBody, type NftChain } from './nft.js';

export const NAT_TABLE = 'netledger-nat';
/** Neutron's `external_ingress_mark`: packets that entered through qg-. */
const EXTERNAL_INGRESS_MARK = '0x00000002';

export interface NatInput {
  readonly gatewayDevice: string;
  /** First IPv4 address of the gateway port (Neutron builds the gateway rules from it). */
  readonly gatewayIp: string;
  readonly enableSnat: boolean;
  /** Sorted by floating IP. */
  readonly floatingIps: readonly FloatingIpMapping[];
  /** VPN (local, peer) CIDR pairs: accepted before any SNAT, so they enter the tunnel unNATed. */
  readonly vpnBypass?: readonly { readonly local: string; readonly peer: string }[];
}

/**
 * Neutron's L3 NAT (reference section 2.4) as one nftables table per router namespace:
 *   mangle `mark`        → ingress_mark   (mark what enters from outside)
 *   nat PREROUTING/OUTPUT → fip_dnat / fip_dnat_local (1:1 DNAT for floating IPs)
 *   nat POSTROUTING      → post: don't SNAT traffic that stays inside unless it was DNATed,
 *                          then gw_snat: float_snat first (a FIP always leaves with its FIP),
 *                          default SNAT only with enable_snat, and the hairpin SNAT.
 */
export function buildNat(input: NatInput): NatSpec {
  const qg = JSON.stringify(input.gatewayDevice);
  const gw = input.gatewayIp;
  const chains: NftChain[] = [];
  const chain = (name: string, hook: NftChain['hook'], statements: readonly string[]): void => {
    chains.push({ name, hook, rules: statements.map((s) => nftRule(name, s)) });
  };

  chain('ingress_mark', { type: 'filter', hook: 'prerouting', priority: -150 }, [
    `iifname ${qg} meta mark set meta mark & 0xffff0000 | ${EXTERNAL_INGRESS_MARK}`,
  ]);
  const dnat = input.floatingIps.map((f) => `ip daddr ${f.floatingIp} dnat to ${f.fixedIp}`);
  chain('fip_dnat', { type: 'nat', hook: 'prerouting', priority: -100 }, dnat);
  chain('fip_dnat_local', { type: 'nat', hook: 'output', priority: -100 }, dnat);
  chain('post', { type: 'nat', hook: 'postrouting', priority: 100 }, [
    // Neutron's vpnaas rule matches `--pol ipsec` too; libipsec's tunnel has no xfrm policy to
    // match, and a site's private pair is never meant to be SNATed anyway.
    ...(input.vpnBypass ?? []).map((b) => `ip saddr ${b.local} ip daddr ${b.peer} accept`),
    // charon's own IKE and NAT-T traffic keeps its ports: a port the SNAT randomised would make
    // both peers detect a NAT between them that is not there.
    ...(input.vpnBypass?.length ? [`ip saddr ${gw} udp sport { 500, 4500 } accept`] : []),
    `oifname != ${qg} ct status & dnat != dnat accept`,
    'jump gw_snat',
  ]);
  chain('gw_snat', null, [
    'jump float_snat',
    ...(input.enableSnat ? [`oifname ${qg} snat to ${gw} fully-random`] : []),
    `meta mark & 0x0000ffff != ${EXTERNAL_INGRESS_MARK} ct status & dnat == dnat snat to ${gw} fully-random`,
  ]);
  chain(
    'float_snat',
    null,
    input.floatingIps.map((f) => `ip saddr ${f.fixedIp} snat to ${f.floatingIp} fully-random`),
  );

  return {
    table: NAT_TABLE,
    gatewayDevice: input.gatewayDevice,
    chains,
    floatingIps: input.floatingIps,
    ruleset: renderRuleset(NAT_TABLE, chains),
  };
}

/** `table; delete table; table {…}` in one `nft -f` is an atomic create-or-replace. */
export function renderRuleset(table: string, chains: readonly NftChain[]): string {
  const lines = [`table ip ${table}`, `delete table ip ${table}`, `table ip ${table} {`];
  for (const c of chains) {
    lines.push(`\tchain ${c.name} {`, ...renderChainBody(c), '\t}');
  }
  lines.push('}', '');
  return lines.join('\n');
}

export function deleteTableScript(table: string): string {
  return `table ip ${table}\ndelete table ip ${table}\n`;
}
