import type { Queryable, Sql } from '../../db/sql.js';
import type { FloatingIp } from '../../domain/floating-ip/index.js';
import type { Network } from '../../domain/network/index.js';
import type { Port } from '../../domain/port/index.js';
import type { Router } from '../../domain/router/index.js';
import type { Subnet } from '../../domain/subnet/index.js';
import type {
  Topology,
  TopologyFloatingIp,
  TopologyNetwork,
  TopologyPort,
  TopologyRouter,
  TopologySubnet,
} from '../../projections/desired-state/index.js';

/** A resource row as topology parts see it: the read-model document and its revision. */
export interface ResourceDoc<D> {
  readonly id: string;
  readonly revision: number;
  readonly doc: D;
}

/**
 * The read model, as of one snapshot, to every part of one topology build. `docs(kind)` is read
 * once per build whichever parts ask for it, so parts may share kinds freely.
 */
export interface TopologySource {
  docs<D>(kind: string): Promise<readonly ResourceDoc<D>[]>;
  /** The snapshot's transaction, for parts that need a query of their own. */
  readonly q: Queryable;
}

/** What one part adds: any of the topology's lists (concatenated with the other parts' lists). */
export type TopologyFragment = { readonly [K in keyof Topology]?: Topology[K] };
export type TopologyPart = (source: TopologySource) => Promise<TopologyFragment>;

const parts = new Map<string, TopologyPart>();

/**
 * Adds a part to every topology build, e.g. load balancers or security groups from their own
 * module. Registering the same name again replaces the part (module reloads in tests).
 */
export function registerTopologyPart(name: string, part: TopologyPart): void {
  parts.set(name, part);
}

export function topologyParts(): readonly [string, TopologyPart][] {
  return [...parts];
}

// ---- pure mappings: read-model documents → the compiler's view ---------------------------------

export function subnetToTopology(s: Subnet): TopologySubnet {
  return {
    id: s.id,
    ipVersion: s.ipVersion,
    cidr: s.cidr,
    gatewayIp: s.gatewayIp,
    enableDhcp: s.enableDhcp,
    dnsNameservers: [...s.dnsNameservers],
    hostRoutes: s.hostRoutes.map((r) => ({ destination: r.destination, nexthop: r.nexthop })),
    allocationPools: s.allocationPools.map((p) => ({ start: p.start, end: p.end })),
  };
}

/** `subnets`: the network's subnets; kept in the network's own (creation) order. */
export function networkToTopology(n: Network, subnets: readonly Subnet[]): TopologyNetwork {
  const byId = new Map(subnets.map((s) => [s.id, s]));
  const ordered = n.subnets.map((r) => byId.get(r.id)).filter((s): s is Subnet => s !== undefined);
  return {
    id: n.id,
    mtu: n.mtu,
    external: n.external,
    segment: { networkType: n.provider.networkType, physicalNetwork: n.provider.physicalNetwork, segmentationId: n.provider.segmentationId },
    subnets: ordered.map(subnetToTopology),
  };
}

export function portToTopology(p: Port): TopologyPort {
  return {
    id: p.id,
    networkId: p.networkId,
    macAddress: p.macAddress,
    fixedIps: p.fixedIps.map((f) => ({ subnetId: f.subnetId, ipAddress: f.ipAddress })),
    deviceOwner: p.deviceOwner,
    deviceId: p.deviceId,
    // Neutron's unbound port has an empty binding:host_id.
    bindingHost: p.bindingHost === '' ? null : p.bindingHost,
    adminStateUp: p.adminStateUp,
    // What filtering needs of the port itself; the groups' rules come from the security group part.
    portSecurityEnabled: p.portSecurityEnabled,
    securityGroups: [...p.securityGroups],
    allowedAddressPairs: p.allowedAddressPairs.map((a) => ({ ipAddress: a.ipAddress, macAddress: a.macAddress })),
  };
}

/** The ports a router plugs in: its gateway port and each interface port once (an IPv6 port may carry several subnets). */
export function routerPortIds(r: Router): string[] {
  return [...new Set([...(r.gateway ? [r.gateway.portId] : []), ...r.interfaces.map((i) => i.portId)])];
}

export function routerToTopology(r: Router): TopologyRouter {
  return {
    id: r.id,
    adminStateUp: r.adminStateUp,
    interfacePortIds: [...new Set(r.interfaces.map((i) => i.portId))],
    gateway: r.gateway ? { portId: r.gateway.portId, networkId: r.gateway.networkId, enableSnat: r.gateway.enableSnat } : null,
    routes: r.routes.map((x) => ({ destination: x.destination, nexthop: x.nexthop })),
  };
}

