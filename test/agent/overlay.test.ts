import { describe, expect, it } from 'vitest';
import { overlayDriver, parseOverlay, type OverlayObservation } from '../../src/agent/drivers/overlay.js';
import { uplinkDriver } from '../../src/agent/drivers/uplink.js';
import { agentConfig } from '../../src/agent/config.js';
import { CommandRunner } from '../../src/agent/exec.js';
import { silentLogger } from '../../src/agent/logger.js';
import {
  compileHostState,
  hostStateUnits,
  type OverlaySpec,
  type Topology,
  type TopologyNetwork,
} from '../../src/projections/desired-state/index.js';
import { network, port } from './fixtures.js';

const opts = { namespacePrefix: 'nlu-', hostNamespace: 'nlu-host', stateDir: '/var/lib/nlu' };
const ctx = { config: agentConfig(opts), exec: new CommandRunner(), logger: silentLogger };
const VTEPS = [
  { host: 'h1', address: '192.168.100.1' },
  { host: 'h2', address: '192.168.100.2' },
  { host: 'h3', address: '192.168.100.3' },
];

function vxlan(vni: number, cidr: string): TopologyNetwork {
  const n = network({ cidr, gateway: cidr.replace(/0\/24$/, '1'), dhcp: true });
  return { ...n, mtu: 1450, segment: { networkType: 'vxlan', physicalNetwork: null, segmentationId: vni } };
}

// Network A: ports on h1 (vm), h2 (vm, DHCP). Network B: ports on h2 and h3 only.
const a = vxlan(1001, '10.1.0.0/24');
const b = vxlan(1002, '10.2.0.0/24');
const vmA1 = port(a, '10.1.0.11', 'compute:nova', { host: 'h1' });
const vmA2 = port(a, '10.1.0.12', 'compute:nova', { host: 'h2' });
const dhcpA = port(a, '10.1.0.2', 'network:dhcp', { host: 'h2' });
const vmB2 = port(b, '10.2.0.12', 'compute:nova', { host: 'h2' });
const vmB3 = port(b, '10.2.0.13', 'compute:nova', { host: 'h3' });
const topology: Topology = { networks: [a, b], ports: [vmA1, vmA2, dhcpA, vmB2, vmB3], routers: [], floatingIps: [], vteps: VTEPS };

const compile = (host: string, underlay: string | null, t: Topology = topology) =>
  compileHostState(t, host, { ...opts, underlayAddress: underlay });

/** The kernel state a perfect apply of `spec` leaves, as parseOverlay would read it. */
function converged(spec: OverlaySpec, bridge: string): OverlayObservation {
  return {
    devices: new Map([
      [
        spec.device,
        {
          name: spec.device,
          vni: spec.vni,
          local: spec.local,
          port: 4789,
          learning: false,
          proxy: true,
          master: bridge,
          mtu: spec.mtu,
          up: true,
        },
      ],
    ]),
    fdb: new Map([[spec.device, [...spec.flood.map((dst) => ({ mac: '00:00:00:00:00:00', dst })), ...spec.fdb]]]),
    neighbours: new Map([[spec.device, spec.neighbours.map((n) => ({ ...n, permanent: true }))]]),
  };
}

describe('overlay desired state (l2population)', () => {
  it('puts on a host only the networks it has ports of, each with a tunnel to the hosts that have ports too', () => {
    const h1 = compile('h1', '192.168.100.1');
    expect(h1.networks.map((n) => n.networkId)).toEqual([a.id]);
    const overlay = h1.networks[0]?.overlay;
    expect(overlay).toEqual({
      device: 'vxlan-1001',
      vni: 1001,
      local: '192.168.100.1',
      dstPort: 4789,
      mtu: 1450,
      // h3 holds no port of A: nothing floods there.
      flood: ['192.168.100.2'],
      fdb: [
        { mac: dhcpA.macAddress, dst: '192.168.100.2' },
        { mac: vmA2.macAddress, dst: '192.168.100.2' },
      ].sort((x, y) => (x.mac < y.mac ? -1 : 1)),
      neighbours: [
        { ip: '10.1.0.12', mac: vmA2.macAddress },
        { ip: '10.1.0.2', mac: dhcpA.macAddress },
      ].sort((x, y) => (x.ip === '10.1.0.2' ? -1 : y.ip === '10.1.0.2' ? 1 : 0)),
    });
    const h2 = compile('h2', '192.168.100.2');
    expect(h2.networks.map((n) => n.overlay?.flood)).toEqual(
      [a, b].sort((x, y) => (x.id < y.id ? -1 : 1)).map((n) => (n.id === a.id ? ['192.168.100.1'] : ['192.168.100.3'])),
    );
    expect(compile('h4', '192.168.100.4').networks).toEqual([]);
  });

  it('builds no tunnel without an underlay address, for a non-VXLAN network, or towards a host without one', () => {
    expect(compile('h1', null).networks[0]?.overlay).toBeUndefined();
    const flat: TopologyNetwork = { ...a, segment: { networkType: 'flat', physicalNetwork: 'physnet1', segmentationId: null } };
    expect(compile('h1', '192.168.100.1', { ...topology, networks: [flat, b] }).networks[0]?.overlay).toBeUndefined();
    const noH2 = compile('h1', '192.168.100.1', { ...topology, vteps: VTEPS.filter((v) => v.host !== 'h2') });
    expect(noH2.networks[0]?.overlay).toMatchObject({ flood: [], fdb: [], neighbours: [] });
  });

  it('is deterministic whatever the input order', () => {
    const shuffled: Topology = { ...topology, ports: [...topology.ports].reverse(), vteps: [...VTEPS].reverse() };
    expect(JSON.stringify(compile('h2', '192.168.100.2', shuffled))).toBe(JSON.stringify(compile('h2', '192.168.100.2')));
  });
});

