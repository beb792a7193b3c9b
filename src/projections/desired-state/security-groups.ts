import { createHash } from 'node:crypto';
import { eui64Address } from '../../domain/ipam/eui64.js';
import { IP_PROTOCOL_NUMBERS, PROTO_ICMP, PROTO_IPV6_ICMP } from '../../domain/security-group/protocols.js';
import { nftRule, renderChainBody, renderMapBody, renderSetBody, type NftChain, type NftSet, type NftVerdictMap } from './nft.js';
import { asCidr, canonicalPrefix, compareCidr, compareStrings, ipVersion, prefixContains } from './ip.js';
import { bridgeName, tapName } from './names.js';
import type { Topology, TopologyPort, TopologySecurityGroup, TopologySecurityGroupRule } from './topology.js';

/**
 * Security groups of one network's ports, enforced in the host namespace.
 *
 * Why two tables per network and not one `table bridge` with `ct state`: the bridge family only
 * has conntrack with nf_conntrack_bridge (CONFIG_NF_CONNTRACK_BRIDGE), and the kernels we run on
 * are built without it (6.18 here: `ct state` in a bridge chain fails with "Protocol error").
 * br_netfilter is built in (`/proc/sys/net/bridge` exists in every namespace, its
 * bridge-nf-call-* switches are per namespace since 5.3), so bridged IP packets also traverse the
 * inet hooks and get conntrack. But inet chains only see the bridge (`iifname brq…`), never the
 * port. So the work is split:
 *   `table bridge netledger-sg-<net>` sees the tap: per-port chains reached through verdict maps
 *     keyed by interface name (prerouting: from the port = egress; forward: to the port = ingress)
 *     do anti-spoofing (drop) and evaluate the port's groups. A port's chain marks the packet
 *     "filtered, verdict pending"; a matching rule of any of its groups clears "pending".
 *   `table inet netledger-sg-<net>` has the conntrack: zone per network, established/related
 *     accepted, invalid dropped, and a filtered packet that is still pending is dropped.
 * Group rules live once per group in `ingress-<sg>`/`egress-<sg>` chains that the port chains
 * jump to, and remote groups are named sets `rg4-<sg>`/`rg6-<sg>`: the ruleset grows with rules
 * and ports, never rules × members, and a membership change rewrites a set, not a rule.
 * Frames enter the bridges from veths whose other end is in another namespace, which scrubs the
 * mark, so the bits below start clear.
 *
 * Stateless groups (`stateful: false`, Neutron's `-j CT --notrack` in raw): a port whose groups
 * are stateless never meets conntrack. Its egress chain, and a rule matching its MACs as
 * destination in the bridge prerouting chain (the port a frame goes to is only known after the
 * inet prerouting hooks), mark the frame "no tracking"; the inet table's prerouting chain, ahead
 * of conntrack, then untracks it. An untracked packet is neither established nor invalid, so only
 * the groups' rules can clear its pending verdict: replies need rules of their own.
 */

export const SG_TABLE_PREFIX = 'netledger-sg-';
export const MARK_FILTERED = 0x00010000;
export const MARK_EGRESS_PENDING = 0x00020000;
export const MARK_INGRESS_PENDING = 0x00040000;
export const MARK_NOTRACK = 0x00080000;
const hex = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
const CLEAR_EGRESS = `meta mark set meta mark & ${hex(~MARK_EGRESS_PENDING)} accept`;
const CLEAR_INGRESS = `meta mark set meta mark & ${hex(~MARK_INGRESS_PENDING)} accept`;

/** A filtered port, with what conntrack cleanup needs to judge its flows. */
export interface FilteredPort {
  readonly portId: string;
  readonly tap: string;
  /** Fixed IPs and allowed-address-pair prefixes, canonical. */
  readonly addresses: readonly string[];
  readonly groups: readonly string[];
}

/** A rule as the dataplane evaluates it: protocol as a number, remote as a prefix or a set. */
export interface FilterRule {
  readonly direction: 'ingress' | 'egress';
  readonly ipVersion: 4 | 6;
  readonly protocol: number | null;
  readonly portMin: number | null;
  readonly portMax: number | null;
  readonly remotePrefix: string | null;
  /** Name of the set holding the remote group's members. */
  readonly remoteSet: string | null;
}