export function floatingIpToTopology(f: FloatingIp): TopologyFloatingIp {
  const a = f.association;
  return {
    id: f.id,
    floatingIpAddress: f.floatingIpAddress,
    floatingNetworkId: f.floatingNetworkId,
    fixedIpAddress: a?.fixedIpAddress ?? null,
    portId: a?.portId ?? null,
    routerId: a?.routerId ?? null,
  };
}

export interface CoreDocs {
  readonly networks: readonly Network[];
  readonly subnets: readonly Subnet[];
  readonly ports: readonly Port[];
  readonly routers: readonly Router[];
  readonly floatingIps: readonly FloatingIp[];
}

/** Networks, subnets, ports, routers and floating IPs: the part every build has. */
export function coreTopology(docs: CoreDocs): Topology {
  const subnetsByNetwork = new Map<string, Subnet[]>();
  for (const s of docs.subnets) subnetsByNetwork.set(s.networkId, [...(subnetsByNetwork.get(s.networkId) ?? []), s]);
  return {
    networks: docs.networks.map((n) => networkToTopology(n, subnetsByNetwork.get(n.id) ?? [])),
    // The hidden network:floatingip ports hold an address only; nothing is plugged for them.
    ports: docs.ports.filter((p) => p.deviceOwner !== 'network:floatingip').map(portToTopology),
    routers: docs.routers.map(routerToTopology),
    floatingIps: docs.floatingIps.map(floatingIpToTopology),
  };
}

/** Concatenates the parts' lists, key by key. */
export function mergeFragments(fragments: readonly TopologyFragment[]): Topology {
  const out: Record<string, unknown[]> = { networks: [], ports: [], routers: [], floatingIps: [] };
  for (const f of fragments) {
    for (const [key, list] of Object.entries(f) as [string, readonly unknown[] | undefined][]) {
      if (list) out[key] = [...(out[key] ?? []), ...list];
    }
  }
  return out as unknown as Topology;
}

const docsOf = async <D>(source: TopologySource, kind: string) => (await source.docs<D>(kind)).map((r) => r.doc);

registerTopologyPart('core', async (source) =>
  coreTopology({
    networks: await docsOf<Network>(source, 'network'),
    subnets: await docsOf<Subnet>(source, 'subnet'),
    ports: await docsOf<Port>(source, 'port'),
    routers: await docsOf<Router>(source, 'router'),
    floatingIps: await docsOf<FloatingIp>(source, 'floatingip'),
  }),
);

// ---- the SQL side ---------------------------------------------------------------------------------

/** Reads resource documents of one kind, memoized for the life of the source. */
export function readModelSource(q: Queryable): TopologySource {
  const cache = new Map<string, Promise<readonly ResourceDoc<unknown>[]>>();
  return {
    q,
    docs<D>(kind: string) {
      let hit = cache.get(kind);
      if (!hit) {
        hit = q<{ id: string; revision: bigint; doc: unknown }[]>`select id, revision, doc from rm_resources where kind = ${kind}`.then((rows) =>
          rows.map((r) => ({ id: r.id, revision: Number(r.revision), doc: r.doc })),
        );
        cache.set(kind, hit);
      }
      return hit as Promise<readonly ResourceDoc<D>[]>;
    },
  };
}

/** Records the agent needs besides the topology: statuses to compare, revisions to schedule against. */
export interface SnapshotRecords {
  readonly ports: readonly ResourceDoc<Port>[];
  readonly routers: readonly ResourceDoc<Router>[];
  readonly floatingIps: readonly ResourceDoc<FloatingIp>[];
}

export interface TopologySnapshot {
  readonly topology: Topology;
  readonly records: SnapshotRecords;
}

/** Every registered part over one read-only snapshot, so the parts agree with each other. */
export async function buildTopology(sql: Sql): Promise<TopologySnapshot> {
  return sql.begin('isolation level repeatable read read only', async (tx) => {
    const source = readModelSource(tx);
    const fragments: TopologyFragment[] = [];
    for (const [, part] of topologyParts()) fragments.push(await part(source));
    const records: SnapshotRecords = {
      ports: await source.docs<Port>('port'),
      routers: await source.docs<Router>('router'),
      floatingIps: await source.docs<FloatingIp>('floatingip'),
    };
    return { topology: mergeFragments(fragments), records };
  }) as Promise<TopologySnapshot>;
}
