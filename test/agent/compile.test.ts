import { describe, expect, it } from 'vitest';
import { compileHostState, hostStateUnits, type Topology } from '../../src/projections/desired-state/index.js';
import { bridgeName, deviceName, gatewayPortName, routerPortName, tapName } from '../../src/projections/desired-state/names.js';
import { HOST, largeTopology, scenario, withFip } from './fixtures.js';

const opts = { namespacePrefix: 'nlu-', hostNamespace: 'nlu-host', stateDir: '/var/lib/nlu' };

function shuffled<T>(list: readonly T[], seed: number): T[] {
  const out = [...list];
  let x = seed;
  for (let i = out.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const j = x % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function shuffleTopology(t: Topology, seed: number): Topology {
  return {
    networks: shuffled(t.networks, seed).map((n) => ({ ...n, subnets: shuffled(n.subnets, seed + 1) })),
    ports: shuffled(t.ports, seed + 2),
    routers: shuffled(t.routers, seed + 3),
    floatingIps: shuffled(t.floatingIps, seed + 4),
  };
}

describe('compileHostState', () => {
  it('is deterministic: same topology in any order gives byte-identical JSON', () => {
    const big = largeTopology(6).topology;
    const a = JSON.stringify(compileHostState(big, HOST, opts));
    for (let seed = 1; seed < 6; seed++) {
      expect(JSON.stringify(compileHostState(shuffleTopology(big, seed), HOST, opts))).toBe(a);
    }
  });

  it('names devices with the 14-character rule and namespaces with the prefix', () => {
    const id = '1a2b3c4d-5e6f-7a8b-9c0d-112233445566';
    expect(tapName(id)).toBe('tap1a2b3c4d-5e');
    expect(routerPortName(id)).toBe('qr-1a2b3c4d-5e');
    expect(gatewayPortName(id)).toBe('qg-1a2b3c4d-5e');
    expect(bridgeName(id)).toBe('brq1a2b3c4d-5e');
    expect(deviceName('rfp-', id)).toBe('rfp-1a2b3c4d-5');

    const s = scenario();
    const state = compileHostState(s.topology, HOST, opts);
    const router = state.routers[0];
    expect(router?.namespace.name).toBe(`nlu-qrouter-${s.router.id}`);
    for (const i of router?.namespace.interfaces ?? []) {
      expect(i.name.length).toBe(14);
      expect(i.peer).toBe(tapName(i.portId));
    }
    const dhcp = state.networks.find((n) => n.networkId === s.net.id)?.dhcp;
    expect(dhcp?.namespace.name).toBe(`nlu-qdhcp-${s.net.id}`);
    expect(dhcp?.namespace.interfaces[0]?.name).toBe(deviceName('ns-', s.dhcpPort.id));
    expect(state.networks.map((n) => n.bridge.name).sort()).toEqual([bridgeName(s.ext.id), bridgeName(s.net.id)].sort());
  });

  it('places routers and DHCP by port binding host and skips admin-down routers', () => {
    const s = scenario();
    expect(compileHostState(s.topology, 'other-host', opts)).toMatchObject({ routers: [], networks: [] });
    const down: Topology = { ...s.topology, routers: s.topology.routers.map((r) => ({ ...r, adminStateUp: false })) };
    const state = compileHostState(down, HOST, opts);
    expect(state.routers).toEqual([]);
    // The bridges stay: DHCP and instance ports are still bound here.
    expect(state.networks.some((n) => n.networkId === s.net.id)).toBe(true);
  });

  it('gives the router its addresses, default route and floating IP /32', () => {
    const s = scenario();
    const router = compileHostState(withFip(s, true), HOST, opts).routers[0];
    const qg = router?.namespace.interfaces.find((i) => i.name.startsWith('qg-'));
    const qr = router?.namespace.interfaces.find((i) => i.name.startsWith('qr-'));
    expect(qg?.addresses).toEqual(['203.0.113.10/24', '203.0.113.20/32']);
    expect(qr?.addresses).toEqual(['10.10.1.1/24']);
    expect(qg?.mac).toBe(s.gwPort.macAddress);
    expect(router?.namespace.routes).toEqual([{ destination: 'default', nexthops: [{ via: '203.0.113.1', dev: qg?.name }] }]);
    expect(router?.namespace.sysctls.map((x) => `${x.key}=${x.value}`)).toContain('net.ipv4.ip_forward=1');
  });

  it('groups extra routes to the same destination into one ECMP route', () => {
    const s = scenario();
    const t: Topology = {
      ...s.topology,
      routers: [
        {
          ...s.router,
          routes: [
            { destination: '10.99.0.0/16', nexthop: '10.10.1.8' },
            { destination: '10.99.0.0/16', nexthop: '10.10.1.7' },
            { destination: '10.98.0.0/16', nexthop: '10.10.1.9' },
          ],
        },
      ],
    };
    const routes = compileHostState(t, HOST, opts).routers[0]?.namespace.routes ?? [];
    expect(routes.map((r) => r.destination)).toEqual(['10.98.0.0/16', '10.99.0.0/16', 'default']);
    expect(routes[1]?.nexthops.map((h) => h.via)).toEqual(['10.10.1.7', '10.10.1.8']);
  });
});

describe('NAT rules (Neutron 2.4 semantics in one nft table)', () => {
  const s = scenario();
  const qg = gatewayPortName(s.gwPort.id);

  function statements(topology: Topology): Record<string, string[]> {
    const nat = compileHostState(topology, HOST, opts).routers[0]?.nat;
    return Object.fromEntries((nat?.chains ?? []).map((c) => [c.name, c.rules.map((r) => r.statement)]));
  }

  it('SNATs to the gateway address only when enableSnat, keeps the hairpin and the internal accept', () => {
    const on = statements(s.topology);
    expect(on['post']).toEqual([`oifname != "${qg}" ct status & dnat != dnat accept`, 'jump gw_snat']);
    expect(on['gw_snat']).toEqual([
      'jump float_snat',
      `oifname "${qg}" snat to 203.0.113.10 fully-random`,
      'meta mark & 0x0000ffff != 0x00000002 ct status & dnat == dnat snat to 203.0.113.10 fully-random',
    ]);
    expect(on['ingress_mark']).toEqual([`iifname "${qg}" meta mark set meta mark & 0xffff0000 | 0x00000002`]);

    const off: Topology = {
      ...s.topology,
      routers: [{ ...s.router, gateway: { portId: s.gwPort.id, networkId: s.ext.id, enableSnat: false } }],
    };
    const noSnat = statements(off);
    expect(noSnat['gw_snat']).toEqual([
      'jump float_snat',
      'meta mark & 0x0000ffff != 0x00000002 ct status & dnat == dnat snat to 203.0.113.10 fully-random',
    ]);
  });

  it('maps a floating IP 1:1: DNAT in prerouting and output, SNAT in float_snat', () => {
    const t = withFip(s, true);
    const st = statements(t);
    expect(st['fip_dnat']).toEqual(['ip daddr 203.0.113.20 dnat to 10.10.1.11']);
    expect(st['fip_dnat_local']).toEqual(['ip daddr 203.0.113.20 dnat to 10.10.1.11']);
    expect(st['float_snat']).toEqual(['ip saddr 10.10.1.11 snat to 203.0.113.20 fully-random']);
    expect(statements(withFip(s, false))['fip_dnat']).toEqual([]);

    const nat = compileHostState(t, HOST, opts).routers[0]?.nat;
    expect(nat?.ruleset.split('\n').slice(0, 3)).toEqual([
      'table ip netledger-nat',
      'delete table ip netledger-nat',
      'table ip netledger-nat {',
    ]);
    expect(nat?.ruleset).toContain('type nat hook postrouting priority 100; policy accept;');
    // Every rule carries its identity as a comment, distinct across chains.
    const ids = nat?.chains.flatMap((c) => c.rules.map((r) => r.id)) ?? [];
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(nat?.ruleset).toContain(`comment "${id}"`);
  });

  it('has no NAT without a gateway', () => {
    const t: Topology = { ...s.topology, routers: [{ ...s.router, gateway: null }] };
    const router = compileHostState(t, HOST, opts).routers[0];
    expect(router?.nat).toBeNull();
    expect(router?.namespace.interfaces.every((i) => i.name.startsWith('qr-'))).toBe(true);
  });
});

describe('dnsmasq (Neutron 3.2/3.3)', () => {
  const s = scenario();
  const subnet = s.net.subnets[0];
  const dhcp = compileHostState(s.topology, HOST, opts).networks.find((n) => n.networkId === s.net.id)?.dhcp;
  const file = (name: string): string => dhcp?.dnsmasq.files.find((f) => f.name === name)?.content ?? '';

  it('uses a static dhcp-range per subnet and Neutron flags', () => {
    const args = dhcp?.dnsmasq.args ?? [];
    const dir = `/var/lib/nlu/dhcp/${s.net.id}`;
    expect(args).toContain(`--dhcp-range=set:subnet-${subnet?.id},10.10.1.0,static,255.255.255.0,86400s`);
    expect(args).toContain(`--pid-file=${dir}/pid`);
    expect(args).toContain(`--dhcp-hostsfile=${dir}/host`);
    expect(args).toContain('--dhcp-option-force=option:mtu,1500');
    expect(args).toContain('--dhcp-lease-max=256');
    expect(args).toContain('--no-resolv');
    expect(args).toContain(`--interface=${deviceName('ns-', s.dhcpPort.id)}`);
  });

  it('writes static leases for every port but the DHCP port itself, router interfaces included', () => {
    expect(file('host')).toBe(
      [
        `${s.topology.ports.find((p) => p.deviceOwner === 'network:router_interface')?.macAddress},host-10-10-1-1.openstacklocal,10.10.1.1`,
        `${s.vm1.macAddress},host-10-10-1-11.openstacklocal,10.10.1.11`,
        `${s.vm2.macAddress},host-10-10-1-12.openstacklocal,10.10.1.12`,
        '',
      ].join('\n'),
    );
    expect(file('addn_hosts')).toContain('10.10.1.11\thost-10-10-1-11.openstacklocal host-10-10-1-11\n');
  });

  it('writes router, classless routes (121 and 249) and DNS options per subnet', () => {
    const tag = `tag:subnet-${subnet?.id}`;
    expect(file('opts')).toBe(
      [
        `${tag},option:classless-static-route,169.254.169.254/32,10.10.1.1,0.0.0.0/0,10.10.1.1`,
        `${tag},249,169.254.169.254/32,10.10.1.1,0.0.0.0/0,10.10.1.1`,
        `${tag},option:router,10.10.1.1`,
        '',
      ].join('\n'),
    );
    const withDns: Topology = {
      ...s.topology,
      networks: s.topology.networks.map((n) =>
        n.id === s.net.id ? { ...n, subnets: n.subnets.map((x) => ({ ...x, dnsNameservers: ['192.0.2.53'] })) } : n,
      ),
    };
    const opts2 = compileHostState(withDns, HOST, opts)
      .networks.find((n) => n.networkId === s.net.id)
      ?.dhcp?.dnsmasq.files.find((f) => f.name === 'opts');
    expect(opts2?.content.split('\n')[0]).toBe(`${tag},option:dns-server,192.0.2.53`);
  });

  it('has no dnsmasq when DHCP is disabled, and a hosts-only change keeps the args', () => {
    const off: Topology = {
      ...s.topology,
      networks: s.topology.networks.map((n) => ({ ...n, subnets: n.subnets.map((x) => ({ ...x, enableDhcp: false })) })),
    };
    expect(compileHostState(off, HOST, opts).networks.find((n) => n.networkId === s.net.id)?.dhcp).toBeNull();
    const fewer: Topology = { ...s.topology, ports: s.topology.ports.filter((p) => p.id !== s.vm2.id) };
    const other = compileHostState(fewer, HOST, opts).networks.find((n) => n.networkId === s.net.id)?.dhcp;
    expect(other?.dnsmasq.args).toEqual(dhcp?.dnsmasq.args);
    expect(other?.dnsmasq.files).not.toEqual(dhcp?.dnsmasq.files);
  });

  it('splits the host state into reconcile units: host, networks, routers', () => {
    const units = [...hostStateUnits(compileHostState(s.topology, HOST, opts)).keys()];
    expect(units[0]).toBe('host');
    expect(units.filter((k) => k.startsWith('network:'))).toHaveLength(2);
    expect(units.filter((k) => k.startsWith('router:'))).toEqual([`router:${s.router.id}`]);
  });
});
