import { randomBytes, randomUUID } from 'node:crypto';
import { pipelined } from '../../db/pipelined.js';
import type { Lifecycle } from '../../domain/common/index.js';
import { domainError, isDomainError, type DomainError } from '../../domain/errors.js';
import { formatIp, macFromRandomBytes, normaliseMac, parseIp, pickCandidate } from '../../domain/ipam/index.js';
import type { Network } from '../../domain/network/index.js';
import {
  candidateSubnets,
  isNetworkOwned,
  portDecider,
  portStreamId,
  takesLowestFreeAddress,
  type AddressPairRequest,
  type FixedIpRequest,
  type Port,
  type PortCommand,
} from '../../domain/port/index.js';
import type { Subnet } from '../../domain/subnet/index.js';
import type { PlannedAppend, Tx } from '../command-runtime.js';
import type { EventMetadata } from '../../store/types.js';
import { after, decideAppend } from '../plan.js';
import { refsOf, resolveReferences } from '../references.js';
import type { FixedIpChange, Services } from '../services.js';
import { factsOf, isUuid, lockNetworkWithSubnets, subnetsOf } from './facts.js';
import { freeAddressValuesIn } from './free-addresses.js';
import { isOwnerOrAdmin, platformPrincipal, type Principal } from '../../domain/policy/index.js';

export interface PortInput {
  readonly id?: string;
  readonly networkId: string;
  readonly name?: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly fixedIps?: readonly FixedIpRequest[];
  readonly macAddress?: string;
  readonly deviceOwner?: string;
  readonly deviceId?: string;
  readonly adminStateUp?: boolean;
  readonly bindingHost?: string;
  readonly securityGroups?: readonly string[];
  readonly portSecurityEnabled?: boolean;
  readonly allowedAddressPairs?: readonly AddressPairRequest[];
  /** The project's default group, for a port created without securityGroups. */
  readonly defaultSecurityGroupId?: string;
}

/**
 * Candidates for every subnet that needs automatic addresses, as many distinct ones as `need`
 * names it: random in the first 1000 free, lowest for DHCP.
 */
async function pickCandidates(
  tx: Tx,
  subnets: readonly Subnet[],
  need: readonly string[],
  deviceOwner: string | undefined,
  exclude: readonly string[],
) {
  const out: Record<string, string[] | null> = {};
  // Every subnet's search goes down the connection at once: one round trip for a dual-stack port.
  const wanted = [...new Set(need)].flatMap((id) => {
    const subnet = subnets.find((x) => x.id === id);
    return subnet ? [{ id, free: freeAddressValuesIn(tx, id, subnet, exclude) }] : [];
  });
  const searched = await pipelined(wanted.map((w) => w.free));
  for (const [i, { id }] of wanted.entries()) {
    const { version, values: free } = searched[i]!;
    const picked: string[] = [];
    for (let n = need.filter((x) => x === id).length; n > 0; n--) {
      const one = pickCandidate(free, takesLowestFreeAddress(deviceOwner ?? '') ? { lowest: true } : { random: Math.random() });
      if (one === null) break;
      picked.push(formatIp({ version, value: one }));
      free.splice(free.indexOf(one), 1);
    }
    out[id] = picked.length > 0 ? picked : null;
  }
  return out;
}

async function takenAmong(
  tx: Tx,
  networkId: string,
  requests: readonly FixedIpRequest[] | undefined,
  exceptPort?: string,
): Promise<string[]> {
  // Only well-formed addresses reach SQL: a bad cast would abort the whole transaction. The decider
  // reports malformed ones with a proper error.
  const wanted = (requests ?? []).map((r) => r.ipAddress).filter((x): x is string => typeof x === 'string' && parseIp(x) !== null);
  if (wanted.length === 0) return [];
  const rows = await tx<{ ip: string; port_id: string }[]>`
    select host(ip_address) as ip, port_id from rm_ip_allocations
     where network_id = ${networkId} and ip_address = any(${wanted}::inet[])`;
  return rows.filter((r) => r.port_id !== exceptPort).map((r) => r.ip);
}