export interface PortFilterSpec {
  /** Name of both tables (bridge and inet family). */
  readonly table: string;
  readonly bridge: string;
  /** Conntrack zone of the network. */
  readonly zone: number;
  readonly sets: readonly NftSet[];
  readonly maps: readonly NftVerdictMap[];
  /** Chains of the bridge table (base chains first, then by name). */
  readonly chains: readonly NftChain[];
  /** Chains of the inet table. */
  readonly inetChains: readonly NftChain[];
  readonly ports: readonly FilteredPort[];
  /** Group id → its rules, for conntrack cleanup. */
  readonly groups: readonly { readonly id: string; readonly rules: readonly FilterRule[] }[];
}

function chain(name: string, hook: NftChain['hook'], statements: readonly string[]): NftChain {
  return { name, hook, rules: statements.map((s) => nftRule(name, s)) };
}

export const sgTableName = (networkId: string): string => `${SG_TABLE_PREFIX}${networkId}`;
export const egressPortChain = (portId: string): string => `o-${portId}`;
export const ingressPortChain = (portId: string): string => `i-${portId}`;
export const groupChain = (direction: 'ingress' | 'egress', groupId: string): string => `${direction}-${groupId}`;
export const remoteSetName = (version: 4 | 6, groupId: string): string => `rg${version}-${groupId}`;

/** Stable per network (a zone only separates overlapping addresses of different networks). */
export function conntrackZone(networkId: string): number {
  return (parseInt(createHash('sha256').update(networkId).digest('hex').slice(0, 8), 16) % 65000) + 1;
}

/** Interval sets refuse overlapping elements: keep only prefixes not covered by another. */
export function coverPrefixes(prefixes: readonly string[]): string[] {
  const unique = [...new Set(prefixes.map(canonicalPrefix))].sort(
    (a, b) => Number(asCidr(a).split('/')[1]) - Number(asCidr(b).split('/')[1]) || compareCidr(asCidr(a), asCidr(b)),
  );
  const kept: string[] = [];
  for (const p of unique) if (!kept.some((k) => prefixContains(k, p))) kept.push(p);
  return kept.sort((a, b) => compareCidr(asCidr(a), asCidr(b)));
}

export const isFiltered = (p: TopologyPort): boolean => p.portSecurityEnabled === true;

/** Fixed IPs plus allowed address pairs: what a port may send from, and what remote groups match. */
export function portPrefixes(p: TopologyPort): string[] {
  return [
    ...p.fixedIps.map((f) => canonicalPrefix(f.ipAddress)),
    ...(p.allowedAddressPairs ?? []).map((a) => canonicalPrefix(a.ipAddress)),
  ];
}

export function protocolOf(protocol: string | null): number | null {
  if (protocol === null) return null;
  return IP_PROTOCOL_NUMBERS[protocol] ?? Number(protocol);
}

export function filterRule(r: TopologySecurityGroupRule): FilterRule {
  const version = r.ethertype === 'IPv4' ? 4 : 6;
  const prefix = r.remoteIpPrefix === null ? null : canonicalPrefix(r.remoteIpPrefix);
  let protocol = protocolOf(r.protocol);
  if (version === 6 && protocol === PROTO_ICMP) protocol = PROTO_IPV6_ICMP;
  return {
    direction: r.direction,
    ipVersion: version,
    protocol,
    portMin: r.portRangeMin,
    portMax: r.portRangeMax,
    remotePrefix: prefix === '0.0.0.0/0' || prefix === '::/0' ? null : prefix,
    remoteSet: r.remoteGroupId === null ? null : remoteSetName(version, r.remoteGroupId),
  };
}

const PORT_PROTOCOLS = new Set([6, 17, 33, 132, 136]);

