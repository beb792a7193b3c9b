import { describe, expect, it } from 'vitest';
import { diffDvrRouter, type DvrRouterObservation } from '../../src/agent/drivers/dvr-router.js';
import { diffDvr } from '../../src/agent/drivers/dvr.js';
import { diffNamespace } from '../../src/agent/drivers/links.js';
import { planDvrPorts } from '../../src/agent/dvr-scheduler.js';
import { planBindings } from '../../src/agent/scheduler.js';
import { compileHostState, hostStateUnits, type Topology, type TopologyPort } from '../../src/projections/desired-state/index.js';
import { DVR_DEVICE_GROUP } from '../../src/projections/desired-state/dvr.js';
import { routerPortName } from '../../src/projections/desired-state/names.js';
import { fipDoc, portDoc, rec, routerDoc } from '../dataplane/docs.js';

const opts = { namespacePrefix: 'nlu-', hostNamespace: 'nlu-host', stateDir: '/var/lib/nlu' };
const NET_A = '00000000-0000-4000-8000-00000000000a';
const NET_B = '00000000-0000-4000-8000-00000000000b';
const SUB_A = '00000000-0000-4000-8000-0000000000a1';
const SUB_B = '00000000-0000-4000-8000-0000000000b1';
const ROUTER = '00000000-0000-4000-8000-0000000000ff';
const MAC = { c1: 'fa:16:3f:00:00:01', c2: 'fa:16:3f:00:00:02', nn: 'fa:16:3f:00:00:03' };

function port(id: string, networkId: string, subnetId: string, ip: string, deviceOwner: string, bindingHost: string | null): TopologyPort {
  return {
    id,
    networkId,
    macAddress: `fa:16:3e:00:00:${id.slice(-2)}`,
    fixedIps: [{ subnetId, ipAddress: ip }],
    deviceOwner,
    deviceId: '',
    bindingHost,
    adminStateUp: true,
  };
}

function topology(distributed: boolean): Topology {
  const net = (id: string, sub: string, cidr: string, gw: string) => ({
    id,
    mtu: 1450,
    external: false,
    segment: { networkType: 'vxlan' as const, physicalNetwork: null, segmentationId: id === NET_A ? 101 : 102 },
    subnets: [
      { id: sub, ipVersion: 4 as const, cidr, gatewayIp: gw, enableDhcp: false, dnsNameservers: [], hostRoutes: [], allocationPools: [] },
    ],
  });
  return {
    networks: [net(NET_A, SUB_A, '10.1.0.0/24', '10.1.0.1'), net(NET_B, SUB_B, '10.2.0.0/24', '10.2.0.1')],
    ports: [
      port('00000000-0000-4000-8000-0000000001a1', NET_A, SUB_A, '10.1.0.1', 'network:router_interface', null),
      port('00000000-0000-4000-8000-0000000001b1', NET_B, SUB_B, '10.2.0.1', 'network:router_interface', null),
      port('00000000-0000-4000-8000-0000000002a5', NET_A, SUB_A, '10.1.0.5', 'compute:nova', 'c1'),
      port('00000000-0000-4000-8000-0000000002b5', NET_B, SUB_B, '10.2.0.5', 'compute:nova', 'c2'),
    ],
    routers: [
      {
        id: ROUTER,
        adminStateUp: true,
        interfacePortIds: ['00000000-0000-4000-8000-0000000001a1', '00000000-0000-4000-8000-0000000001b1'],
        gateway: null,
        routes: [],
        distributed,
      },
    ],
    floatingIps: [],
    vteps: [
      { host: 'c1', address: '192.168.0.1' },
      { host: 'c2', address: '192.168.0.2' },
      { host: 'nn', address: '192.168.0.3' },
    ],
    dvrHosts: [
      { host: 'c1', agentMode: 'dvr', dvrHostMac: MAC.c1 },
      { host: 'c2', agentMode: 'dvr', dvrHostMac: MAC.c2 },
      { host: 'nn', agentMode: 'dvr_snat', dvrHostMac: MAC.nn },
    ],
  };
}