describe('overlay driver diff', () => {
  const state = compile('h1', '192.168.100.1');
  const units = hostStateUnits(state);
  const net = state.networks[0]!;
  const spec = net.overlay!;
  const unit = units.get(net.key);

  it('creates the device nolearning with the ARP responder, then its FDB and neighbour entries', () => {
    const lines = overlayDriver.diff(net.key, unit, parseOverlay('[]\n@@FDB\n[]\n@@NEIGH\n[]'), ctx).map((x) => x.line);
    expect(lines).toEqual([
      `link add vxlan-1001 type vxlan id 1001 local 192.168.100.1 dstport 4789 nolearning proxy`,
      `link set vxlan-1001 master ${net.bridge.name} mtu 1450 up`,
      ...['00:00:00:00:00:00', ...spec.fdb.map((e) => e.mac)].map((m) => `fdb append ${m} dev vxlan-1001 dst 192.168.100.2`),
      ...spec.neighbours.map((n) => `neigh replace ${n.ip} lladdr ${n.mac} dev vxlan-1001 nud permanent`),
    ]);
  });

  it('does nothing when converged, and only the difference when a remote port moved or left', () => {
    const observed = converged(spec, net.bridge.name);
    expect(overlayDriver.diff(net.key, unit, observed, ctx)).toEqual([]);
    expect(overlayDriver.diff('host', units.get('host'), observed, ctx)).toEqual([]);
    // vmA2 moved to h3, and the DHCP port is gone.
    const moved = compile('h1', '192.168.100.1', { ...topology, ports: [vmA1, { ...vmA2, bindingHost: 'h3' }, vmB2, vmB3] });
    const lines = overlayDriver
      .diff(net.key, hostStateUnits(moved).get(net.key), observed, ctx)
      .map((x) => x.line)
      .sort();
    expect(lines).toEqual(
      [
        `fdb append 00:00:00:00:00:00 dev vxlan-1001 dst 192.168.100.3`,
        `fdb append ${vmA2.macAddress} dev vxlan-1001 dst 192.168.100.3`,
        `fdb del 00:00:00:00:00:00 dev vxlan-1001 dst 192.168.100.2`,
        `fdb del ${dhcpA.macAddress} dev vxlan-1001 dst 192.168.100.2`,
        `fdb del ${vmA2.macAddress} dev vxlan-1001 dst 192.168.100.2`,
        `neigh del 10.1.0.2 dev vxlan-1001`,
      ].sort(),
    );
  });

  it('replaces a device with the wrong VNI or learning on, and the host key removes tunnels of networks that left', () => {
    const observed = converged(spec, net.bridge.name);
    const learning = { ...observed, devices: new Map([[spec.device, { ...observed.devices.get(spec.device)!, learning: true }]]) };
    expect(
      overlayDriver
        .diff(net.key, unit, learning, ctx)
        .map((x) => x.line)
        .slice(0, 2),
    ).toEqual(['link del vxlan-1001', expect.stringContaining('link add vxlan-1001')]);
    const empty = compileHostState({ ...topology, ports: [] }, 'h1', { ...opts, underlayAddress: '192.168.100.1' });
    expect(overlayDriver.diff('host', hostStateUnits(empty).get('host'), observed, ctx).map((x) => x.line)).toEqual([
      'link del vxlan-1001',
    ]);
  });

  it("reads the kernel: only the device's own FDB entries and its neighbours", () => {
    const o =
      parseOverlay(`[{"ifname":"vxlan-7","flags":["UP"],"mtu":1450,"master":"brq1","linkinfo":{"info_kind":"vxlan","info_data":{"id":7,"local":"192.168.100.1","port":4789,"learning":false,"proxy":true}}}]
@@FDB
[{"mac":"c6:98:64:c3:90:ab","ifname":"vxlan-7","flags":[],"master":"brq1","state":"permanent"},{"mac":"00:00:00:00:00:00","ifname":"vxlan-7","dst":"192.168.100.2","flags":["self"],"state":"permanent"}]
@@NEIGH
[{"dst":"10.0.0.5","dev":"vxlan-7","lladdr":"fa:16:3e:00:00:01","state":["PERMANENT"]},{"dst":"192.168.100.2","dev":"ul0","lladdr":"aa:bb:cc:dd:ee:ff","state":["REACHABLE"]}]`);
    expect(o.devices.get('vxlan-7')).toMatchObject({ vni: 7, learning: false, proxy: true, master: 'brq1', up: true });
    expect(o.fdb.get('vxlan-7')).toEqual([{ mac: '00:00:00:00:00:00', dst: '192.168.100.2' }]);
    expect(o.neighbours.get('vxlan-7')).toEqual([{ ip: '10.0.0.5', mac: 'fa:16:3e:00:00:01', permanent: true }]);
    expect(o.neighbours.has('ul0')).toBe(false);
  });
});

