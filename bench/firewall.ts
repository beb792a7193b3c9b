/**
 * Security groups on one host: 500 filtered ports in 20 groups (10 networks × 50 ports), the
 * nftables layout the agent builds (per-network tables, per-port chains, per-group chains,
 * remote-group sets) against Neutron's iptables-per-port layout (reference 4.3: i/o/s chains per
 * port with the groups' rules expanded into each, ipsets for remote groups) in iptables-nft, both
 * in namespaces of this run, measured in the same run. Figures: time to apply one rule change,
 * one membership change, and the size of each ruleset.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { execa } from 'execa';
import { CommandRunner } from '../src/agent/exec.js';
import { incrementalScript, parseRuleset, type ObservedTable } from '../src/agent/drivers/firewall.js';
import {
  compilePortFilter,
  filterRule,
  renderPortFilter,
  securityGroupIndex,
  type PortFilterSpec,
} from '../src/projections/desired-state/security-groups.js';
import type {
  Topology,
  TopologyNetwork,
  TopologyPort,
  TopologySecurityGroup,
  TopologySecurityGroupRule,
} from '../src/projections/desired-state/index.js';
import { fmt } from './stats.js';

const NETWORKS = 10;
const PORTS_PER_NETWORK = 50;
const GROUPS = 20;
const REPEAT = 5;

const mac = (i: number): string =>
  `fa:16:3e:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;

function groupRules(id: string, extra: TopologySecurityGroupRule[] = []): TopologySecurityGroupRule[] {
  const r = (x: Partial<TopologySecurityGroupRule> & Pick<TopologySecurityGroupRule, 'direction'>): TopologySecurityGroupRule => ({
    id: randomUUID(),
    ethertype: 'IPv4',
    protocol: null,
    portRangeMin: null,
    portRangeMax: null,
    remoteIpPrefix: null,
    remoteGroupId: null,
    ...x,
  });
  return [
    r({ direction: 'ingress', remoteGroupId: id }),
    r({ direction: 'ingress', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: '10.0.0.0/8' }),
    r({ direction: 'ingress', protocol: 'tcp', portRangeMin: 80, portRangeMax: 80 }),
    r({ direction: 'ingress', protocol: 'icmp' }),
    r({ direction: 'egress' }),
    r({ direction: 'egress', ethertype: 'IPv6' }),
    ...extra,
  ];
}

interface World {
  topology: Topology;
  groupIds: string[];
  ports: TopologyPort[];
}

function world(): World {
  const groupIds = Array.from({ length: GROUPS }, () => randomUUID());
  const networks: TopologyNetwork[] = [];
  const ports: TopologyPort[] = [];
  for (let n = 0; n < NETWORKS; n++) {
    const subnetId = randomUUID();
    const net: TopologyNetwork = {
      id: randomUUID(),
      mtu: 1500,
      external: false,
      segment: { networkType: 'flat', physicalNetwork: null, segmentationId: null },
      subnets: [
        {
          id: subnetId,
          ipVersion: 4,
          cidr: `10.${100 + n}.0.0/16`,
          gatewayIp: null,
          enableDhcp: false,
          dnsNameservers: [],
          hostRoutes: [],
          allocationPools: [],
        },
      ],
    };
    networks.push(net);
    for (let i = 0; i < PORTS_PER_NETWORK; i++) {
      const k = n * PORTS_PER_NETWORK + i;
      ports.push({
        id: randomUUID(),
        networkId: net.id,
        macAddress: mac(k),
        fixedIps: [{ subnetId, ipAddress: `10.${100 + n}.${1 + (i >> 8)}.${1 + (i & 0xff)}` }],
        deviceOwner: 'compute:nova',
        deviceId: randomUUID(),
        bindingHost: 'bench',
        adminStateUp: true,
        portSecurityEnabled: true,
        securityGroups: [groupIds[k % GROUPS] as string],
        allowedAddressPairs: [],
      });
    }
  }
  const securityGroups: TopologySecurityGroup[] = groupIds.map((id) => ({ id, stateful: true, rules: groupRules(id) }));
  return { topology: { networks, ports, routers: [], floatingIps: [], securityGroups }, groupIds, ports };
}

function specs(t: Topology): PortFilterSpec[] {
  const index = securityGroupIndex(t);
  return t.networks
    .map((n) =>
      compilePortFilter(
        n.id,
        t.ports.filter((p) => p.networkId === n.id),
        index,
      ),
    )
    .filter((s): s is PortFilterSpec => s !== null);
}

const ns = (name: string, argv: string[], input?: string) => execa('ip', ['netns', 'exec', name, ...argv], { input: input ?? '' });
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

// ---- nftables, as the agent does it ----

/** Observe (one `nft -j list ruleset`), diff every network table, apply the patches in one transaction. */
async function nftApply(
  host: string,
  all: readonly PortFilterSpec[],
  prev: readonly PortFilterSpec[] = [],
): Promise<{ total: number; apply: number; objects: number }> {
  const t0 = performance.now();
  // As the reconciler: only networks whose unit changed are dirty.
  const before = new Map(prev.map((p) => [p.table, JSON.stringify(p)]));
  const next = all.filter((x) => before.get(x.table) !== JSON.stringify(x));
  // As the driver observes: only the tables of the networks whose unit changed (here: all that use the group).
  const listed = new Map<string, ObservedTable>();
  for (const s of next) {
    const r = await execa('ip', ['netns', 'exec', host, 'nft', '-j', 'list', 'table', 'bridge', s.table], { reject: false });
    const t = r.exitCode === 0 ? parseRuleset(JSON.parse(r.stdout)).get(`bridge ${s.table}`) : undefined;
    if (t) listed.set(`bridge ${s.table}`, t);
  }
  let objects = 0;
  const scripts: string[] = [];
  for (const s of next) {
    const have = listed.get(`bridge ${s.table}`);
    if (!have) {
      scripts.push(renderPortFilter(s));
      continue;
    }
    const patch = incrementalScript(s, have);
    if (patch) {
      scripts.push(patch.script);
      objects += patch.changed;
    }
  }
  const t1 = performance.now();
  if (scripts.length > 0) await ns(host, ['nft', '-f', '-'], scripts.join('\n'));
  const t2 = performance.now();
  return { total: t2 - t0, apply: t2 - t1, objects };
}

