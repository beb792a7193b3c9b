import type { Queryable, Sql } from '../../db/sql.js';
import type { Agent } from '../../domain/agent/index.js';
import type { FirewallGroup } from '../../domain/firewall/index.js';
import type { FloatingIp } from '../../domain/floating-ip/index.js';
import type { Port } from '../../domain/port/index.js';
import type { Router } from '../../domain/router/index.js';
import type { SecurityGroup } from '../../domain/security-group/index.js';
import type { EndpointGroup } from '../../domain/vpn/index.js';
import { listAgents } from '../agents-projection.js';
import { routerPortIds } from './core.js';
import { topologyParts, type TopologySnapshot } from './read-model.js';
import { mergeFragments, readModelSource, type ResourceDoc, type TopologyFragment, type TopologySource } from './source.js';

/**
 * One host's slice of the read model (issue 16, scale): what `compileHostState(topology, host)`
 * reads, found through indexed queries, so a host's rebuild costs what the host holds rather than
 * what the deployment holds. The compile of the slice equals the compile of the whole topology for
 * that host (test/dataplane/host-slice.test.ts holds the two side by side).
 *
 * The slice's networks are those this host needs a bridge for: networks of ports bound here, of
 * every port of a router with a port here (its namespace plugs them all), of a distributed router
 * with a port here or an interface on one of those networks, and of a load balancer's VIP bound
 * here or not bound yet. It holds every port of those networks (DHCP hosts, l2population), the
 * members of the remote security groups its ports' rules name, and those networks' subnets. Kinds
 * that are few or that every host needs (routers, floating IPs, groups, load balancers, VPN) are
 * read whole; of the agents, only those of the hosts the slice's ports are bound to (their tunnel
 * endpoints) and this host's own.
 */

/** What a host's last slice held: the agent wakes for a change only when it touches these. */
export interface HostInterest {
  readonly networks: ReadonlySet<string>;
  readonly subnets: ReadonlySet<string>;
  readonly ports: ReadonlySet<string>;
  readonly remoteGroups: ReadonlySet<string>;
}

export interface HostTopologySnapshot extends TopologySnapshot {
  readonly interest: HostInterest;
}

type Row = { id: string; revision: bigint; doc: unknown };
const toDocs = <D>(rows: readonly Row[]): ResourceDoc<D>[] =>
  rows.map((r) => ({ id: r.id, revision: Number(r.revision), doc: r.doc as D }));

/** Ports bound to `host` (migration 130's index). */
function portsBoundTo(q: Queryable, host: string): Promise<Row[]> {
  return q<Row[]>`select id, revision, doc from rm_resources where kind = 'port' and doc->>'bindingHost' = ${host}`;
}

function portsOfNetworks(q: Queryable, networks: readonly string[]): Promise<Row[]> {
  if (networks.length === 0) return Promise.resolve([]);
  return q<Row[]>`select id, revision, doc from rm_resources where kind = 'port' and network_id = any(${networks}::uuid[])`;
}

function portsById(q: Queryable, ids: readonly string[]): Promise<Row[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return q<Row[]>`select id, revision, doc from rm_resources where kind = 'port' and id = any(${ids}::uuid[])`;
}

/** Ports in any of `groups` (migration 130's GIN index): the members of remote security groups. */
function portsInGroups(q: Queryable, groups: readonly string[]): Promise<Row[]> {
  if (groups.length === 0) return Promise.resolve([]);
  return q<Row[]>`select id, revision, doc from rm_resources where kind = 'port' and doc->'securityGroups' ?| ${groups}::text[]`;
}

/**
 * Networks this host needs a bridge for. A load balancer needs no more: its VIP is bound here, or,
 * unbound, goes with its network's router or DHCP host, which holds that network already.
 */
async function sliceNetworks(source: TopologySource, mine: readonly ResourceDoc<Port>[]): Promise<Set<string>> {
  const local = new Set(mine.map((p) => p.doc.networkId));
  const networks = new Set(local);
  const mineIds = new Set(mine.map((p) => p.id));
  const routers = await source.docs<Router>('router');
  const touches = (r: Router) => routerPortIds(r).some((id) => mineIds.has(id)) || mine.some((p) => p.doc.deviceId === r.id);
  // Ports of routers that may be here: few, read by id.
  const candidates = routers.filter((r) => r.doc.distributed === true || touches(r.doc));
  const wanted = [...new Set(candidates.flatMap((r) => routerPortIds(r.doc)))];
  const networkOf = new Map(toDocs<Port>(await portsById(source.q, wanted)).map((p) => [p.id, p.doc.networkId]));
  for (const r of candidates) {
    const nets = routerPortIds(r.doc).flatMap((id) => networkOf.get(id) ?? []);
    // A distributed router runs wherever one of its networks has a port bound here.
    if (touches(r.doc) || nets.some((n) => local.has(n))) for (const n of nets) networks.add(n);
  }
  return networks;
}

/** The remote groups the rules of this host's filtered ports name. */
async function remoteGroupsOf(source: TopologySource, mine: readonly ResourceDoc<Port>[]): Promise<Set<string>> {
  const used = new Set(mine.filter((p) => !p.doc.deviceOwner.startsWith('network:')).flatMap((p) => p.doc.securityGroups));
  const out = new Set<string>();
  for (const { doc } of await source.docs<SecurityGroup>('security_group')) {
    if (!used.has(doc.id)) continue;
    for (const r of doc.rules) if (r.remoteGroupId) out.add(r.remoteGroupId);
  }
  return out;
}

