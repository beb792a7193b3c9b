import { routerPortName } from './names.js';
import { nftRule, renderChainBody, renderMapBody, type NftChain, type NftVerdictMap } from './nft.js';
import { canonicalPrefix, compareStrings, ipVersion, prefixContains } from './ip.js';
import type { Flow } from './security-groups.js';
import type { TopologyFirewallGroup, TopologyFirewallRule } from './topology.js';

/**
 * FWaaS v2 in a router namespace: `table inet netledger-fw` (reference 6.1, in nftables).
 * Ingress is traffic leaving the router through a group's qr- port (into the project network),
 * egress traffic entering through it. The forward chain dispatches through two verdict maps keyed
 * by interface name to one chain per group and direction; each starts stateful (invalid dropped,
 * established/related accepted), then the enabled rules in policy order (first match wins:
 * allow returns so the other direction's group can still judge the packet, deny drops, reject
 * answers ICMP port unreachable, v4 or v6), then the implicit deny. A direction without a policy
 * drops everything, as Neutron's fwaas-default-policy does.
 */

export const FW_TABLE = 'netledger-fw';

export interface FirewallPortSpec {
  readonly portId: string;
  readonly device: string;
  /** The port's subnets (`ip/prefixlen` of its addresses): what is "behind" it. */
  readonly cidrs: readonly string[];
  readonly groupId: string;
}

export interface RouterFirewallSpec {
  readonly table: string;
  readonly maps: readonly NftVerdictMap[];
  readonly chains: readonly NftChain[];
  readonly ports: readonly FirewallPortSpec[];
  readonly groups: readonly {
    readonly id: string;
    readonly ingress: readonly TopologyFirewallRule[] | null;
    readonly egress: readonly TopologyFirewallRule[] | null;
  }[];
  /** The full `nft -f` input (create-or-replace, atomic). */
  readonly ruleset: string;
}

const chainName = (direction: 'ingress' | 'egress', groupId: string): string => `${direction === 'ingress' ? 'i' : 'o'}-${groupId}`;

const VERDICT = { allow: 'return', deny: 'drop', reject: 'reject with icmpx type port-unreachable' } as const;

function portRange(text: string): string {
  const [a, b] = text.split(':');
  return b === undefined || a === b ? String(a) : `${a}-${b}`;
}

export function firewallRuleMatch(r: TopologyFirewallRule): string {
  const fam = r.ipVersion === 4 ? 'ip' : 'ip6';
  const parts = [`meta nfproto ${r.ipVersion === 4 ? 'ipv4' : 'ipv6'}`];
  if (r.sourceIpAddress !== null) parts.push(`${fam} saddr ${canonicalPrefix(r.sourceIpAddress)}`);
  if (r.destinationIpAddress !== null) parts.push(`${fam} daddr ${canonicalPrefix(r.destinationIpAddress)}`);
  if (r.protocol !== null) {
    const proto = r.protocol === 'icmp' && r.ipVersion === 6 ? 'ipv6-icmp' : r.protocol;
    parts.push(`meta l4proto ${proto}`);
    if (r.sourcePort !== null) parts.push(`th sport ${portRange(r.sourcePort)}`);
    if (r.destinationPort !== null) parts.push(`th dport ${portRange(r.destinationPort)}`);
  }
  return parts.join(' ');
}

function groupChain(direction: 'ingress' | 'egress', groupId: string, rules: readonly TopologyFirewallRule[] | null): NftChain {
  const name = chainName(direction, groupId);
  const statements = [
    'ct state invalid drop',
    'ct state established,related accept',
    ...(rules ?? []).map((r) => `${firewallRuleMatch(r)} ${VERDICT[r.action]}`),
    'drop',
  ];
  return { name, hook: null, rules: statements.map((s) => nftRule(name, s)) };
}

/** Interface port id → its `ip/prefixlen` addresses, as the router compile knows them. */
export type RouterInterfaces = ReadonlyMap<string, readonly string[]>;