// ---- iptables, as Neutron's linuxbridge/hybrid driver does it (reference 4.3) ----

const W = 'neutron-linuxbri';
const chainOf = (kind: 'i' | 'o' | 's', portId: string): string => `${W}-${kind}${portId.slice(0, 10)}`;
const ipsetOf = (groupId: string): string => `NIPv4${groupId}`.slice(0, 29);

function iptablesRule(r: ReturnType<typeof filterRule>): string | null {
  if (r.ipVersion !== 4) return null;
  const parts: string[] = [];
  const dir = r.direction === 'ingress' ? '-s' : '-d';
  if (r.remotePrefix) parts.push(`${dir} ${r.remotePrefix}`);
  if (r.remoteSet) parts.push(`-m set --match-set ${ipsetOf(r.remoteSet.slice(4))} ${r.direction === 'ingress' ? 'src' : 'dst'}`);
  if (r.protocol !== null) {
    parts.push(`-p ${r.protocol}`);
    if (r.protocol === 1 && r.portMin !== null) parts.push(`-m icmp --icmp-type ${r.portMin}${r.portMax !== null ? `/${r.portMax}` : ''}`);
    else if (r.portMin !== null) {
      const max = r.portMax ?? r.portMin;
      parts.push(r.portMin === max ? `-m tcp --dport ${r.portMin}` : `-m multiport --dports ${r.portMin}:${max}`);
    }
  }
  return [...parts, '-j RETURN'].join(' ');
}

function portChains(p: TopologyPort, groups: ReadonlyMap<string, TopologySecurityGroup>): Map<string, string[]> {
  const rules = (p.securityGroups ?? []).flatMap((g) => groups.get(g)?.rules.map(filterRule) ?? []);
  const ip = p.fixedIps[0]?.ipAddress ?? '';
  const tr = (direction: 'ingress' | 'egress') => [
    ...new Set(
      rules
        .filter((r) => r.direction === direction)
        .map(iptablesRule)
        .filter((x): x is string => x !== null),
    ),
  ];
  const i = chainOf('i', p.id);
  const o = chainOf('o', p.id);
  const s = chainOf('s', p.id);
  return new Map([
    [
      i,
      [
        '-m state --state RELATED,ESTABLISHED -j RETURN',
        `-d ${ip}/32 -p udp -m udp --sport 67 --dport 68 -j RETURN`,
        '-d 255.255.255.255/32 -p udp -m udp --sport 67 --dport 68 -j RETURN',
        ...tr('ingress'),
        '-m state --state INVALID -j DROP',
        `-j ${W}-sg-fallback`,
      ],
    ],
    [
      o,
      [
        '-s 0.0.0.0/32 -d 255.255.255.255/32 -p udp -m udp --sport 68 --dport 67 -j RETURN',
        `-j ${s}`,
        '-p udp -m udp --sport 68 --dport 67 -j RETURN',
        '-p udp -m udp --sport 67 --dport 68 -j DROP',
        '-m state --state RELATED,ESTABLISHED -j RETURN',
        ...tr('egress'),
        '-m state --state INVALID -j DROP',
        `-j ${W}-sg-fallback`,
      ],
    ],
    [s, [`-s ${ip}/32 -m mac --mac-source ${p.macAddress.toUpperCase()} -j RETURN`, '-j DROP']],
  ]);
}