/** The subnets a VPN endpoint group names (its local CIDRs), wherever their network is. */
async function endpointSubnets(source: TopologySource): Promise<string[]> {
  const groups = await source.docs<EndpointGroup>('endpoint_group');
  return groups.flatMap(({ doc }) => (doc.type === 'subnet' ? [...doc.endpoints] : []));
}

/** Kinds every host reads whole, fetched up front. */
const WHOLE_KINDS = [
  'router',
  'floatingip',
  'security_group',
  'firewall_group',
  'firewall_policy',
  'firewall_rule',
  'endpoint_group',
  'ipsec_site_connection',
];

/** A TopologySource over one snapshot whose ports, networks and subnets are `host`'s slice. */
async function hostSource(q: Queryable, host: string): Promise<{ source: TopologySource; interest: HostInterest }> {
  // Independent reads go out together (one connection pipelines them); the parts then find the
  // whole kinds they read already fetched.
  const whole = readModelSource(q, WHOLE_KINDS);
  const mine = toDocs<Port>(await portsBoundTo(q, host));
  const [networks, remoteGroups, extraSubnets] = await Promise.all([
    sliceNetworks(whole, mine),
    remoteGroupsOf(whole, mine),
    endpointSubnets(whole),
  ]);
  const netList = [...networks];
  const [onNetworks, members, netRows, subnetRows] = await Promise.all([
    portsOfNetworks(q, netList),
    portsInGroups(q, [...remoteGroups]),
    netList.length === 0
      ? []
      : q<Row[]>`select id, revision, doc from rm_resources where kind = 'network' and id = any(${netList}::uuid[])`,
    netList.length === 0 && extraSubnets.length === 0
      ? []
      : q<Row[]>`select id, revision, doc from rm_resources where kind = 'subnet'
          and (network_id = any(${netList}::uuid[]) or id = any(${extraSubnets}::uuid[]))`,
  ]);
  const ports = [...new Map([...mine, ...toDocs<Port>(onNetworks), ...toDocs<Port>(members)].map((p) => [p.id, p])).values()];
  const sliced = new Map<string, readonly ResourceDoc<unknown>[]>([
    ['port', ports],
    ['network', toDocs<unknown>(netRows)],
    ['subnet', toDocs<unknown>(subnetRows)],
  ]);
  // Tunnel endpoints and DVR MACs of the hosts the slice's ports are bound to, not of every host.
  const hosts = [...new Set([host, ...ports.map((p) => p.doc.bindingHost).filter((h) => h !== '')])];
  let agents: Promise<readonly Agent[]> | undefined;
  const source: TopologySource = {
    q,
    docs<D>(kind: string) {
      const hit = sliced.get(kind);
      return hit ? Promise.resolve(hit as readonly ResourceDoc<D>[]) : whole.docs<D>(kind);
    },
    agents: () => (agents ??= listAgents(q, hosts)),
  };
  const interest: HostInterest = {
    networks,
    subnets: new Set(subnetRows.map((s) => s.id)),
    ports: new Set(ports.map((p) => p.id)),
    remoteGroups,
  };
  return { source, interest };
}

/**
 * `host`'s slice of the topology over one read-only snapshot. Its records hold the slice's ports
 * (every port bound here among them, for status reports) and every router and floating IP.
 */
export async function buildHostTopology(sql: Sql, host: string): Promise<HostTopologySnapshot> {
  return sql.begin('isolation level repeatable read read only', async (tx): Promise<HostTopologySnapshot> => {
    const { source, interest } = await hostSource(tx, host);
    const fragments: TopologyFragment[] = [];
    for (const [, part] of topologyParts()) fragments.push(await part(source));
    return {
      topology: mergeFragments(fragments),
      records: {
        ports: await source.docs<Port>('port'),
        routers: await source.docs<Router>('router'),
        floatingIps: await source.docs<FloatingIp>('floatingip'),
        firewallGroups: await source.docs<FirewallGroup>('firewall_group'),
      },
      interest,
    };
  });
}

/**
 * What the schedulers need, wherever it is bound: the platform's own ports (DHCP, router, HA, DVR;
 * migration 130's index), every router and floating IP, the networks' availability zone hints,
 * and the ports bound to `host` (a DVR host makes its fg- port for its own instances' floating
 * IPs). Compute ports elsewhere, the bulk, are never read.
 */
export async function schedulingRecords(sql: Sql, host: string): Promise<SchedulingRecords> {
  return sql.begin('isolation level repeatable read read only', async (tx): Promise<SchedulingRecords> => {
    const ports = await tx<Row[]>`select id, revision, doc from rm_resources where kind = 'port'
      and ((doc->>'deviceOwner' >= 'network:' and doc->>'deviceOwner' < 'network;') or doc->>'bindingHost' = ${host})`;
    const routers = await tx<Row[]>`select id, revision, doc from rm_resources where kind = 'router'`;
    const floatingIps = await tx<Row[]>`select id, revision, doc from rm_resources where kind = 'floatingip'`;
    const hinted = await tx<{ id: string; hints: string[] }[]>`select id, doc->'availabilityZoneHints' as hints from rm_resources
      where kind = 'network' and doc ? 'availabilityZoneHints'`;
    return {
      ports: toDocs<Port>(ports),
      routers: toDocs<Router>(routers),
      floatingIps: toDocs<FloatingIp>(floatingIps),
      networkHints: new Map(hinted.map((n) => [n.id, n.hints])),
    };
  });
}

export interface SchedulingRecords {
  readonly ports: ResourceDoc<Port>[];
  readonly routers: ResourceDoc<Router>[];
  readonly floatingIps: ResourceDoc<FloatingIp>[];
  /** The availability_zone_hints of the networks that have some. */
  readonly networkHints: ReadonlyMap<string, readonly string[]>;
}
