import { describe, expect, it } from 'vitest';
import { eui64Address } from '../../src/domain/ipam/index.js';
import type { Ipv6Mode } from '../../src/domain/subnet/events.js';
import {
  compileHostState,
  type Topology,
  type TopologyNetwork,
  type TopologyPort,
  type TopologySubnet,
} from '../../src/projections/desired-state/index.js';
import { routerPortName } from '../../src/projections/desired-state/names.js';
import { HOST } from './fixtures.js';

const opts = { namespacePrefix: 'nlu-', hostNamespace: 'nlu-host', stateDir: '/var/lib/nlu' };
const ROUTER = '0000000r-0000-4000-8000-000000000001';
const MAC = 'fa:16:3e:00:00:01';

function subnet(
  id: string,
  cidr: string,
  gatewayIp: string | null,
  ra: Ipv6Mode | null,
  address: Ipv6Mode | null,
  dns: string[] = [],
): TopologySubnet {
  return {
    id,
    ipVersion: cidr.includes(':') ? 6 : 4,
    cidr,
    gatewayIp,
    enableDhcp: true,
    dnsNameservers: dns,
    hostRoutes: [],
    allocationPools: [],
    ipv6RaMode: ra,
    ipv6AddressMode: address,
  };
}

function net(id: string, subnets: TopologySubnet[], external = false): TopologyNetwork {
  return { id, mtu: 1450, external, segment: { networkType: 'vxlan', physicalNetwork: null, segmentationId: 7 }, subnets };
}

function port(
  id: string,
  networkId: string,
  deviceOwner: string,
  fixedIps: { subnetId: string; ipAddress: string }[],
  macAddress = MAC,
): TopologyPort {
  return {
    id,
    networkId,
    macAddress,
    fixedIps,
    deviceOwner,
    deviceId: deviceOwner.startsWith('network:router') ? ROUTER : 'd',
    bindingHost: HOST,
    adminStateUp: true,
  };
}

/** One tenant network with one v6 subnet in `mode` (both attributes), a DHCP port, a router with a v6 gateway. */
function topology(ra: Ipv6Mode | null, address: Ipv6Mode | null): Topology {
  const s6 = subnet('s6', '2001:db8:1::/64', '2001:db8:1::1', ra, address, ['2001:db8::53']);
  const e6 = subnet('e6', '2001:db8:ff::/64', '2001:db8:ff::1', null, null);
  const tenant = net('n1', [s6]);
  const ext = net('n2', [e6], true);
  const auto = (address ?? ra) === 'slaac' || (address ?? ra) === 'dhcpv6-stateless';
  return {
    networks: [tenant, ext],
    ports: [
      port('p-dhcp', 'n1', 'network:dhcp', [{ subnetId: 's6', ipAddress: auto ? eui64Address('2001:db8:1::/64', MAC) : '2001:db8:1::2' }]),
      port('p-ri', 'n1', 'network:router_interface', [{ subnetId: 's6', ipAddress: '2001:db8:1::1' }], 'fa:16:3e:00:00:03'),
      port('p-gw', 'n2', 'network:router_gateway', [{ subnetId: 'e6', ipAddress: '2001:db8:ff::10' }]),
      port(
        'p-vm',
        'n1',
        'compute:nova',
        [{ subnetId: 's6', ipAddress: auto ? eui64Address('2001:db8:1::/64', 'fa:16:3e:00:00:02') : '2001:db8:1::3c' }],
        'fa:16:3e:00:00:02',
      ),
    ],
    routers: [
      {
        id: ROUTER,
        adminStateUp: true,
        interfacePortIds: ['p-ri'],
        gateway: { portId: 'p-gw', networkId: 'n2', enableSnat: true },
        routes: [],
      },
    ],
    floatingIps: [],
  };
}

