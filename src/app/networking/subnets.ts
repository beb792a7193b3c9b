import { randomUUID } from 'node:crypto';
import type { Lifecycle } from '../../domain/common/index.js';
import { domainError, isDomainError } from '../../domain/errors.js';
import { parseCidr } from '../../domain/ipam/index.js';
import { networkDecider, networkStreamId, type Network } from '../../domain/network/index.js';
import { DeviceOwner, isRouterPort, portDecider, portStreamId, type Port } from '../../domain/port/index.js';
import {
  isAutoAddressSubnet,
  subnetDecider,
  subnetFacts,
  subnetStreamId,
  type CreateSubnet,
  type Subnet,
  type UpdateSubnet,
} from '../../domain/subnet/index.js';
import type { EventMetadata } from '../../store/types.js';
import type { PlannedAppend, Tx } from '../command-runtime.js';
import { after, decideAppend, loadAndDecide } from '../plan.js';
import type { Services } from '../services.js';
import { isUuid } from './facts.js';
import { planCreatePort, planUpdatePort } from './ports.js';
import { freeAddressesIn } from './free-addresses.js';
import { isOwnerOrAdmin, platformPrincipal, type Principal } from '../../domain/policy/index.js';

export type SubnetInput = Omit<CreateSubnet, 'type' | 'id' | 'project' | 'now'> & { id?: string };

/** The network's DHCP ports, one per DHCP agent that serves it. */
async function dhcpPortsOf(tx: Tx, networkId: string): Promise<Port[]> {
  const rows = await tx<
    { doc: Port }[]
  >`select doc from rm_resources where kind = 'port' and network_id = ${networkId} and doc->>'deviceOwner' = ${DeviceOwner.dhcp} order by doc->>'deviceId', id`;
  return rows.map((r) => r.doc);
}

/** Neutron names a DHCP port after its agent; ours are numbered, the first as it always was. */
const dhcpDeviceId = (networkId: string, index: number) => (index === 0 ? `dhcp-${networkId}` : `dhcp-${networkId}-${index + 1}`);

/**
 * A subnet is created on the network's stream too (Neutron raises the network revision, and the
 * overlap check needs the network's subnets serialised). A network's first DHCP subnet brings a
 * `network:dhcp` port with the lowest free address (NETLEDGER_DHCP_AGENTS_PER_NETWORK of them,
 * each to be scheduled on its own agent); later DHCP subnets add an address to each.
 */
