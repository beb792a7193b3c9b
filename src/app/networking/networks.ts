import { randomUUID } from 'node:crypto';
import type { Lifecycle } from '../../domain/common/index.js';
import { domainError, isDomainError } from '../../domain/errors.js';
import { networkDecider, networkStreamId, type CreateNetwork, type Network, type UpdateNetwork } from '../../domain/network/index.js';
import { subnetDecider, subnetStreamId, type Subnet } from '../../domain/subnet/index.js';
import type { EventMetadata } from '../../store/types.js';
import type { PlannedAppend, Tx } from '../command-runtime.js';
import { availabilityZoneFacts } from '../availability-zones.js';
import { decideAppend } from '../plan.js';
import type { Services } from '../services.js';
import { isUuid } from './facts.js';
import { planDeletePort } from './ports.js';
import { adminOnly, isOwnerOrAdmin, platformPrincipal, type Principal } from '../../domain/policy/index.js';

export type NetworkInput = Omit<
  CreateNetwork,
  'type' | 'id' | 'project' | 'now' | 'segmentationExhausted' | 'segmentInUse' | 'knownAvailabilityZones'
> & {
  id?: string;
};

/** Neutron's ML2 draws a segment id at random among this many lowest free ones (IDPOOL_SELECT_SIZE). */
const SEGMENT_WINDOW = 100;

/**
 * The lowest `limit` free segmentation ids of a type (and physical network: '' for VXLAN) in a
 * configured range, found from the gaps between taken ids in SQL. Taking the single lowest one
 * made concurrent creates all reach for the same id, collide on the read model's
 * one-network-per-segment row and retry until some gave up (5 of 120 at concurrency 8).
 */
async function freeSegments(
  tx: Tx,
  type: string,
  physnet: string,
  range: { min: number; max: number },
  limit = SEGMENT_WINDOW,
): Promise<number[]> {
  const rows = await tx<{ lowest: number; id: number; next: number | null }[]>`
    select (select min(segmentation_id) from rm_segments
             where network_type = ${type} and physical_network = ${physnet} and segmentation_id between ${range.min} and ${range.max}) as lowest,
           w.id, w.next
      from (select segmentation_id as id, lead(segmentation_id) over (order by segmentation_id) as next from rm_segments
             where network_type = ${type} and physical_network = ${physnet} and segmentation_id between ${range.min} and ${range.max}) w
     where w.next is null or w.next <> w.id + 1
     order by w.id
     limit ${limit}`;
  const gaps: [number, number][] = [];
  if (rows.length === 0) gaps.push([range.min, range.max]);
  else if (rows[0]!.lowest > range.min) gaps.push([range.min, rows[0]!.lowest - 1]);
  for (const r of rows) if (r.id < (r.next ?? range.max + 1) - 1) gaps.push([r.id + 1, (r.next ?? range.max + 1) - 1]);
  const free: number[] = [];
  for (const [first, last] of gaps) for (let v = first; v <= last && free.length < limit; v++) free.push(v);
  return free;
}

/** A free id drawn from the first range that has one, in their order (Neutron's network_vlan_ranges). */
async function freeSegmentIn(
  tx: Tx,
  type: string,
  physnet: string,
  ranges: readonly { min: number; max: number }[],
): Promise<number | null> {
  for (const range of ranges) {
    const free = await freeSegments(tx, type, physnet, range);
    if (free.length > 0) return free[Math.floor(Math.random() * free.length)]!;
  }
  return null;
}