describe('IPv6 compile', () => {
  it('radvd: slaac advertises an autonomous prefix without M or O', () => {
    const radvd = compileHostState(topology('slaac', 'slaac'), HOST, opts).routers[0]?.radvd;
    expect(radvd?.config).toBe(
      [
        `interface ${routerPortName('p-ri')}`,
        '{',
        '   AdvSendAdvert on;',
        '   MinRtrAdvInterval 30;',
        '   MaxRtrAdvInterval 100;',
        '   AdvLinkMTU 1450;',
        '   RDNSS 2001:db8::53 {};',
        '   prefix 2001:db8:1::/64',
        '   {',
        '        AdvOnLink on;',
        '        AdvAutonomous on;',
        '   };',
        '   route fe80::a9fe:a9fe/128 {',
        '   };',
        '};',
        '',
      ].join('\n'),
    );
    expect(radvd?.dir).toBe(`/var/lib/nlu/ra/${ROUTER}`);
    expect(radvd?.args).toEqual([
      '-C',
      `/var/lib/nlu/ra/${ROUTER}/radvd.conf`,
      '-p',
      `/var/lib/nlu/ra/${ROUTER}/radvd.pid`,
      '-m',
      'logfile',
      '-l',
      `/var/lib/nlu/ra/${ROUTER}/radvd.log`,
    ]);
  });

  it('radvd: stateful sets M and turns autonomy off, stateless sets O and keeps it, no RA mode means no radvd', () => {
    const stateful = compileHostState(topology('dhcpv6-stateful', 'dhcpv6-stateful'), HOST, opts).routers[0]?.radvd?.config ?? '';
    expect(stateful).toContain('AdvManagedFlag on;');
    expect(stateful).not.toContain('AdvOtherConfigFlag');
    expect(stateful).toContain('AdvAutonomous off;');
    const stateless = compileHostState(topology('dhcpv6-stateless', 'dhcpv6-stateless'), HOST, opts).routers[0]?.radvd?.config ?? '';
    expect(stateless).toContain('AdvOtherConfigFlag on;');
    expect(stateless).not.toContain('AdvManagedFlag');
    expect(stateless).toContain('AdvAutonomous on;');
    // Address mode alone: an external router advertises, not ours.
    expect(compileHostState(topology(null, 'slaac'), HOST, opts).routers[0]?.radvd).toBeUndefined();
    expect(compileHostState(topology(null, null), HOST, opts).routers[0]?.radvd).toBeUndefined();
  });

  it('routes v6 without NAT: forwarding on, a ::/0 route via the external v6 gateway', () => {
    const router = compileHostState(topology('slaac', 'slaac'), HOST, opts).routers[0];
    expect(router?.nat).toBeNull();
    expect(router?.namespace.sysctls).toContainEqual({ key: 'net.ipv6.conf.all.forwarding', value: '1' });
    expect(router?.namespace.routes).toContainEqual({
      destination: '::/0',
      nexthops: [{ via: '2001:db8:ff::1', dev: expect.stringMatching(/^qg-/) }],
    });
  });

  it('dnsmasq: a v6 range per stateful or stateless subnet, host entries in brackets only for stateful, option6 lines', () => {
    const dnsmasq = (ra: Ipv6Mode | null, address: Ipv6Mode | null) =>
      compileHostState(topology(ra, address), HOST, opts).networks.find((n) => n.networkId === 'n1')?.dhcp?.dnsmasq;
    const stateful = dnsmasq('dhcpv6-stateful', 'dhcpv6-stateful');
    expect(stateful?.args).toContain('--dhcp-range=set:subnet-s6,2001:db8:1::,static,64,86400s');
    // Router interfaces get entries too (reference 3.3), so their names resolve.
    expect(stateful?.files.find((f) => f.name === 'host')?.content).toBe(
      'fa:16:3e:00:00:03,host-2001-db8-1--1.openstacklocal,[2001:db8:1::1]\nfa:16:3e:00:00:02,host-2001-db8-1--3c.openstacklocal,[2001:db8:1::3c]\n',
    );
    expect(stateful?.files.find((f) => f.name === 'opts')?.content).toBe(
      'tag:subnet-s6,option6:dns-server,[2001:db8::53]\ntag:subnet-s6,option6:domain-search,openstacklocal\n',
    );
    const stateless = dnsmasq('dhcpv6-stateless', 'dhcpv6-stateless');
    expect(stateless?.args).toContain('--dhcp-range=set:subnet-s6,2001:db8:1::,static,64,86400s');
    expect(stateless?.files.find((f) => f.name === 'host')?.content).toBe('');
    // Neutron's backwards-compatible default: a v6 subnet without modes is served statically too.
    expect(dnsmasq(null, null)?.args).toContain('--dhcp-range=set:subnet-s6,2001:db8:1::,static,64,86400s');
    // SLAAC needs no DHCP server at all.
    expect(dnsmasq('slaac', 'slaac')).toBeUndefined();
  });
  it('dnsmasq: on a network no router serves, it advertises each RA-mode prefix with a zero router lifetime; with a router it never does', () => {
    const routerless = (ra: Ipv6Mode, address: Ipv6Mode) => {
      const t = topology(ra, address);
      return compileHostState(
        { ...t, ports: t.ports.filter((p) => !p.deviceOwner.startsWith('network:router')), routers: [] },
        HOST,
        opts,
      ).networks.find((n) => n.networkId === 'n1')?.dhcp?.dnsmasq;
    };
    const slaac = routerless('slaac', 'slaac');
    expect(slaac?.args).toContain('--dhcp-range=set:subnet-s6,2001:db8:1::,ra-only,64,86400s');
    expect(slaac?.args).toContain('--enable-ra');
    expect(slaac?.args.filter((a) => a.startsWith('--ra-param='))).toEqual([expect.stringMatching(/^--ra-param=ns-[\w-]+,mtu:1450,0,0$/)]);
    expect(routerless('dhcpv6-stateless', 'dhcpv6-stateless')?.args).toContain(
      '--dhcp-range=set:subnet-s6,2001:db8:1::,ra-stateless,64,86400s',
    );
    expect(routerless('dhcpv6-stateful', 'dhcpv6-stateful')?.args).toContain('--dhcp-range=set:subnet-s6,2001:db8:1::,static,64,86400s');
    expect(routerless('dhcpv6-stateful', 'dhcpv6-stateful')?.args).toContain('--enable-ra');
    for (const mode of ['slaac', 'dhcpv6-stateless', 'dhcpv6-stateful'] as const) {
      const routed = compileHostState(topology(mode, mode), HOST, opts).networks.find((n) => n.networkId === 'n1')?.dhcp?.dnsmasq;
      expect(routed?.args ?? [], mode).not.toContain('--enable-ra');
    }
  });
});
