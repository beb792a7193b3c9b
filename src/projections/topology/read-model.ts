import type { Sql } from '../../db/sql.js';
import type { FirewallGroup } from '../../domain/firewall/index.js';
import type { FloatingIp } from '../../domain/floating-ip/index.js';
import type { Port } from '../../domain/port/index.js';
import type { Router } from '../../domain/router/index.js';
import type { Topology } from '../desired-state/topology.js';
import { coreTopologyPart } from './core.js';
import { loadBalancerTopologyPart } from './load-balancers.js';
import { securityTopologyPart } from './security.js';
import { vtepTopologyPart } from './vteps.js';
import { dvrHostTopologyPart } from './dvr-hosts.js';
import { mergeFragments, readModelSource, type ResourceDoc, type TopologyFragment, type TopologyPart } from './source.js';

/** The parts of every topology build, in merge order; each kind of resource is read by one part. */
const BUILT_IN: readonly [string, TopologyPart][] = [
  ['core', coreTopologyPart],
  ['load-balancers', loadBalancerTopologyPart],
  ['security', securityTopologyPart],
  ['vteps', vtepTopologyPart],
  ['dvr-hosts', dvrHostTopologyPart],
];

const extra = new Map<string, TopologyPart>();

/**
 * Adds a part to every topology build after the built-in ones. Registering the same name again
 * replaces the part (module reloads in tests).
 */
export function registerTopologyPart(name: string, part: TopologyPart): void {
  extra.set(name, part);
}

export function topologyParts(): readonly [string, TopologyPart][] {
  return [...BUILT_IN, ...extra];
}

/** Records the agent needs besides the topology: statuses to compare, revisions to schedule against. */
export interface SnapshotRecords {
  readonly ports: readonly ResourceDoc<Port>[];
  readonly routers: readonly ResourceDoc<Router>[];
  readonly floatingIps: readonly ResourceDoc<FloatingIp>[];
  readonly firewallGroups: readonly ResourceDoc<FirewallGroup>[];
}

export interface TopologySnapshot {
  readonly topology: Topology;
  readonly records: SnapshotRecords;
}

/** Every registered part over one read-only snapshot, so the parts agree with each other. */
export async function buildTopology(sql: Sql): Promise<TopologySnapshot> {
  return sql.begin('isolation level repeatable read read only', async (tx): Promise<TopologySnapshot> => {
    const source = readModelSource(tx);
    const fragments: TopologyFragment[] = [];
    for (const [, part] of topologyParts()) fragments.push(await part(source));
    const records: SnapshotRecords = {
      ports: await source.docs<Port>('port'),
      routers: await source.docs<Router>('router'),
      floatingIps: await source.docs<FloatingIp>('floatingip'),
      firewallGroups: await source.docs<FirewallGroup>('firewall_group'),
    };
    return { topology: mergeFragments(fragments), records };
  });
}