/** nft match text of a rule, without the verdict; shared by the renderer and the benchmarks. */
export function ruleMatch(rule: FilterRule): string {
  const parts: string[] = [rule.ipVersion === 4 ? 'ether type ip' : 'ether type ip6'];
  const fam = rule.ipVersion === 4 ? 'ip' : 'ip6';
  const field = rule.direction === 'ingress' ? 'saddr' : 'daddr';
  if (rule.remotePrefix !== null) parts.push(`${fam} ${field} ${rule.remotePrefix}`);
  if (rule.remoteSet !== null) parts.push(`${fam} ${field} @${rule.remoteSet}`);
  if (rule.protocol !== null) {
    const icmp = rule.protocol === PROTO_ICMP ? 'icmp' : rule.protocol === PROTO_IPV6_ICMP ? 'icmpv6' : null;
    if (icmp !== null && rule.portMin !== null) {
      parts.push(`${icmp} type ${rule.portMin}`);
      if (rule.portMax !== null) parts.push(`${icmp} code ${rule.portMax}`);
    } else {
      parts.push(`meta l4proto ${rule.protocol}`);
      if (PORT_PROTOCOLS.has(rule.protocol) && rule.portMin !== null) {
        const max = rule.portMax ?? rule.portMin;
        parts.push(`th dport ${rule.portMin === max ? rule.portMin : `${rule.portMin}-${max}`}`);
      }
    }
  }
  return parts.join(' ');
}

function macOf(mac: string): string {
  return mac.toLowerCase();
}

/** (MAC, source) pairs a port may send from (v4: with 0.0.0.0, for DHCP and ARP probes). */
function spoofPairs(p: TopologyPort, version: 4 | 6): string[] {
  const mac = macOf(p.macAddress);
  const pairs: string[] = [];
  for (const f of p.fixedIps) if (ipVersion(f.ipAddress) === version) pairs.push(`${mac} . ${canonicalPrefix(f.ipAddress)}`);
  for (const a of p.allowedAddressPairs ?? []) {
    const prefix = canonicalPrefix(a.ipAddress);
    if (ipVersion(prefix.split('/')[0] ?? '') === version) pairs.push(`${macOf(a.macAddress)} . ${prefix}`);
  }
  if (version === 4) pairs.push(`${mac} . 0.0.0.0`);
  else pairs.push(`${mac} . ${eui64Address('fe80::/64', mac)}`, `${mac} . ::`); // link-local, and DAD's unspecified source
  return dedupePairs(pairs);
}

/** Per MAC, drop prefixes covered by another of the same MAC (interval sets refuse overlaps). */
function dedupePairs(pairs: readonly string[]): string[] {
  const byMac = new Map<string, string[]>();
  for (const p of pairs) {
    const [mac = '', prefix = ''] = p.split(' . ');
    byMac.set(mac, [...(byMac.get(mac) ?? []), prefix]);
  }
  return [...byMac]
    .sort(([a], [b]) => compareStrings(a, b))
    .flatMap(([mac, prefixes]) => coverPrefixes(prefixes).map((x) => `${mac} . ${x}`));
}

/**
 * What every filtered port gets, shared: anti-spoofing against the table's sets keyed by
 * interface (so a port's addresses are set elements, not rules), DHCP and ND, no DHCP server and
 * no router advertisements from instances.
 */
function commonChains(): NftChain[] {
  return [
    chain('egress_common', null, [
      'iifname . ether saddr != @port_macs drop',
      'ether type arp iifname . ether saddr . arp saddr ip != @spoof4 drop',
      'ether type ip iifname . ether saddr . ip saddr != @spoof4 drop',
      'ether type ip6 iifname . ether saddr . ip6 saddr != @spoof6 drop',
      'ether type != { ip, ip6, arp } drop',
      'ether type ip udp sport 67 udp dport 68 drop',
      'ether type ip6 udp sport 547 udp dport 546 drop',
      'ether type ip6 icmpv6 type nd-router-advert drop',
      `ether type ip udp sport 68 udp dport 67 ${CLEAR_EGRESS}`,
      `ether type ip6 udp sport 546 udp dport 547 ${CLEAR_EGRESS}`,
      `ether type ip6 icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-report, mld2-listener-report } ${CLEAR_EGRESS}`,
    ]),
    chain('ingress_common', null, [
      `ether type ip udp sport 67 udp dport 68 ${CLEAR_INGRESS}`,
      `ether type ip6 udp sport 547 udp dport 546 ${CLEAR_INGRESS}`,
      `ether type ip6 icmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-query } ${CLEAR_INGRESS}`,
    ]),
  ];
}