function iptablesTable(t: Topology, only?: ReadonlySet<string>): string {
  const groups = new Map((t.securityGroups ?? []).map((g) => [g.id, g]));
  const decl: string[] = [];
  const rules: string[] = [];
  const ports = t.ports.filter((p) => !only || only.has(p.id));
  if (!only) {
    decl.push(`:${W}-FORWARD - [0:0]`, `:${W}-INPUT - [0:0]`, `:${W}-sg-chain - [0:0]`, `:${W}-sg-fallback - [0:0]`);
    rules.push(`-A FORWARD -j ${W}-FORWARD`, `-A INPUT -j ${W}-INPUT`);
    for (const p of ports) {
      const tap = `tap${p.id.slice(0, 11)}`;
      rules.push(
        `-A ${W}-FORWARD -m physdev --physdev-out ${tap} --physdev-is-bridged -j ${W}-sg-chain`,
        `-A ${W}-FORWARD -m physdev --physdev-in ${tap} --physdev-is-bridged -j ${W}-sg-chain`,
        `-A ${W}-sg-chain -m physdev --physdev-out ${tap} --physdev-is-bridged -j ${chainOf('i', p.id)}`,
        `-A ${W}-sg-chain -m physdev --physdev-in ${tap} --physdev-is-bridged -j ${chainOf('o', p.id)}`,
        `-A ${W}-INPUT -m physdev --physdev-in ${tap} --physdev-is-bridged -j ${chainOf('o', p.id)}`,
      );
    }
    rules.push(`-A ${W}-sg-chain -j ACCEPT`, `-A ${W}-sg-fallback -j DROP`);
  }
  for (const p of ports) {
    for (const [chain, list] of portChains(p, groups)) {
      decl.push(`:${chain} - [0:0]`);
      for (const r of list) rules.push(`-A ${chain} ${r}`);
    }
  }
  return [
    '*filter',
    ...(only ? [] : [':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]']),
    ...decl,
    ...rules,
    'COMMIT',
    '',
  ].join('\n');
}

function ipsets(t: Topology): string {
  const lines: string[] = [];
  for (const g of t.securityGroups ?? []) {
    const name = ipsetOf(g.id);
    lines.push(`create ${name} hash:net family inet`);
    for (const p of t.ports) if (p.securityGroups?.includes(g.id)) lines.push(`add ${name} ${p.fixedIps[0]?.ipAddress}`);
  }
  return lines.join('\n') + '\n';
}