/** `stateful` of each group a port names, when it names several (one group cannot conflict). */
async function groupStatefulness(tx: Tx, ids: readonly string[] | undefined): Promise<Record<string, boolean>> {
  const named = [...new Set(ids ?? [])].filter(isUuid);
  if (named.length < 2) return {};
  const rows = await tx<{ id: string; stateful: boolean }[]>`
    select id, (doc->>'stateful')::boolean as stateful from rm_resources
     where kind = 'security_group' and id = any(${named.map((x) => x.toLowerCase())}::uuid[])`;
  const byId = new Map(rows.map((r) => [r.id, r.stateful]));
  return Object.fromEntries(named.flatMap((x) => (byId.has(x.toLowerCase()) ? [[x, byId.get(x.toLowerCase()) ?? true]] : [])));
}

/**
 * Facts decided earlier in the same command (a subnet being created with its DHCP port) that the
 * read model does not hold yet.
 */
export interface PendingFacts {
  readonly extraSubnet?: Subnet;
  readonly network?: Lifecycle<Network>;
}

async function networkAndSubnets(s: Services, tx: Tx, networkId: string, actor: Principal, pending: PendingFacts) {
  const { network, subnets } = pending.network
    ? pending.network.status === 'live'
      ? { network: pending.network.resource, subnets: await subnetsOf(s, tx, pending.network.resource) }
      : { network: null, subnets: [] }
    : await lockNetworkWithSubnets(tx, networkId, actor);
  if (pending.extraSubnet && !subnets.some((x) => x.id === pending.extraSubnet!.id)) subnets.push(pending.extraSubnet);
  return { network, subnets };
}

/**
 * What a port create reads before it can pick addresses: the groups it names, its network (locked)
 * with its subnets, and whether those groups are stateful. Sent together (one round trip), and at
 * once, so a caller can send other reads down the connection beside them.
 */
function createPortFacts(s: Services, tx: Tx, actor: Principal, input: PortInput, pending: PendingFacts) {
  return Promise.all([
    resolveReferences(tx, actor, refsOf('security_group', 'securityGroupIds', input.securityGroups)),
    networkAndSubnets(s, tx, input.networkId, actor, pending),
    groupStatefulness(tx, input.securityGroups),
  ]);
}

type CreatePortFacts = Awaited<ReturnType<typeof createPortFacts>>;

/** Plans a port create: facts from the read model, candidates drawn here, the decision in the domain. */
export async function planCreatePort(
  s: Services,
  tx: Tx,
  actor: Principal,
  input: PortInput,
  now: string,
  pending: PendingFacts = {},
  read: CreatePortFacts | Promise<CreatePortFacts> = createPortFacts(s, tx, actor, input, pending),
): Promise<{ append: PlannedAppend; port: Port } | DomainError> {
  const id = input.id ?? randomUUID();
  const [groups, { network, subnets }, securityGroupStateful] = await read;
  if (isDomainError(groups)) return groups;
  const facts = factsOf(subnets);
  const base = {
    type: 'CreatePort' as const,
    id,
    project: network && actor.isAdmin && input.deviceOwner?.startsWith('network:') ? network.project : actor.projectId,
    asAdmin: actor.isAdmin,
    now,
    networkId: input.networkId,
    network: network
      ? {
          id: network.id,
          project: network.project,
          shared: network.shared,
          external: network.external,
          portSecurityEnabled: network.portSecurityEnabled,
        }
      : null,
    subnets: facts,
    ...pick(input, [
      'name',
      'description',
      'tags',
      'fixedIps',
      'macAddress',
      'deviceOwner',
      'deviceId',
      'adminStateUp',
      'bindingHost',
      'securityGroups',
      'portSecurityEnabled',
      'allowedAddressPairs',
    ]),
    ...(input.defaultSecurityGroupId !== undefined ? { defaultSecurityGroupId: input.defaultSecurityGroupId } : {}),
    securityGroupStateful,
  };
  const generatedMac = macFromRandomBytes(randomBytes(6));
  const mac = input.macAddress !== undefined ? normaliseMac(input.macAddress) : null;
  // EUI-64 slots are planned from the MAC the port will have; a malformed requested MAC is refused
  // by the decider, so the generated one stands in here.
  const need = candidateSubnets({
    networkId: input.networkId,
    subnets: facts,
    requests: input.fixedIps,
    deviceOwner: input.deviceOwner ?? '',
    macAddress: mac ?? generatedMac,
    current: [],
  });
  const exclude = (input.fixedIps ?? []).map((r) => r.ipAddress).filter((x): x is string => typeof x === 'string');
  // The address searches and the checks of requested addresses and MAC go together: one round trip.
  const [addressCandidates, takenAddresses, macTaken] = network
    ? await Promise.all([
        pickCandidates(tx, subnets, need, input.deviceOwner, exclude),
        takenAmong(tx, network.id, input.fixedIps),
        mac
          ? tx`select 1 from rm_port_macs where network_id = ${network.id} and mac_address = ${mac}::macaddr`.then((r) => r.length > 0)
          : false,
      ])
    : [{}, [], false];
  const command: PortCommand = { ...base, addressCandidates, takenAddresses, generatedMac, macTaken };
  // A uuid drawn here names no stream yet; only a client-chosen id needs a look (idempotent retry).
  const loaded = input.id
    ? await s.aggregates.load<Lifecycle<Port>>(tx, portStreamId(id))
    : { state: portDecider.initialState, version: 0 };
  const append = decideAppend(portDecider, loaded, portStreamId(id), command);
  if (isDomainError(append)) return append;
  const state = after(portDecider, loaded, append).state;
  if (state.status !== 'live') return domainError('PortNotFound', `Port ${id} could not be found.`);
  return { append, port: state.resource };
}