function egressChain(p: TopologyPort, groups: readonly string[], stateless: boolean): NftChain {
  return chain(egressPortChain(p.id), null, [
    `meta mark set meta mark | ${hex(MARK_FILTERED | MARK_EGRESS_PENDING | (stateless ? MARK_NOTRACK : 0))}`,
    'jump egress_common',
    ...groups.map((g) => `jump ${groupChain('egress', g)}`),
  ]);
}

function ingressChain(p: TopologyPort, groups: readonly string[]): NftChain {
  return chain(ingressPortChain(p.id), null, [
    `meta mark set meta mark | ${hex(MARK_FILTERED | MARK_INGRESS_PENDING)}`,
    'jump ingress_common',
    ...groups.map((g) => `jump ${groupChain('ingress', g)}`),
  ]);
}

/** The anti-spoofing sets: (tap, MAC) and (tap, MAC, source prefix) of every filtered port. */
function spoofSets(ports: readonly TopologyPort[]): NftSet[] {
  const q = (p: TopologyPort): string => JSON.stringify(tapName(p.id));
  const macs = ports.flatMap((p) =>
    [...new Set([macOf(p.macAddress), ...(p.allowedAddressPairs ?? []).map((a) => macOf(a.macAddress))])].map((m) => `${q(p)} . ${m}`),
  );
  const per = (version: 4 | 6): string[] => ports.flatMap((p) => spoofPairs(p, version).map((x) => `${q(p)} . ${x}`));
  return [
    { name: 'port_macs', type: 'ifname . ether_addr', interval: false, elements: macs.sort(compareStrings) },
    { name: 'spoof4', type: 'ifname . ether_addr . ipv4_addr', interval: true, elements: per(4).sort(compareStrings) },
    { name: 'spoof6', type: 'ifname . ether_addr . ipv6_addr', interval: true, elements: per(6).sort(compareStrings) },
  ];
}

export function groupChains(group: TopologySecurityGroup): { ingress: NftChain; egress: NftChain; rules: FilterRule[] } {
  const rules = group.rules.map(filterRule);
  // Duplicates from different spellings of one rule collapse (Neutron does the same).
  const statements = (direction: 'ingress' | 'egress'): string[] => [
    ...new Set(
      rules
        .filter((r) => r.direction === direction)
        .map((r) => `${ruleMatch(r)} ${direction === 'ingress' ? CLEAR_INGRESS : CLEAR_EGRESS}`),
    ),
  ];
  return {
    ingress: chain(groupChain('ingress', group.id), null, statements('ingress')),
    egress: chain(groupChain('egress', group.id), null, statements('egress')),
    rules,
  };
}

/** Members of every group, over the whole topology (a remote group's members live anywhere). */
export function groupMembers(topology: Topology): Map<string, string[]> {
  const members = new Map<string, string[]>();
  for (const p of topology.ports) {
    if (!isFiltered(p)) continue;
    for (const g of p.securityGroups ?? []) members.set(g, [...(members.get(g) ?? []), ...portPrefixes(p)]);
  }
  return members;
}

/**
 * Neutron refuses a port whose groups mix stateful and stateless ones (SecurityGroupConflict), so
 * any group answers; a port without groups is stateful.
 */
function isStatelessPort(p: TopologyPort, groups: ReadonlyMap<string, TopologySecurityGroup>): boolean {
  const known = (p.securityGroups ?? []).flatMap((g) => groups.get(g) ?? []);
  return known.length > 0 && known.every((g) => !g.stateful);
}

const STATELESS_MACS = 'stateless_macs';

/** MACs a stateless port receives on: its own and its address pairs'. */
function statelessMacSet(ports: readonly TopologyPort[]): NftSet {
  const macs = ports.flatMap((p) => [macOf(p.macAddress), ...(p.allowedAddressPairs ?? []).map((a) => macOf(a.macAddress))]);
  return { name: STATELESS_MACS, type: 'ether_addr', interval: false, elements: [...new Set(macs)].sort(compareStrings) };
}

function baseChains(anyStateless: boolean): NftChain[] {
  return [
    chain('from_port', { type: 'filter', hook: 'prerouting', priority: -300 }, [
      ...(anyStateless ? [`ether daddr @${STATELESS_MACS} meta mark set meta mark | ${hex(MARK_NOTRACK)}`] : []),
      'iifname vmap @from_port',
    ]),
    chain('to_port', { type: 'filter', hook: 'forward', priority: -300 }, ['oifname vmap @to_port']),
  ];
}