describe('provider uplinks (physical_interface_mappings)', () => {
  const mapped = { ...opts, physicalInterfaces: { physnet1: 'ex0', physnet2: 'averylongname1' } };
  const flat: TopologyNetwork = {
    ...network({ cidr: '203.0.113.0/24', gateway: '203.0.113.1', dhcp: false }),
    segment: { networkType: 'flat', physicalNetwork: 'physnet1', segmentationId: null },
  };
  const vlan: TopologyNetwork = {
    ...network({ cidr: '10.9.0.0/24', gateway: '10.9.0.1', dhcp: false }),
    segment: { networkType: 'vlan', physicalNetwork: 'physnet2', segmentationId: 101 },
  };
  const t: Topology = {
    networks: [flat, vlan],
    ports: [port(flat, '203.0.113.5', 'compute:nova', { host: 'h1' }), port(vlan, '10.9.0.5', 'compute:nova', { host: 'h1' })],
    routers: [],
    floatingIps: [],
  };
  const state = compileHostState(t, 'h1', mapped);
  const ctxMapped = { ...ctx, config: agentConfig(mapped) };
  const link = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    ifindex: 1,
    kind: null,
    mac: '',
    mtu: 1500,
    up: true,
    master: null,
    linkIndex: null,
    group: 0,
    addresses: [],
    ...extra,
  });
  const host = (links: ReturnType<typeof link>[]) => ({
    name: 'nlu-host',
    exists: true,
    broken: false,
    links: new Map(links.map((l) => [l.name, l])),
    routes: [],
    sysctls: new Map(),
    nft: null,
  });

  it("puts the mapped interface in a flat network's bridge, and a <interface>.<id> sub-interface in a VLAN network's", () => {
    const byId = new Map(state.networks.map((n) => [n.networkId, n]));
    expect(byId.get(flat.id)?.uplink).toEqual({ device: 'ex0', parent: 'ex0', vlan: null });
    expect(byId.get(vlan.id)?.uplink).toEqual({ device: 'averylongna.101', parent: 'averylongname1', vlan: 101 });
    expect(compileHostState(t, 'h1', opts).networks.every((n) => n.uplink === undefined)).toBe(true);
  });

  it('diffs: enslave, create the VLAN device, nothing when converged, release what left', () => {
    const units = hostStateUnits(state);
    const f = state.networks.find((n) => n.networkId === flat.id)!;
    const v = state.networks.find((n) => n.networkId === vlan.id)!;
    const bare = host([link('ex0'), link('averylongname1')]);
    expect(uplinkDriver.diff(f.key, units.get(f.key), bare, ctxMapped).map((a) => a.line)).toEqual([
      `link set ex0 master ${f.bridge.name} up`,
    ]);
    expect(uplinkDriver.diff(v.key, units.get(v.key), bare, ctxMapped).map((a) => a.line)).toEqual([
      'link add link averylongname1 name averylongna.101 type vlan id 101',
      `link set averylongna.101 master ${v.bridge.name} up`,
    ]);
    const done = host([
      link('ex0', { master: f.bridge.name }),
      link('averylongname1'),
      link('averylongna.101', { kind: 'vlan', master: v.bridge.name }),
    ]);
    expect(uplinkDriver.diff(f.key, units.get(f.key), done, ctxMapped)).toEqual([]);
    expect(uplinkDriver.diff(v.key, units.get(v.key), done, ctxMapped)).toEqual([]);
    expect(uplinkDriver.diff('host', units.get('host'), done, ctxMapped)).toEqual([]);
    const none = hostStateUnits(compileHostState({ ...t, ports: [] }, 'h1', mapped));
    expect(
      uplinkDriver
        .diff('host', none.get('host'), done, ctxMapped)
        .map((a) => a.line)
        .sort(),
    ).toEqual(['link del averylongna.101', 'link set ex0 nomaster']);
  });
});