export async function firewallBench(_url?: string): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('\n## firewall: skipped (needs root for network namespaces)');
    return;
  }
  const prefix = `nlbfw${randomBytes(3).toString('hex')}-`;
  const nftNs = `${prefix}nft`;
  const iptNs = `${prefix}ipt`;
  const haveIptables = (await execa('sh', ['-c', 'command -v iptables-restore && command -v ipset'], { reject: false })).exitCode === 0;
  const exec = new CommandRunner();
  try {
    await exec.run('ip', ['netns', 'add', nftNs], { mutating: true });
    const w = world();
    const base = specs(w.topology);
    const first = await nftApply(nftNs, base);

    const target = w.groupIds[7] as string;
    const withRule = (on: boolean): Topology => ({
      ...w.topology,
      securityGroups: (w.topology.securityGroups ?? []).map((g) =>
        g.id !== target || !on
          ? g
          : {
              ...g,
              rules: [
                ...g.rules,
                {
                  id: 'extra',
                  direction: 'ingress',
                  ethertype: 'IPv4',
                  protocol: 'tcp',
                  portRangeMin: 8443,
                  portRangeMax: 8443,
                  remoteIpPrefix: null,
                  remoteGroupId: null,
                },
              ],
            },
      ),
    });
    const moved = (on: boolean): Topology => ({
      ...w.topology,
      ports: w.topology.ports.map((p, i) => (i === 0 && on ? { ...p, securityGroups: [...(p.securityGroups ?? []), target] } : p)),
    });
    const nftRule: { total: number; apply: number; objects: number }[] = [];
    const nftMember: { total: number; apply: number; objects: number }[] = [];
    for (let i = 0; i < REPEAT; i++) {
      const ruled = specs(withRule(true));
      nftRule.push(await nftApply(nftNs, ruled, base));
      await nftApply(nftNs, base, ruled);
      const joined = specs(moved(true));
      nftMember.push(await nftApply(nftNs, joined, base));
      await nftApply(nftNs, base, joined);
    }
    const nftText = (await ns(nftNs, ['nft', 'list', 'ruleset'])).stdout;
    const nftRules = base.reduce(
      (n, s) => n + s.chains.reduce((m, c) => m + c.rules.length, 0) + s.inetChains.reduce((m, c) => m + c.rules.length, 0),
      0,
    );
    const nftElements = base.reduce(
      (n, s) => n + s.sets.reduce((m, x) => m + x.elements.length, 0) + s.maps.reduce((m, x) => m + x.elements.length, 0),
      0,
    );

    console.log(`\n## security groups: ${w.ports.length} ports in ${GROUPS} groups (${NETWORKS} networks), rule change and ruleset size`);
    console.log('| | netledger nftables (per-port chains + group chains + sets) | Neutron iptables per port (iptables-nft + ipset) |');
    console.log('|---|---|---|');
    let ipt: {
      full: number[];
      partial: number[];
      member: number[];
      rules: number;
      bytes: number;
      first: number;
      setMembers: number;
    } | null = null;
    if (haveIptables) {
      await exec.run('ip', ['netns', 'add', iptNs], { mutating: true });
      await ns(iptNs, ['ipset', 'restore'], ipsets(w.topology));
      const firstIpt = await timed(() => ns(iptNs, ['iptables-restore'], iptablesTable(w.topology)));
      const full: number[] = [];
      const partial: number[] = [];
      const member: number[] = [];
      const affected = new Set(w.ports.filter((p) => p.securityGroups?.includes(target)).map((p) => p.id));
      for (let i = 0; i < REPEAT; i++) {
        // Neutron's iptables manager rewrites its whole table in one iptables-restore.
        full.push(await timed(() => ns(iptNs, ['iptables-restore'], iptablesTable(withRule(true)))));
        await ns(iptNs, ['iptables-restore'], iptablesTable(w.topology));
        // Lower bound: only the chains of the ports in the changed group.
        partial.push(await timed(() => ns(iptNs, ['iptables-restore', '-n'], iptablesTable(withRule(true), affected))));
        await ns(iptNs, ['iptables-restore', '-n'], iptablesTable(w.topology, affected));
        // Membership: the ipset changes (the port's own chains too, as with nft).
        const p0 = w.ports[0] as TopologyPort;
        member.push(
          await timed(async () => {
            await ns(iptNs, ['ipset', 'add', ipsetOf(target), p0.fixedIps[0]?.ipAddress ?? '']);
            await ns(iptNs, ['iptables-restore', '-n'], iptablesTable(moved(true), new Set([p0.id])));
          }),
        );
        await ns(iptNs, ['ipset', 'del', ipsetOf(target), p0.fixedIps[0]?.ipAddress ?? '']);
        await ns(iptNs, ['iptables-restore', '-n'], iptablesTable(w.topology, new Set([p0.id])));
      }
      const saved = (await ns(iptNs, ['iptables-save'])).stdout;
      ipt = {
        full,
        partial,
        member,
        first: firstIpt,
        rules: saved.split('\n').filter((l) => l.startsWith('-A')).length,
        bytes: saved.length,
        setMembers: w.ports.length,
      };
    }
    const ms = (xs: number[]) => `${fmt(median(xs))} ms`;
    console.log(
      `| initial apply (all ${w.ports.length} ports) | ${fmt(first.total)} ms | ${ipt ? `${fmt(ipt.first)} ms` : 'n/a (iptables/ipset missing)'} |`,
    );
    console.log(
      `| add one ingress rule to 1 group (${w.ports.length / GROUPS} ports), median of ${REPEAT} | ${ms(nftRule.map((x) => x.total))} observe+diff+apply (apply ${ms(nftRule.map((x) => x.apply))}; ${nftRule[0]?.objects} chains rewritten) | ${ipt ? `${ms(ipt.full)} whole-table restore; ${ms(ipt.partial)} restoring only the ${w.ports.length / GROUPS} ports' chains` : 'n/a'} |`,
    );
    console.log(
      `| one port joins a group (remote-group member), median of ${REPEAT} | ${ms(nftMember.map((x) => x.total))} (apply ${ms(nftMember.map((x) => x.apply))}; ${nftMember[0]?.objects} objects: sets + that port's chains) | ${ipt ? `${ms(ipt.member)} (ipset add + the port's chains)` : 'n/a'} |`,
    );
    console.log(
      `| ruleset size | ${nftRules} rules, ${nftElements} set/map elements, ${fmt(nftText.length / 1024)} KiB as text | ${ipt ? `${ipt.rules} rules, ${ipt.setMembers} ipset members, ${fmt(ipt.bytes / 1024)} KiB as text` : 'n/a'} |`,
    );
    console.log(
      `| growth per extra group rule | +1 rule per network table using the group (${NETWORKS} here) | +1 rule per port in the group (${w.ports.length / GROUPS} here) |`,
    );
  } finally {
    for (const n of [nftNs, iptNs]) await exec.run('ip', ['netns', 'del', n], { mutating: true, reject: false });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await firewallBench();