function inetChains(bridge: string, zone: number, anyStateless: boolean): NftChain[] {
  const br = JSON.stringify(bridge);
  return [
    chain('zone', { type: 'filter', hook: 'prerouting', priority: -300 }, [
      // accept ends this chain only: a zone set after notrack would give the packet a conntrack template again.
      ...(anyStateless ? [`iifname ${br} meta mark & ${hex(MARK_NOTRACK)} != 0 notrack accept`] : []),
      `iifname ${br} ct zone set ${zone}`,
    ]),
    chain('conntrack', { type: 'filter', hook: 'forward', priority: 0 }, [
      `iifname != ${br} accept`,
      `meta mark & ${hex(MARK_FILTERED)} == 0 accept`,
      'ct state established,related accept',
      'ct state invalid drop',
      `meta mark & ${hex(MARK_EGRESS_PENDING | MARK_INGRESS_PENDING)} != 0 drop`,
    ]),
  ];
}

export interface SecurityGroupIndex {
  readonly groups: ReadonlyMap<string, TopologySecurityGroup>;
  readonly members: ReadonlyMap<string, readonly string[]>;
}

export function securityGroupIndex(topology: Topology): SecurityGroupIndex {
  return { groups: new Map((topology.securityGroups ?? []).map((g) => [g.id, g])), members: groupMembers(topology) };
}

/**
 * The filter of one network's ports bound to this host (the taps the agent plugs into its bridge),
 * or null when none of them has port security.
 */
export function compilePortFilter(networkId: string, ports: readonly TopologyPort[], index: SecurityGroupIndex): PortFilterSpec | null {
  const filtered = ports.filter(isFiltered).sort((a, b) => compareStrings(a.id, b.id));
  if (filtered.length === 0) return null;
  const bridge = bridgeName(networkId);
  const zone = conntrackZone(networkId);
  const usedGroups = [...new Set(filtered.flatMap((p) => (p.securityGroups ?? []).filter((g) => index.groups.has(g))))].sort(
    compareStrings,
  );
  const groupChainList: NftChain[] = [];
  const groups: PortFilterSpec['groups'][number][] = [];
  const setNames = new Set<string>();
  for (const id of usedGroups) {
    const compiled = groupChains(index.groups.get(id) as TopologySecurityGroup);
    groupChainList.push(compiled.ingress, compiled.egress);
    groups.push({ id, rules: compiled.rules });
    for (const r of compiled.rules) if (r.remoteSet !== null) setNames.add(r.remoteSet);
  }
  const sets: NftSet[] = [...setNames].sort(compareStrings).map((name) => {
    const version = name.startsWith('rg4-') ? 4 : 6;
    const members = (index.members.get(name.slice(4)) ?? []).filter((m) => ipVersion(m.split('/')[0] ?? '') === version);
    return { name, type: version === 4 ? 'ipv4_addr' : 'ipv6_addr', interval: true, elements: coverPrefixes(members) };
  });
  const stateless = filtered.filter((p) => isStatelessPort(p, index.groups));
  const anyStateless = stateless.length > 0;
  const portChains: NftChain[] = [];
  const out: FilteredPort[] = [];
  for (const p of filtered) {
    const pg = [...new Set(p.securityGroups ?? [])].filter((g) => index.groups.has(g)).sort(compareStrings);
    portChains.push(egressChain(p, pg, stateless.includes(p)), ingressChain(p, pg));
    out.push({ portId: p.id, tap: tapName(p.id), addresses: coverPrefixes(portPrefixes(p)), groups: pg });
  }
  const byTap = [...out].sort((a, b) => compareStrings(a.tap, b.tap));
  return {
    table: sgTableName(networkId),
    bridge,
    zone,
    sets: [...spoofSets(filtered), ...(anyStateless ? [statelessMacSet(stateless)] : []), ...sets],
    maps: [
      { name: 'from_port', elements: byTap.map((p) => ({ key: p.tap, chain: egressPortChain(p.portId) })) },
      { name: 'to_port', elements: byTap.map((p) => ({ key: p.tap, chain: ingressPortChain(p.portId) })) },
    ],
    chains: [
      ...baseChains(anyStateless),
      ...[...commonChains(), ...groupChainList, ...portChains].sort((a, b) => compareStrings(a.name, b.name)),
    ],
    inetChains: inetChains(bridge, zone, anyStateless),
    ports: out,
    groups,
  };
}

