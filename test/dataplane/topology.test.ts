import { describe, expect, it } from 'vitest';
import { coreTopology, mergeFragments, registerTopologyPart, topologyParts } from '../../src/projections/topology/index.js';
import { compileHostState } from '../../src/projections/desired-state/index.js';
import { fipDoc, networkDoc, portDoc, routerDoc, subnetDoc } from './docs.js';

describe('topology from read-model documents', () => {
  it('maps networks, subnets, ports, routers and floating IPs to what the compiler reads', () => {
    const subnetId = '00000000-0000-4000-8000-000000000001';
    const net = networkDoc([{ id: subnetId, cidr: '10.0.0.0/24' }]);
    const subnet = { ...subnetDoc(net.id, '10.0.0.0/24'), id: subnetId, hostRoutes: [{ destination: '10.9.0.0/16', nexthop: '10.0.0.9' }] };
    const ext = networkDoc([], { external: true });
    const dhcp = portDoc(net.id, 'network:dhcp', { fixedIps: [{ subnetId, ipAddress: '10.0.0.2' }], bindingHost: 'h1' });
    const vm = portDoc(net.id, 'compute:nova', { fixedIps: [{ subnetId, ipAddress: '10.0.0.5' }] });
    const fipPort = portDoc(ext.id, 'network:floatingip');
    const gw = portDoc(ext.id, 'network:router_gateway');
    const ri = portDoc(net.id, 'network:router_interface');
    const router = routerDoc({
      gateway: { networkId: ext.id, portId: gw.id, enableSnat: true, externalFixedIps: [] },
      // An IPv6 port may appear once per subnet: the topology names it once.
      interfaces: [
        { portId: ri.id, subnetId, networkId: net.id, ip: '10.0.0.1', cidr: '10.0.0.0/24' },
        { portId: ri.id, subnetId: '00000000-0000-4000-8000-000000000002', networkId: net.id, ip: 'fd00::1', cidr: 'fd00::/64' },
      ],
      routes: [{ destination: '192.168.0.0/16', nexthop: '10.0.0.254' }],
    });
    const fip = fipDoc(ext.id, '203.0.113.20', { association: { portId: vm.id, fixedIpAddress: '10.0.0.5', routerId: router.id } });
    const t = coreTopology({
      networks: [net, ext],
      subnets: [subnet],
      ports: [dhcp, vm, fipPort, gw, ri],
      routers: [router],
      floatingIps: [fip, fipDoc(ext.id, '203.0.113.21')],
    });

    expect(t.networks[0]).toEqual({
      id: net.id,
      mtu: 1450,
      external: false,
      segment: { networkType: 'vxlan', physicalNetwork: null, segmentationId: 7 },
      subnets: [
        {
          id: subnetId,
          ipVersion: 4,
          cidr: '10.0.0.0/24',
          gatewayIp: '10.0.0.1',
          enableDhcp: true,
          dnsNameservers: [],
          hostRoutes: [{ destination: '10.9.0.0/16', nexthop: '10.0.0.9' }],
          allocationPools: [{ start: '10.0.0.2', end: '10.0.0.254' }],
          ipv6RaMode: null,
          ipv6AddressMode: null,
        },
      ],
    });
    expect(t.ports.map((p) => p.id)).toEqual([dhcp.id, vm.id, gw.id, ri.id]); // no floating IP port
    expect(t.ports[0]).toMatchObject({ bindingHost: 'h1', deviceOwner: 'network:dhcp' });
    expect(t.ports[1]?.bindingHost).toBeNull();
    // What port filtering needs travels with the port; the groups' rules are another part's.
    expect(t.ports[1]).toMatchObject({ portSecurityEnabled: false, securityGroups: [], allowedAddressPairs: [] });
    expect(t.routers).toEqual([
      {
        id: router.id,
        adminStateUp: true,
        interfacePortIds: [ri.id],
        gateway: { portId: gw.id, networkId: ext.id, enableSnat: true },
        routes: [{ destination: '192.168.0.0/16', nexthop: '10.0.0.254' }],
      },
    ]);
    expect(t.floatingIps).toEqual([
      {
        id: fip.id,
        floatingIpAddress: '203.0.113.20',
        floatingNetworkId: ext.id,
        fixedIpAddress: '10.0.0.5',
        portId: vm.id,
        routerId: router.id,
      },
      expect.objectContaining({ floatingIpAddress: '203.0.113.21', fixedIpAddress: null, portId: null, routerId: null }),
    ]);
    // And it compiles: the DHCP server lands where its port is bound.
    const state = compileHostState(t, 'h1', { namespacePrefix: 'x-', hostNamespace: 'x-host', stateDir: '/tmp/x' });
    expect(state.networks.map((n) => [n.networkId, n.dhcp !== null])).toEqual([[net.id, true]]);
  });

  it('merges the parts list by list, and other modules can add parts', () => {
    const a = {
      networks: [networkDoc([])].map((n) => ({
        id: n.id,
        mtu: 1500,
        external: false,
        segment: { networkType: 'flat' as const, physicalNetwork: 'p', segmentationId: null },
        subnets: [],
      })),
    };
    const merged = mergeFragments([a, { ports: [] }, { networks: a.networks }]);
    expect(merged.networks).toHaveLength(2);
    expect(merged.routers).toEqual([]);
    expect(topologyParts().map(([name]) => name)).toContain('core');
    registerTopologyPart('test-extra', async () => ({ floatingIps: [] }));
    expect(topologyParts().map(([name]) => name)).toContain('test-extra');
  });
});