function pick<T extends object, K extends keyof T>(o: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/** Loads a port the actor may change; another project's port is simply not found. */
export async function loadOwnPort(s: Services, tx: Tx, actor: Principal, id: string) {
  if (!isUuid(id)) return null;
  const loaded = await s.aggregates.load<Lifecycle<Port>>(tx, portStreamId(id));
  if (loaded.state.status === 'live' && !isOwnerOrAdmin(actor, loaded.state.resource)) return null;
  return loaded;
}

export async function planUpdatePort(
  s: Services,
  tx: Tx,
  actor: Principal,
  id: string,
  changes: Omit<PortInput, 'networkId' | 'id'>,
  expectedRevision: number | undefined,
  now: string,
  pending: PendingFacts = {},
): Promise<{ append: PlannedAppend; port: Port } | DomainError> {
  const loaded = await loadOwnPort(s, tx, actor, id);
  if (!loaded || loaded.state.status !== 'live') return domainError('PortNotFound', `Port ${id} could not be found.`);
  const current = loaded.state.resource;
  const groups = await resolveReferences(tx, actor, refsOf('security_group', 'securityGroupIds', changes.securityGroups));
  if (isDomainError(groups)) return groups;
  let allocation = {};
  const mac = changes.macAddress !== undefined ? normaliseMac(changes.macAddress) : null;
  if (mac !== null && mac !== current.macAddress) {
    // The EUI-64 addresses follow a new MAC, so the decider needs the subnets too.
    const { subnets } = await networkAndSubnets(s, tx, current.networkId, platformPrincipal(current.project), pending);
    const macTaken =
      (await tx`select 1 from rm_port_macs where network_id = ${current.networkId} and mac_address = ${mac}::macaddr`).length > 0;
    allocation = { subnets: factsOf(subnets), macTaken };
  }
  if (changes.fixedIps !== undefined) {
    const { subnets } = await networkAndSubnets(s, tx, current.networkId, platformPrincipal(current.project), pending);
    const facts = factsOf(subnets);
    const need = candidateSubnets({
      networkId: current.networkId,
      subnets: facts,
      requests: changes.fixedIps,
      deviceOwner: current.deviceOwner,
      macAddress: mac ?? current.macAddress,
      current: current.fixedIps,
    });
    const exclude = [
      ...changes.fixedIps.map((r) => r.ipAddress).filter((x): x is string => typeof x === 'string'),
      ...current.fixedIps.map((f) => f.ipAddress),
    ];
    allocation = {
      ...allocation,
      subnets: facts,
      addressCandidates: await pickCandidates(tx, subnets, need, current.deviceOwner, exclude),
      takenAddresses: await takenAmong(tx, current.networkId, changes.fixedIps, id),
    };
  }
  const command: PortCommand = {
    type: 'UpdatePort',
    id,
    now,
    asAdmin: actor.isAdmin,
    ...(expectedRevision !== undefined ? { expectedRevision } : {}),
    securityGroupStateful: await groupStatefulness(tx, changes.securityGroups),
    changes: pick(changes, [
      'name',
      'description',
      'tags',
      'fixedIps',
      'macAddress',
      'deviceOwner',
      'deviceId',
      'adminStateUp',
      'bindingHost',
      'securityGroups',
      'portSecurityEnabled',
      'allowedAddressPairs',
    ]),
    ...allocation,
  };
  const append = decideAppend(portDecider, loaded, portStreamId(id), command);
  if (isDomainError(append)) return append;
  const state = after(portDecider, loaded, append).state;
  return state.status === 'live' ? { append, port: state.resource } : domainError('PortNotFound', `Port ${id} could not be found.`);
}

export async function planDeletePort(
  s: Services,
  tx: Tx,
  actor: Principal,
  id: string,
  expectedRevision: number | undefined,
  now: string,
  byOwner = false,
) {
  const loaded = await loadOwnPort(s, tx, actor, id);
  if (!loaded) return domainError('PortNotFound', `Port ${id} could not be found.`);
  return decideAppend(portDecider, loaded, portStreamId(id), {
    type: 'DeletePort',
    id,
    now,
    byOwner,
    ...(expectedRevision !== undefined ? { expectedRevision } : {}),
  });
}

export type { Network };

export function createPort(s: Services, actor: Principal, input: PortInput, metadata: EventMetadata) {
  return s.runtime.execute(metadata, async (tx) => {
    const now = new Date().toISOString();
    const hook = input.securityGroups === undefined && !isNetworkOwned(input.deviceOwner ?? '') ? s.hooks.defaultSecurityGroup : null;
    // The default group's read and the port's own go down the connection together: one round trip.
    const [group, read] = await Promise.all([hook ? hook(s, tx, actor.projectId, now) : null, createPortFacts(s, tx, actor, input, {})]);
    if (isDomainError(group)) return group;
    const planned = await planCreatePort(s, tx, actor, group ? { ...input, defaultSecurityGroupId: group.id } : input, now, {}, read);
    return isDomainError(planned) ? planned : { appends: [...(group?.appends ?? []), planned.append], result: planned.port.id };
  });
}

export function updatePort(
  s: Services,
  actor: Principal,
  id: string,
  changes: Omit<PortInput, 'networkId' | 'id'>,
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  return s.runtime.execute(metadata, async (tx) => {
    const now = new Date().toISOString();
    const planned = await planUpdatePort(s, tx, actor, id, changes, expectedRevision, now);
    if (isDomainError(planned)) return planned;
    const appends = [planned.append];
    const change = planned.append.events.find((e) => e.type === 'FixedIpsChanged')?.data as FixedIpChange | undefined;
    if (change && change.released.length > 0) {
      for (const hook of s.hooks.portFixedIpsReleased) {
        const more = await hook(s, tx, planned.port, change, now);
        if (isDomainError(more)) return more;
        appends.push(...more);
      }
    }
    return { appends, result: id };
  });
}

export function deletePort(s: Services, actor: Principal, id: string, expectedRevision: number | undefined, metadata: EventMetadata) {
  return s.runtime.execute(metadata, async (tx) => {
    const now = new Date().toISOString();
    const loaded = await loadOwnPort(s, tx, actor, id);
    const planned = await planDeletePort(s, tx, actor, id, expectedRevision, now);
    if (isDomainError(planned)) return planned;
    const appends = [planned];
    if (loaded?.state.status === 'live') {
      for (const hook of s.hooks.portDelete) {
        const more = await hook(s, tx, loaded.state.resource, now);
        if (isDomainError(more)) return more;
        appends.push(...more);
      }
    }
    return { appends, result: id };
  });
}
