import type { OverlayFdbEntry, OverlayNeighbour, OverlaySpec, UplinkSpec } from './host-state.js';
import { compareIp, compareStrings, normalizeIp } from './ip.js';
import type { NetworkSegment, TopologyNetwork, TopologyPort, TopologyVtep } from './topology.js';
import { DEVICE_NAME_LENGTH } from './names.js';

/** IANA's VXLAN port; the Linux default (8472) predates it and would not meet other VTEPs. */
export const VXLAN_PORT = 4789;

export const vxlanDeviceName = (vni: number): string => `vxlan-${vni}`;

/**
 * The overlay of one VXLAN network on `host`: a tunnel to every other host holding a port of the
 * network, with each remote port's MAC and addresses written in, as Neutron's l2population
 * driver tells the Linux bridge agent (FDB entries plus ARP responder). A host whose agent has
 * no underlay address, or a port on such a host, is out of reach and gets nothing.
 */
export function compileOverlay(
  network: TopologyNetwork,
  ports: readonly TopologyPort[],
  host: string,
  local: string | null,
  vteps: readonly TopologyVtep[],
  mtu: number,
  /** Addresses held by a remote port besides its fixed IPs: floating IPs on their router's gateway port. */
  extraNeighbours: readonly { readonly portId: string; readonly ip: string }[] = [],
): OverlaySpec | undefined {
  const { networkType, segmentationId } = network.segment;
  if (local === null || networkType !== 'vxlan' || segmentationId === null) return undefined;
  const endpointOf = new Map(vteps.map((v) => [v.host, normalizeIp(v.address)]));
  const flood = new Set<string>();
  const fdb: OverlayFdbEntry[] = [];
  const neighbours: OverlayNeighbour[] = [];
  for (const p of ports) {
    if (p.bindingHost === null || p.bindingHost === host) continue;
    const dst = endpointOf.get(p.bindingHost);
    // A second agent configured with our own address would loop our broadcast back to us.
    if (dst === undefined || dst === normalizeIp(local)) continue;
    const mac = p.macAddress.toLowerCase();
    flood.add(dst);
    fdb.push({ mac, dst });
    for (const f of p.fixedIps) neighbours.push({ ip: normalizeIp(f.ipAddress), mac });
    // The ARP responder answers every ARP request on the tunnel: without an entry a floating IP
    // (held on the gateway port, an address of no port of its own there) would never resolve.
    for (const x of extraNeighbours) if (x.portId === p.id) neighbours.push({ ip: normalizeIp(x.ip), mac });
  }
  return {
    device: vxlanDeviceName(segmentationId),
    vni: segmentationId,
    local: normalizeIp(local),
    dstPort: VXLAN_PORT,
    mtu,
    flood: [...flood].sort(compareIp),
    fdb: fdb.sort((a, b) => compareStrings(a.mac, b.mac) || compareIp(a.dst, b.dst)),
    neighbours: neighbours.sort((a, b) => compareIp(a.ip, b.ip) || compareStrings(a.mac, b.mac)),
  };
}

/** Linux bridge's VLAN sub-interface name: the parent shortened so that `<parent>.<id>` fits. */
export function vlanDeviceName(parent: string, vlan: number): string {
  const suffix = `.${vlan}`;
  return `${parent.slice(0, DEVICE_NAME_LENGTH + 1 - suffix.length)}${suffix}`;
}

/** A flat or VLAN network whose physical network this host maps to an interface. */
export function compileUplink(segment: NetworkSegment, physicalInterfaces: Readonly<Record<string, string>>): UplinkSpec | undefined {
  const { networkType, physicalNetwork, segmentationId } = segment;
  if (physicalNetwork === null || !Object.hasOwn(physicalInterfaces, physicalNetwork)) return undefined;
  const parent = physicalInterfaces[physicalNetwork] as string;
  if (networkType === 'flat') return { device: parent, parent, vlan: null };
  if (networkType === 'vlan' && segmentationId !== null)
    return { device: vlanDeviceName(parent, segmentationId), parent, vlan: segmentationId };
  return undefined;
}