describe('distributed routers (DVR)', () => {
  it('builds the whole router, same addresses and MACs, on every compute host with an instance on its networks, and nothing elsewhere', () => {
    const t = topology(true);
    const c1 = compileHostState(t, 'c1', { ...opts, agentMode: 'dvr', underlayAddress: '192.168.0.1' });
    const c2 = compileHostState(t, 'c2', { ...opts, agentMode: 'dvr', underlayAddress: '192.168.0.2' });
    const nn = compileHostState(t, 'nn', { ...opts, agentMode: 'dvr_snat', underlayAddress: '192.168.0.3' });
    expect(c1.routers.map((r) => r.namespace)).toEqual(c2.routers.map((r) => r.namespace));
    const ns = c1.routers[0]!.namespace;
    expect(ns.name).toBe(`nlu-qrouter-${ROUTER}`);
    expect(ns.interfaces.map((i) => [i.name, i.addresses, i.mac])).toEqual([
      [routerPortName('00000000-0000-4000-8000-0000000001a1'), ['10.1.0.1/24'], 'fa:16:3e:00:00:a1'],
      [routerPortName('00000000-0000-4000-8000-0000000001b1'), ['10.2.0.1/24'], 'fa:16:3e:00:00:b1'],
    ]);
    expect(c1.routers[0]!.nat).toBe(null);
    // Both networks' bridges (and tunnels) on each compute host; nothing at all on the network node.
    expect(c1.networks.map((n) => n.networkId)).toEqual([NET_A, NET_B]);
    expect(nn).toMatchObject({ routers: [], networks: [] });
    // The router's ports are on no host: no tunnel names them, only the instances.
    expect(c1.networks.find((n) => n.networkId === NET_B)?.overlay?.fdb).toEqual([{ mac: 'fa:16:3e:00:00:b5', dst: '192.168.0.2' }]);
  });

  it("rewrites to the host DVR MAC what a distributed router's interfaces send off the host, routers or not", () => {
    const c1 = compileHostState(topology(true), 'c1', { ...opts, agentMode: 'dvr', underlayAddress: '192.168.0.1' });
    expect(c1.dvr).toMatchObject({ table: 'netledger-dvr', hostMac: MAC.c1, group: DVR_DEVICE_GROUP });
    expect(c1.dvr?.ruleset).toContain(`iifgroup ${DVR_DEVICE_GROUP} oifname != "tap*" ether saddr set ${MAC.c1}`);
    expect(hostStateUnits(c1).get('host')).toMatchObject({ dvr: { hostMac: MAC.c1 } });
    // The interfaces' host ends carry the group the rule matches; nothing else does.
    expect(c1.routers[0]!.namespace.interfaces.map((i) => i.group)).toEqual([DVR_DEVICE_GROUP, DVR_DEVICE_GROUP]);
    // Created in it (a frame sent before a later `group` would escape the rule) and put back in it when found outside.
    const ns = c1.routers[0]!.namespace;
    const absent = { exists: false, broken: false, links: new Map(), routes: [], sysctls: new Map(), nft: null };
    const created = diffNamespace(ns, { ...absent, name: ns.name }, { ...absent, name: 'nlu-host', exists: true }, 'nlu-host');
    const adds = created.flatMap((a) => (a.kind === 'ip' && a.line.startsWith('link add') ? [a.line] : []));
    expect(adds).toEqual(
      ns.interfaces.map((i) => expect.stringContaining(`link add ${i.peer} mtu ${i.mtu} group ${DVR_DEVICE_GROUP} type veth`)),
    );
    const link = (name: string, ifindex: number, peer: number, group: number) => ({
      name,
      ifindex,
      kind: 'veth',
      mac: '',
      mtu: 1450,
      up: true,
      master: null,
      linkIndex: peer,
      group,
      addresses: [],
    });
    // (The fixture's two interfaces share a name prefix, so one of them.)
    const v = ns.interfaces[0]!;
    const one = { ...ns, interfaces: [v] };
    const qr = { ...link(v.name, 10, 100, 0), mac: v.mac, mtu: v.mtu, addresses: v.addresses };
    const tap = { ...link(v.peer, 100, 10, 0), master: v.bridge, mtu: v.mtu };
    const observed = (t: typeof tap) =>
      diffNamespace(
        one,
        {
          ...absent,
          name: ns.name,
          exists: true,
          links: new Map([
            [v.name, qr],
            ['lo', link('lo', 1, 0, 0)],
          ]),
        },
        { ...absent, name: 'nlu-host', exists: true, links: new Map([[v.peer, t]]) },
        'nlu-host',
      ).filter((a) => a.kind === 'ip' && a.line.startsWith('link'));
    expect(observed(tap)).toEqual([expect.objectContaining({ line: `link set ${v.peer} group ${DVR_DEVICE_GROUP}` })]);
    expect(observed({ ...tap, group: DVR_DEVICE_GROUP })).toEqual([]);
    // The rule does not follow the routers: a dvr host that routes none keeps it, the same.
    const nn = compileHostState(topology(true), 'nn', { ...opts, agentMode: 'dvr_snat', underlayAddress: '192.168.0.3' });
    expect(nn.routers).toEqual([]);
    expect(nn.dvr?.ruleset).toContain(`iifgroup ${DVR_DEVICE_GROUP} oifname != "tap*" ether saddr set ${MAC.nn}`);
  });

  it('loads the table only beside its anchor bridge, and reloads it when the anchor was missing', () => {
    const want = compileHostState(topology(true), 'c1', { ...opts, agentMode: 'dvr', underlayAddress: '192.168.0.1' }).dvr!;
    const loaded = new Map(want.chains.map((c) => [c.name, { hook: c.hook, policy: 'accept', ruleIds: c.rules.map((r) => r.id) }]));
    expect(diffDvr(want, { chains: loaded, anchor: true })).toEqual([]);
    // A table found without the anchor may have been loaded before the namespace had a bridge: inert.
    expect(diffDvr(want, { chains: loaded, anchor: false })).toEqual([{ kind: 'replace', ruleset: want.ruleset, addAnchor: true }]);
    expect(diffDvr(want, { chains: null, anchor: true })).toEqual([{ kind: 'replace', ruleset: want.ruleset, addAnchor: false }]);
    expect(diffDvr(null, { chains: loaded, anchor: true })).toEqual([{ kind: 'delete-table', deleteAnchor: true }]);
    expect(diffDvr(null, { chains: null, anchor: false })).toEqual([]);
  });

  it('is not built by a legacy agent, and a legacy router is unchanged', () => {
    const t = topology(true);
    expect(compileHostState(t, 'c1', { ...opts, agentMode: 'legacy' }).routers).toEqual([]);
    const legacy = topology(false);
    expect(compileHostState(legacy, 'c1', { ...opts, agentMode: 'dvr' }).routers).toEqual([]);
    expect(compileHostState(t, 'c1', { ...opts, agentMode: 'legacy' }).dvr).toBeUndefined();
  });

  it('ignores the binding a converted router interface port kept from its legacy days', () => {
    const t = topology(true);
    const stale: Topology = {
      ...t,
      ports: t.ports.map((p) => (p.deviceOwner === 'network:router_interface' ? { ...p, bindingHost: 'nn' } : p)),
    };
    for (const host of ['c1', 'c2', 'nn'] as const) {
      const o = {
        ...opts,
        agentMode: host === 'nn' ? ('dvr_snat' as const) : ('dvr' as const),
        underlayAddress: `192.168.0.${host === 'c1' ? 1 : host === 'c2' ? 2 : 3}`,
      };
      expect(compileHostState(stale, host, o)).toEqual(compileHostState(t, host, o));
    }
  });

  it('never binds a distributed router interface port', () => {
    const ri = portDoc(NET_A, 'network:router_interface');
    const router = routerDoc({
      distributed: true,
      interfaces: [{ portId: ri.id, subnetId: SUB_A, networkId: NET_A, ip: '10.1.0.1', cidr: '10.1.0.0/24' }],
    });
    expect(planBindings([rec(ri)], [rec(router)], ['c1', 'c2'])).toEqual([]);
  });

  describe('north-south', () => {
    const EXT = '00000000-0000-4000-8000-0000000000e0';
    const EXT_SUB = '00000000-0000-4000-8000-0000000000e1';
    const GW = '00000000-0000-4000-8000-0000000003e0';
    const SG_A = '00000000-0000-4000-8000-0000000003a9';
    const SG_B = '00000000-0000-4000-8000-0000000003b9';
    const FG = '00000000-0000-4000-8000-0000000003c1';
    const VM_A = '00000000-0000-4000-8000-0000000002a5';
    const northSouth = (): Topology => {
      const t = topology(true);
      const sg = (id: string, net: string, sub: string, ip: string) => ({
        ...port(id, net, sub, ip, 'network:router_centralized_snat', 'nn'),
        deviceId: ROUTER,
      });
      return {
        ...t,
        networks: [
          ...t.networks,
          {
            id: EXT,
            mtu: 1500,
            external: true,
            segment: { networkType: 'flat', physicalNetwork: 'extnet', segmentationId: null },
            subnets: [
              {
                id: EXT_SUB,
                ipVersion: 4,
                cidr: '203.0.113.0/24',
                gatewayIp: '203.0.113.1',
                enableDhcp: false,
                dnsNameservers: [],
                hostRoutes: [],
                allocationPools: [],
              },
            ],
          },
        ],
        ports: [
          ...t.ports,
          port(GW, EXT, EXT_SUB, '203.0.113.10', 'network:router_gateway', 'nn'),
          sg(SG_A, NET_A, SUB_A, '10.1.0.9'),
          sg(SG_B, NET_B, SUB_B, '10.2.0.9'),
          port(FG, EXT, EXT_SUB, '203.0.113.11', 'network:floatingip_agent_gateway', 'c1'),
        ],
        routers: t.routers.map((r) => ({ ...r, gateway: { portId: GW, networkId: EXT, enableSnat: true } })),
        floatingIps: [
          {
            id: 'f1',
            floatingIpAddress: '203.0.113.20',
            floatingNetworkId: EXT,
            fixedIpAddress: '10.1.0.5',
            portId: VM_A,
            routerId: ROUTER,
          },
        ],
      };
    };
    const compile = (host: 'c1' | 'c2' | 'nn') =>
      compileHostState(northSouth(), host, {
        ...opts,
        agentMode: host === 'nn' ? 'dvr_snat' : 'dvr',
        physicalInterfaces: { extnet: 'ex0' },
      });

    it('builds snat-<router> where the gateway port is bound: qg-, one sg- per subnet, the gateway SNAT', () => {
      const nn = compile('nn');
      expect(nn.routers).toEqual([]);
      expect(nn.snats?.map((u) => u.key)).toEqual([`snat:${ROUTER}`]);
      const snat = nn.snats![0]!;
      expect(snat.namespace.name).toBe(`nlu-snat-${ROUTER}`);
      expect(snat.namespace.interfaces.map((i) => [i.name.slice(0, 3), i.addresses])).toEqual([
        ['qg-', ['203.0.113.10/24']],
        ['sg-', ['10.1.0.9/24']],
        ['sg-', ['10.2.0.9/24']],
      ]);
      expect(snat.namespace.routes).toContainEqual({
        destination: 'default',
        nexthops: [{ via: '203.0.113.1', dev: snat.nat!.gatewayDevice }],
      });
      expect(snat.nat!.ruleset).toContain(`snat to 203.0.113.10`);
      expect(hostStateUnits(nn).get(`snat:${ROUTER}`)).toMatchObject({ kind: 'snat' });
      // The network node plugs the sg- ports into both tenant networks and qg- into the external one.
      expect(nn.networks.map((n) => n.networkId)).toEqual([NET_A, NET_B, EXT].sort());
    });

    it('sends each subnet to its sg- port, and a floating IP through the host’s fip namespace', () => {
      const c1 = compile('c1');
      const dvr = c1.routers[0]!.dvr!;
      const qrA = routerPortName('00000000-0000-4000-8000-0000000001a1');
      expect(dvr.rules).toEqual([
        { priority: 32768, from: '10.1.0.5/32', table: 16 },
        { priority: 167837697, from: '10.1.0.0/24', table: 167837697 },
        { priority: 167903233, from: '10.2.0.0/24', table: 167903233 },
      ]);
      expect(dvr.tables[0]).toMatchObject({ table: 16, dev: `rfp-${ROUTER}`.slice(0, 14) });
      expect(dvr.tables[1]).toEqual({ table: 167837697, via: '10.1.0.9', dev: qrA });
      expect(dvr.fipLink).toMatchObject({ fipNamespace: `nlu-fip-${EXT}`, fipRoutes: ['203.0.113.20/32'] });
      expect(dvr.fipLink!.rfpAddress).toMatch(/^169\.254\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.\d+\/31$/);
      expect(c1.routers[0]!.nat!.ruleset).toContain(`iifname "${dvr.fipLink!.rfp}" ip daddr 203.0.113.20 dnat to 10.1.0.5`);
      expect(c1.fips?.map((f) => [f.key, f.namespace.interfaces.map((i) => i.addresses)])).toEqual([[`fip:${EXT}`, [['203.0.113.11/24']]]]);
      expect(c1.fips![0]!.namespace.sysctls).toContainEqual({ key: `net.ipv4.conf.fg-${FG}`.slice(0, 14 + 14) + '.proxy_arp', value: '1' });
      // Compute host 2 has no floating IP: SNAT redirects only, no fip namespace.
      const c2 = compile('c2');
      expect(c2.routers[0]!.dvr!.fipLink).toBe(null);
      expect(c2.routers[0]!.nat).toBe(null);
      expect(c2.fips).toBeUndefined();
      expect(c2.snats).toBeUndefined();
    });

    it("answers a floating IP on a VXLAN external network with the fg- port of its instance's host", () => {
      const t = northSouth();
      const vxlanExt: Topology = {
        ...t,
        networks: t.networks.map((n) =>
          n.id === EXT ? { ...n, segment: { networkType: 'vxlan', physicalNetwork: null, segmentationId: 300 } } : n,
        ),
      };
      const nn = compileHostState(vxlanExt, 'nn', { ...opts, agentMode: 'dvr_snat', underlayAddress: '192.168.0.3' });
      const overlay = nn.networks.find((n) => n.networkId === EXT)?.overlay;
      expect(overlay?.neighbours).toContainEqual({ ip: '203.0.113.20', mac: `fa:16:3e:00:00:${FG.slice(-2)}` });
      expect(overlay?.fdb).toContainEqual({ mac: `fa:16:3e:00:00:${FG.slice(-2)}`, dst: '192.168.0.1' });
    });

    it('diffs the policy routing and the rfp-/fpr- pair, and converges to nothing', () => {
      const spec = compile('c1').routers[0]!.dvr!;
      const link = spec.fipLink!;
      const empty: DvrRouterObservation = { namespace: 'q', exists: true, rules: [], tables: [], rfp: new Map(), fipNamespaces: new Map() };
      const fresh = diffDvrRouter(spec, empty).map((a) => a.line);
      expect(fresh).toContain(`link add ${link.rfp} type veth peer name ${link.fpr} netns ${link.fipNamespace}`);
      expect(fresh).toContain(`rule add priority 32768 from 10.1.0.5/32 table 16`);
      const via = link.rfpAddress.split('/')[0]!;
      const done: DvrRouterObservation = {
        ...empty,
        rules: spec.rules,
        tables: spec.tables,
        rfp: new Map([
          [
            link.rfp,
            {
              name: link.rfp,
              ifindex: 5,
              kind: 'veth',
              mac: '',
              mtu: 1500,
              up: true,
              master: null,
              linkIndex: 9,
              group: 0,
              addresses: [link.rfpAddress],
            },
          ],
        ]),
        fipNamespaces: new Map([
          [
            link.fipNamespace,
            {
              links: new Map([[link.fpr, { kind: 'veth', up: true, addresses: [link.fprAddress] }]]),
              routes: [{ destination: '203.0.113.20/32', via, dev: link.fpr }],
            },
          ],
        ]),
      };
      expect(diffDvrRouter(spec, done)).toEqual([]);
      // Without its floating IP the router drops the pair and the FIP rule, and keeps the SNAT redirects.
      const gone = diffDvrRouter(compile('c2').routers[0]!.dvr!, done).map((a) => a.line);
      expect(gone).toEqual([`link del ${link.rfp}`, 'route del default table 16', 'rule del priority 32768 from 10.1.0.5/32 table 16']);
    });

    it('plans the sg- ports with the gateway binding, each host its own fg- port, and SNAT on dvr_snat hosts only', () => {
      const ext = portDoc(EXT, 'network:router_gateway', { bindingHost: 'nn' });
      const vm = portDoc(NET_A, 'compute:nova', { bindingHost: 'c1' });
      const router = routerDoc({
        distributed: true,
        gateway: { networkId: EXT, portId: ext.id, enableSnat: true, externalFixedIps: [] },
        interfaces: [{ portId: 'x', subnetId: SUB_A, networkId: NET_A, ip: '10.1.0.1', cidr: '10.1.0.0/24' }],
      });
      const fip = fipDoc(EXT, '203.0.113.20', { association: { portId: vm.id, fixedIpAddress: '10.1.0.5', routerId: router.id } });
      const plan = planDvrPorts('c1', 'dvr', [rec(ext), rec(vm)], [rec(router)], [rec(fip)]);
      expect(plan.snatPorts.map((p) => [p.subnet.id, p.host])).toEqual([[SUB_A, 'nn']]);
      expect(plan.addFipGateways).toEqual([EXT]);
      expect(planDvrPorts('c2', 'dvr', [rec(ext), rec(vm)], [rec(router)], [rec(fip)]).addFipGateways).toEqual([]);
      const stale = portDoc(EXT, 'network:floatingip_agent_gateway', { bindingHost: 'c2' });
      expect(planDvrPorts('c2', 'dvr', [rec(ext), rec(vm), rec(stale)], [rec(router)], []).deleteFipGateways).toEqual([stale.id]);

      const unbound = { ...ext, bindingHost: '' };
      const sg = portDoc(NET_A, 'network:router_centralized_snat', {
        deviceId: router.id,
        fixedIps: [{ subnetId: SUB_A, ipAddress: '10.1.0.9' }],
      });
      expect(planDvrPorts('c1', 'dvr', [rec(ext), rec(vm), rec(sg)], [rec(router)], []).snatPorts).toEqual([]);
      const bindings = planBindings([rec(unbound), rec(sg)], [rec(router)], ['c1', 'c2', 'nn'], new Set(), ['nn']);
      expect(bindings.map((b) => [b.portId, b.host]).sort()).toEqual(
        [
          [unbound.id, 'nn'],
          [sg.id, 'nn'],
        ].sort(),
      );
      expect(planBindings([rec(unbound), rec(sg)], [rec(router)], ['c1', 'c2'], new Set(), [])).toEqual([]);
    });
  });
});