export function compileRouterFirewall(groups: readonly TopologyFirewallGroup[], interfaces: RouterInterfaces): RouterFirewallSpec | null {
  const ports: FirewallPortSpec[] = [];
  const used: TopologyFirewallGroup[] = [];
  for (const g of [...groups].sort((a, b) => compareStrings(a.id, b.id))) {
    if (!g.adminStateUp) continue;
    const mine = g.portIds.filter((id) => interfaces.has(id) && !ports.some((p) => p.portId === id));
    if (mine.length === 0) continue;
    used.push(g);
    for (const id of mine) {
      ports.push({ portId: id, device: routerPortName(id), cidrs: [...(interfaces.get(id) ?? [])], groupId: g.id });
    }
  }
  if (ports.length === 0) return null;
  ports.sort((a, b) => compareStrings(a.device, b.device));
  const chains: NftChain[] = [
    {
      name: 'forward',
      hook: { type: 'filter', hook: 'forward', priority: 0 },
      rules: ['oifname vmap @ingress_ports', 'iifname vmap @egress_ports'].map((s) => nftRule('forward', s)),
    },
    ...used.flatMap((g) => [groupChain('ingress', g.id, g.ingressRules), groupChain('egress', g.id, g.egressRules)]),
  ];
  const maps: NftVerdictMap[] = [
    { name: 'ingress_ports', elements: ports.map((p) => ({ key: p.device, chain: chainName('ingress', p.groupId) })) },
    { name: 'egress_ports', elements: ports.map((p) => ({ key: p.device, chain: chainName('egress', p.groupId) })) },
  ];
  const spec = {
    table: FW_TABLE,
    maps,
    chains,
    ports,
    groups: used.map((g) => ({ id: g.id, ingress: g.ingressRules, egress: g.egressRules })),
  };
  return { ...spec, ruleset: renderFirewall(spec) };
}

function renderFirewall(spec: Omit<RouterFirewallSpec, 'ruleset'>): string {
  const lines = [`table inet ${spec.table}`, `delete table inet ${spec.table}`, `table inet ${spec.table} {`];
  for (const c of spec.chains.filter((x) => !x.hook)) lines.push(`\tchain ${c.name} {`, ...renderChainBody(c), '\t}');
  for (const m of spec.maps) lines.push(`\tmap ${m.name} {`, ...renderMapBody(m), '\t}');
  for (const c of spec.chains.filter((x) => x.hook)) lines.push(`\tchain ${c.name} {`, ...renderChainBody(c), '\t}');
  lines.push('}', '');
  return lines.join('\n');
}

// ---- conntrack cleanup: would the new policy still let this flow start? ----

function portMatches(text: string | null, port: number | null): boolean {
  if (text === null) return true;
  if (port === null) return false;
  const [a, b] = text.split(':').map(Number);
  return port >= (a ?? 0) && port <= (b ?? a ?? 0);
}

const PROTO_NUMBERS: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, 'ipv6-icmp': 58, sctp: 132, dccp: 33 };

function ruleMatches(r: TopologyFirewallRule, f: Flow): boolean {
  if (r.ipVersion !== f.ipVersion) return false;
  if (r.sourceIpAddress !== null && !prefixContains(canonicalPrefix(r.sourceIpAddress), f.src)) return false;
  if (r.destinationIpAddress !== null && !prefixContains(canonicalPrefix(r.destinationIpAddress), f.dst)) return false;
  if (r.protocol === null) return true;
  const proto = r.protocol === 'icmp' && r.ipVersion === 6 ? 58 : PROTO_NUMBERS[r.protocol];
  if (proto !== f.protocol) return false;
  return portMatches(r.sourcePort, f.sport) && portMatches(r.destinationPort, f.dport);
}

function policyAllows(rules: readonly TopologyFirewallRule[] | null, f: Flow): boolean {
  const first = (rules ?? []).find((r) => ruleMatches(r, f));
  return first?.action === 'allow';
}

/** `flow` as the forward hook saw it (after DNAT, before SNAT). */
export function firewallAllows(spec: RouterFirewallSpec, f: Flow): boolean {
  const groups = new Map(spec.groups.map((g) => [g.id, g]));
  const behind = (p: FirewallPortSpec, ip: string): boolean =>
    p.cidrs.some((c) => ipVersion(ip) === ipVersion(c.split('/')[0] ?? '') && prefixContains(c, ip));
  for (const p of spec.ports) {
    const g = groups.get(p.groupId);
    if (!g) continue;
    const src = behind(p, f.src);
    const dst = behind(p, f.dst);
    if (dst && !src && !policyAllows(g.ingress, f)) return false;
    if (src && !dst && !policyAllows(g.egress, f)) return false;
  }
  return true;
}
