import { describe, expect, it } from 'vitest';
import { planBindings } from '../../src/agent/scheduler.js';
import { compileHostState, hostStateUnits, type Topology, type TopologyPort } from '../../src/projections/desired-state/index.js';
import { routerPortName } from '../../src/projections/desired-state/names.js';
import { portDoc, rec, routerDoc } from '../dataplane/docs.js';

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
    expect(nn.dvr).toBeUndefined();
    // The router's ports are on no host: no tunnel names them, only the instances.
    expect(c1.networks.find((n) => n.networkId === NET_B)?.overlay?.fdb).toEqual([{ mac: 'fa:16:3e:00:00:b5', dst: '192.168.0.2' }]);
  });

  it('rewrites the gateway MACs to the host DVR MAC on frames leaving the host', () => {
    const c1 = compileHostState(topology(true), 'c1', { ...opts, agentMode: 'dvr', underlayAddress: '192.168.0.1' });
    expect(c1.dvr).toMatchObject({ table: 'netledger-dvr', hostMac: MAC.c1, routerMacs: ['fa:16:3e:00:00:a1', 'fa:16:3e:00:00:b1'] });
    expect(c1.dvr?.ruleset).toContain(`oifname != "tap*" ether saddr { fa:16:3e:00:00:a1, fa:16:3e:00:00:b1 } ether saddr set ${MAC.c1}`);
    expect(hostStateUnits(c1).get('host')).toMatchObject({ dvr: { hostMac: MAC.c1 } });
  });

  it('is not built by a legacy agent, and a legacy router is unchanged', () => {
    const t = topology(true);
    expect(compileHostState(t, 'c1', { ...opts, agentMode: 'legacy' }).routers).toEqual([]);
    const legacy = topology(false);
    expect(compileHostState(legacy, 'c1', { ...opts, agentMode: 'dvr' }).routers).toEqual([]);
    expect(compileHostState(legacy, 'c1', { ...opts, agentMode: 'dvr' }).dvr).toBeUndefined();
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
});