// ---- rendering (nft -f input) ----

/** Both tables created or replaced whole, in one transaction. */
export function renderPortFilter(spec: PortFilterSpec): string {
  const lines = [
    `table bridge ${spec.table}`,
    `delete table bridge ${spec.table}`,
    `table inet ${spec.table}`,
    `delete table inet ${spec.table}`,
    `table bridge ${spec.table} {`,
  ];
  for (const s of spec.sets) lines.push(`\tset ${s.name} {`, ...renderSetBody(s), '\t}');
  // Chains before maps: map elements jump to them. Regular chains before the base chains using them.
  const ordered = [...spec.chains.filter((c) => !c.hook), ...spec.chains.filter((c) => c.hook)];
  for (const c of ordered.filter((x) => !x.hook)) lines.push(`\tchain ${c.name} {`, ...renderChainBody(c), '\t}');
  for (const m of spec.maps) lines.push(`\tmap ${m.name} {`, ...renderMapBody(m), '\t}');
  for (const c of ordered.filter((x) => x.hook)) lines.push(`\tchain ${c.name} {`, ...renderChainBody(c), '\t}');
  lines.push('}', `table inet ${spec.table} {`);
  for (const c of spec.inetChains) lines.push(`\tchain ${c.name} {`, ...renderChainBody(c), '\t}');
  lines.push('}', '');
  return lines.join('\n');
}

// ---- what a flow is allowed (conntrack cleanup) ----

export interface Flow {
  readonly ipVersion: 4 | 6;
  readonly protocol: number;
  readonly src: string;
  readonly dst: string;
  /** TCP/UDP/... ports, or ICMP type/code. */
  readonly sport: number | null;
  readonly dport: number | null;
  readonly icmpType: number | null;
  readonly icmpCode: number | null;
}

function ruleAllows(rule: FilterRule, flow: Flow, remote: string, sets: ReadonlyMap<string, readonly string[]>): boolean {
  if (rule.ipVersion !== flow.ipVersion) return false;
  if (rule.remotePrefix !== null && !prefixContains(rule.remotePrefix, remote)) return false;
  if (rule.remoteSet !== null && !(sets.get(rule.remoteSet) ?? []).some((m) => prefixContains(m, remote))) return false;
  if (rule.protocol === null) return true;
  if (rule.protocol !== flow.protocol) return false;
  if (rule.protocol === PROTO_ICMP || rule.protocol === PROTO_IPV6_ICMP) {
    if (rule.portMin !== null && rule.portMin !== flow.icmpType) return false;
    return rule.portMax === null || rule.portMax === flow.icmpCode;
  }
  if (rule.portMin === null || !PORT_PROTOCOLS.has(rule.protocol)) return true;
  const max = rule.portMax ?? rule.portMin;
  return flow.dport !== null && flow.dport >= rule.portMin && flow.dport <= max;
}

const isDhcp = (f: Flow, server: number, client: number): boolean => f.protocol === 17 && f.sport === client && f.dport === server;

/** Whether the filter still lets a flow (as first seen: src → dst) start, at both ends it knows. */
export function flowAllowed(spec: PortFilterSpec, flow: Flow): boolean {
  const sets = new Map(spec.sets.map((s) => [s.name, s.elements]));
  const groups = new Map(spec.groups.map((g) => [g.id, g.rules]));
  const owns = (p: FilteredPort, ip: string): boolean => p.addresses.some((a) => prefixContains(a, ip));
  const side = (p: FilteredPort, direction: 'ingress' | 'egress', remote: string): boolean =>
    p.groups.some((g) => (groups.get(g) ?? []).some((r) => r.direction === direction && ruleAllows(r, flow, remote, sets)));
  for (const p of spec.ports) {
    if (owns(p, flow.src) && !(isDhcp(flow, 67, 68) || isDhcp(flow, 547, 546) || side(p, 'egress', flow.dst))) return false;
    if (owns(p, flow.dst) && !(isDhcp(flow, 68, 67) || isDhcp(flow, 546, 547) || side(p, 'ingress', flow.src))) return false;
  }
  return true;
}