export function createSubnet(s: Services, actor: Principal, input: SubnetInput, metadata: EventMetadata) {
  return s.runtime.execute(metadata, async (tx) => {
    const id = input.id ?? randomUUID();
    const now = new Date().toISOString();
    if (!isUuid(input.networkId)) return domainError('NetworkNotFound', `Network ${input.networkId} could not be found.`);
    const network = await s.aggregates.load<Lifecycle<Network>>(tx, networkStreamId(input.networkId));
    if (network.state.status === 'live' && !isOwnerOrAdmin(actor, network.state.resource)) {
      return domainError('NetworkNotFound', `Network ${input.networkId} could not be found.`);
    }
    const subnetLoaded = await s.aggregates.load<Lifecycle<Subnet>>(tx, subnetStreamId(id));
    const subnetAppend = decideAppend(subnetDecider, subnetLoaded, subnetStreamId(id), {
      ...input,
      type: 'CreateSubnet',
      id,
      project: actor.projectId,
      now,
    });
    if (isDomainError(subnetAppend)) return subnetAppend;
    if (subnetAppend.events.length === 0) return { appends: [], result: id };
    const subnetState = after(subnetDecider, subnetLoaded, subnetAppend).state;
    if (subnetState.status !== 'live') return domainError('SubnetNotFound', `Subnet ${id} could not be found.`);
    const subnet = subnetState.resource;
    const cidr = parseCidr(subnet.cidr);
    const networkAppend = decideAppend(networkDecider, network, networkStreamId(input.networkId), {
      type: 'AddNetworkSubnet',
      id: input.networkId,
      subnetId: id,
      cidr: isDomainError(cidr) ? subnet.cidr : subnet.cidr,
      project: actor.projectId,
      asAdmin: actor.isAdmin,
      now,
    });
    if (isDomainError(networkAppend)) return networkAppend;
    const appends: PlannedAppend[] = [networkAppend, subnetAppend];
    // The DHCP port holds an address on every DHCP-enabled subnet, IPv6 ones included (3.1).
    if (subnet.enableDhcp) {
      const existing = await dhcpPortsOf(tx, input.networkId);
      const count = existing.length > 0 ? existing.length : s.config.NETLEDGER_DHCP_AGENTS_PER_NETWORK;
      // The port plans read the network's subnets from the read model, which does not hold this
      // subnet until the append; so they are planned after writing it through a savepoint-free
      // path: the runtime appends in order, and we pass the decided subnet along. Several ports
      // planned together would each draw the same lowest free address: they are given theirs.
      const addresses = count > 1 && !isAutoAddressSubnet(subnet) ? await freeAddressesIn(tx, id, subnet, [], count) : ([] as string[]);
      const request = (i: number) => ({ subnetId: id, ...(addresses[i] !== undefined ? { ipAddress: addresses[i] } : {}) });
      for (let i = 0; i < count; i++) {
        const port = existing[i];
        const planned = port
          ? await planUpdatePort(
              s,
              tx,
              platformPrincipal(port.project),
              port.id,
              { fixedIps: [...port.fixedIps.map((f) => ({ subnetId: f.subnetId, ipAddress: f.ipAddress })), request(i)] },
              undefined,
              now,
              { extraSubnet: subnet },
            )
          : await planCreatePort(
              s,
              tx,
              platformPrincipal(network.state.status === 'live' ? network.state.resource.project : actor.projectId),
              {
                networkId: input.networkId,
                deviceOwner: DeviceOwner.dhcp,
                deviceId: dhcpDeviceId(input.networkId, i),
                fixedIps: [request(i)],
              },
              now,
              { extraSubnet: subnet, network: after(networkDecider, network, networkAppend).state },
            );
        if (isDomainError(planned)) return planned;
        appends.push(planned.append);
      }
    }
    // A new SLAAC or DHCPv6-stateless subnet gives every existing port its EUI-64 address there,
    // as Neutron does; the port decider leaves router ports out (they join by add_router_interface).
    if (isAutoAddressSubnet(subnet)) {
      const ports = await tx<{ id: string }[]>`
        select id from rm_resources where kind = 'port' and network_id = ${input.networkId} and doc->>'deviceOwner' <> ${DeviceOwner.dhcp} order by id`;
      for (const { id: portId } of ports) {
        const port = await s.aggregates.load<Lifecycle<Port>>(tx, portStreamId(portId));
        const added = decideAppend(portDecider, port, portStreamId(portId), {
          type: 'AddAutoAddress',
          id: portId,
          now,
          subnet: subnetFacts(subnet),
        });
        if (isDomainError(added)) return added;
        if (added.events.length > 0) appends.push(added);
      }
    }
    return { appends, result: id };
  });
}

async function loadOwnSubnet(s: Services, tx: Tx, actor: Principal, id: string) {
  if (!isUuid(id)) return null;
  const loaded = await s.aggregates.load<Lifecycle<Subnet>>(tx, subnetStreamId(id));
  if (loaded.state.status === 'live' && !isOwnerOrAdmin(actor, loaded.state.resource)) return null;
  return loaded;
}

const notFound = (id: string) => domainError('SubnetNotFound', `Subnet ${id} could not be found.`);