export function createNetwork(s: Services, actor: Principal, input: NetworkInput, metadata: EventMetadata) {
  return s.runtime.execute(metadata, async (tx) => {
    const refused =
      (input.shared ? adminOnly(actor, 'create_network:shared') : null) ??
      (input.external ? adminOnly(actor, 'create_network:router:external') : null) ??
      (input.provider ? adminOnly(actor, 'create_network:provider:network_type') : null);
    if (refused) return refused;
    const id = input.id ?? randomUUID();
    const type = input.provider?.networkType ?? 'vxlan';
    let provider = input.provider;
    let segmentationExhausted = false;
    let segmentInUse = false;
    if (type === 'vxlan' && (provider?.segmentationId ?? null) === null) {
      const vni = await freeSegmentIn(tx, 'vxlan', '', [s.config.vxlanRange]);
      segmentationExhausted = vni === null;
      provider = { ...provider, networkType: 'vxlan', segmentationId: vni };
    } else if (
      type === 'vlan' &&
      provider?.physicalNetwork &&
      (provider.segmentationId ?? null) === null &&
      s.config.vlanRanges[provider.physicalNetwork]
    ) {
      // Given only its physical network, a VLAN network takes a free id of that physnet's ranges.
      const vid = await freeSegmentIn(tx, 'vlan', provider.physicalNetwork, s.config.vlanRanges[provider.physicalNetwork]!);
      segmentationExhausted = vid === null;
      provider = { ...provider, segmentationId: vid };
    } else if (provider && type !== 'local') {
      const [taken] =
        await tx`select 1 from rm_segments where network_type = ${type} and physical_network = ${provider.physicalNetwork ?? ''}
                                and segmentation_id = ${provider.segmentationId ?? 0}`;
      segmentInUse = Boolean(taken);
    }
    const loaded = await s.aggregates.load<Lifecycle<Network>>(tx, networkStreamId(id));
    const command: CreateNetwork = {
      ...input,
      type: 'CreateNetwork',
      id,
      project: actor.projectId,
      now: new Date().toISOString(),
      segmentationExhausted,
      segmentInUse,
      ...(provider ? { provider } : {}),
      ...(await availabilityZoneFacts(tx, input.availabilityZoneHints)),
    };
    const append = decideAppend(networkDecider, loaded, networkStreamId(id), command);
    if (isDomainError(append)) return append;
    return { appends: [append], result: id };
  });
}

async function loadOwnNetwork(s: Services, tx: Tx, actor: Principal, id: string) {
  if (!isUuid(id)) return null;
  const loaded = await s.aggregates.load<Lifecycle<Network>>(tx, networkStreamId(id));
  if (loaded.state.status === 'live' && !isOwnerOrAdmin(actor, loaded.state.resource)) return null;
  return loaded;
}

const notFound = (id: string) => domainError('NetworkNotFound', `Network ${id} could not be found.`);

export function updateNetwork(
  s: Services,
  actor: Principal,
  id: string,
  changes: UpdateNetwork['changes'],
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  return s.runtime.execute(metadata, async (tx) => {
    const refused =
      (changes.shared !== undefined ? adminOnly(actor, 'update_network:shared') : null) ??
      (changes.external !== undefined ? adminOnly(actor, 'update_network:router:external') : null);
    if (refused) return refused;
    const loaded = await loadOwnNetwork(s, tx, actor, id);
    if (!loaded) return notFound(id);
    const append = decideAppend(networkDecider, loaded, networkStreamId(id), {
      type: 'UpdateNetwork',
      id,
      now: new Date().toISOString(),
      changes,
      ...(expectedRevision !== undefined ? { expectedRevision } : {}),
    });
    if (isDomainError(append)) return append;
    return { appends: [append], result: id };
  });
}

/**
 * Deletes the network with its subnets and DHCP port. The network row is locked first, so a port
 * being created on it either commits before we count (NetworkInUse) or finds it gone.
 */
export function deleteNetwork(s: Services, actor: Principal, id: string, expectedRevision: number | undefined, metadata: EventMetadata) {
  return s.runtime.execute(metadata, async (tx) => {
    const loaded = await loadOwnNetwork(s, tx, actor, id);
    if (!loaded) return notFound(id);
    await tx`select 1 from rm_resources where id = ${id} for update`;
    const ports = await tx<
      { id: string; owner: string }[]
    >`select id, doc->>'deviceOwner' as owner from rm_resources where kind = 'port' and network_id = ${id}`;
    const inUse = ports.filter((p) => !p.owner.startsWith('network:dhcp'));
    const now = new Date().toISOString();
    const append = decideAppend(networkDecider, loaded, networkStreamId(id), {
      type: 'DeleteNetwork',
      id,
      now,
      portsInUse: inUse.length,
      ...(expectedRevision !== undefined ? { expectedRevision } : {}),
    });
    if (isDomainError(append)) return append;
    const appends: PlannedAppend[] = [append];
    for (const p of ports) {
      const del = await planDeletePort(s, tx, platformPrincipal(actor.projectId), p.id, undefined, now, true);
      if (isDomainError(del)) return del;
      appends.push(del);
    }
    const network = loaded.state.status === 'live' ? loaded.state.resource : null;
    for (const ref of network?.subnets ?? []) {
      const sl = await s.aggregates.load<Lifecycle<Subnet>>(tx, subnetStreamId(ref.id));
      const del = decideAppend(subnetDecider, sl, subnetStreamId(ref.id), {
        type: 'DeleteSubnet',
        id: ref.id,
        now,
        portsWithAddresses: [],
      });
      if (isDomainError(del)) return del;
      appends.push(del);
    }
    return { appends, result: id };
  });
}