export function updateSubnet(
  s: Services,
  actor: Principal,
  id: string,
  changes: UpdateSubnet['changes'],
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  return s.runtime.execute(metadata, async (tx) => {
    const loaded = await loadOwnSubnet(s, tx, actor, id);
    if (!loaded) return notFound(id);
    let gatewayInUseBy: string | null = null;
    if (loaded.state.status === 'live' && loaded.state.resource.gatewayIp && changes.gatewayIp !== undefined) {
      const [row] = await tx<{ port_id: string }[]>`select a.port_id from rm_ip_allocations a join rm_resources p on p.id = a.port_id
        where a.subnet_id = ${id} and a.ip_address = ${loaded.state.resource.gatewayIp}::inet and p.doc->>'deviceOwner' like 'network:router%'`;
      gatewayInUseBy = row?.port_id ?? null;
    }
    const now = new Date().toISOString();
    const append = decideAppend(subnetDecider, loaded, subnetStreamId(id), {
      type: 'UpdateSubnet',
      id,
      now,
      changes,
      gatewayInUseBy,
      ...(expectedRevision !== undefined ? { expectedRevision } : {}),
    });
    if (isDomainError(append)) return append;
    if (loaded.state.status !== 'live') return { appends: [append], result: id };
    // Neutron raises the network's revision with its subnet's.
    const networkId = loaded.state.resource.networkId;
    const networkAppend = await loadAndDecide(s, tx, networkDecider, networkStreamId(networkId), {
      type: 'NoteSubnetUpdated',
      id: networkId,
      subnetId: id,
      now,
    });
    if (isDomainError(networkAppend)) return networkAppend;
    return { appends: [append, networkAppend], result: id };
  });
}

/**
 * Refused while ports hold addresses from it that someone chose; the DHCP port, and on an
 * auto-address subnet every port but a router's, just lose their address there.
 */
export function deleteSubnet(s: Services, actor: Principal, id: string, expectedRevision: number | undefined, metadata: EventMetadata) {
  return s.runtime.execute(metadata, async (tx) => {
    const loaded = await loadOwnSubnet(s, tx, actor, id);
    if (!loaded || loaded.state.status !== 'live') return notFound(id);
    const subnet = loaded.state.resource;
    await tx`select 1 from rm_resources where id = ${id} for update`;
    const holders = await tx<{ port_id: string; owner: string }[]>`
      select distinct a.port_id, p.doc->>'deviceOwner' as owner from rm_ip_allocations a join rm_resources p on p.id = a.port_id where a.subnet_id = ${id}`;
    const now = new Date().toISOString();
    // Addresses nobody chose go with the subnet: the DHCP port's, and on a SLAAC or DHCPv6-stateless
    // subnet every EUI-64 address but a router's (Neutron's ipam delete_subnet).
    const auto = isAutoAddressSubnet(subnet);
    const released = (owner: string) => owner === DeviceOwner.dhcp || (auto && !isRouterPort(owner));
    const append = decideAppend(subnetDecider, loaded, subnetStreamId(id), {
      type: 'DeleteSubnet',
      id,
      now,
      portsWithAddresses: holders.filter((h) => !released(h.owner)).map((h) => h.port_id),
      ...(expectedRevision !== undefined ? { expectedRevision } : {}),
    });
    if (isDomainError(append)) return append;
    const network = await s.aggregates.load<Lifecycle<Network>>(tx, networkStreamId(subnet.networkId));
    const appends: PlannedAppend[] = [append];
    const networkAppend = decideAppend(networkDecider, network, networkStreamId(subnet.networkId), {
      type: 'RemoveNetworkSubnet',
      id: subnet.networkId,
      subnetId: id,
      now,
    });
    if (isDomainError(networkAppend)) return networkAppend;
    appends.push(networkAppend);
    for (const h of holders.filter((x) => released(x.owner))) {
      const port = await s.aggregates.load<Lifecycle<Port>>(tx, portStreamId(h.port_id));
      const release = decideAppend(portDecider, port, portStreamId(h.port_id), {
        type: 'ReleaseSubnetAddresses',
        id: h.port_id,
        now,
        subnetId: id,
      });
      if (isDomainError(release)) return release;
      appends.push(release);
    }
    return { appends, result: id };
  });
}
