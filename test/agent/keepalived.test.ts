import { describe, expect, it } from 'vitest';
import { diffKeepalived } from '../../src/agent/drivers/keepalived.js';
import { planHaRouters } from '../../src/agent/ha-scheduler.js';
import { compileHostState, type Topology } from '../../src/projections/desired-state/index.js';
import { haPortName } from '../../src/projections/desired-state/names.js';
import { network, port, scenario, withFip } from './fixtures.js';

const opts = { namespacePrefix: 'nlu-', hostNamespace: 'nlu-host', stateDir: '/var/lib/nlu' };

/** The scenario's router made HA (VRRP id 3) on two hosts through HA ports. */
function haScenario() {
  const s = scenario();
  const base = withFip(s, true);
  const haNet = network({ cidr: '169.254.192.0/18', gateway: null, dhcp: false });
  const haA = port(haNet, '169.254.192.5', 'network:router_ha_interface', { host: 'h-a', deviceId: s.router.id });
  const haB = port(haNet, '169.254.192.6', 'network:router_ha_interface', { host: 'h-b', deviceId: s.router.id });
  const topology: Topology = {
    ...base,
    networks: [...base.networks, haNet],
    ports: [...base.ports, haA, haB],
    routers: base.routers.map((r) => ({ ...r, ha: { vrid: 3 } })),
  };
  return { s, topology, haA };
}

describe('HA router compile', () => {
  it('builds the router on each host with an HA port, whatever its ports are bound to', () => {
    const { s, topology, haA } = haScenario();
    for (const host of ['h-a', 'h-b']) expect(compileHostState(topology, host, opts).routers.map((r) => r.routerId)).toEqual([s.router.id]);
    // The host the ports are bound to, without an HA port, does not run it.
    expect(compileHostState(topology, 'compute-1', opts).routers).toEqual([]);
    const ns = compileHostState(topology, 'h-a', opts).routers[0]!.namespace;
    expect(ns.interfaces.find((i) => i.name === haPortName(haA.id))?.addresses).toEqual(['169.254.192.5/18']);
  });

  it('leaves qr-/qg- addresses, floating IPs and routes to keepalived, in Neutron config form', () => {
    const { topology, haA } = haScenario();
    const r = compileHostState(topology, 'h-a', opts).routers[0]!;
    const ha = haPortName(haA.id);
    for (const i of r.namespace.interfaces.filter((x) => !x.name.startsWith('ha-'))) expect(i.addresses).toEqual([]);
    expect(r.namespace.routes).toEqual([]);
    expect(r.namespace.sysctls).toContainEqual({ key: 'net.ipv6.conf.all.disable_ipv6', value: '1' });
    const qg = r.namespace.interfaces.find((i) => i.name.startsWith('qg-'))!.name;
    const qr = r.namespace.interfaces.find((i) => i.name.startsWith('qr-'))!.name;
    const conf = r.keepalived!.config;
    expect(conf).toContain(`vrrp_instance VR_3 {\n    state BACKUP\n    interface ${ha}\n    virtual_router_id 3\n    priority 50\n`);
    expect(conf).toContain('    nopreempt\n    advert_int 2\n');
    expect(conf).toContain(`    virtual_ipaddress {\n        169.254.0.3/24 dev ${ha}\n    }\n`);
    expect(conf).toContain(
      `    virtual_ipaddress_excluded {\n        10.10.1.1/24 dev ${qr} no_track\n        203.0.113.10/24 dev ${qg} no_track\n        203.0.113.20/32 dev ${qg} no_track\n    }\n`,
    );
    expect(conf).toContain(`    virtual_routes {\n        0.0.0.0/0 via 203.0.113.1 dev ${qg} protocol keepalived\n    }\n`);
    expect(r.keepalived!.args).toEqual([
      '-P',
      '-f',
      `/var/lib/nlu/ha_confs/${r.routerId}/keepalived.conf`,
      '-p',
      `/var/lib/nlu/ha_confs/${r.routerId}/keepalived.pid`,
      '-r',
      `/var/lib/nlu/ha_confs/${r.routerId}/keepalived.pid-vrrp`,
    ]);
    expect(r.keepalived!.notifyScript).toContain(`-I ${qg} 203.0.113.20`);
  });

  it('is not built anywhere before it has its VRRP id', () => {
    const { topology } = haScenario();
    const unscheduled = { ...topology, routers: topology.routers.map((r) => ({ ...r, ha: null })) };
    expect(compileHostState(unscheduled, 'h-a', opts).routers).toEqual([]);
  });
});

describe('keepalived driver diff', () => {
  const { topology } = haScenario();
  const spec = compileHostState(topology, 'h-a', opts).routers[0]!.keepalived!;
  const running = { pid: 42, args: spec.args, inNamespace: true };

  it('does nothing when converged', () => {
    expect(diffKeepalived(spec, { dirExists: true, config: spec.config, notifyScript: spec.notifyScript, process: running })).toEqual([]);
  });
  it('rewrites and reloads (SIGHUP) on a config change, restarts only when not running as asked', () => {
    expect(
      diffKeepalived(spec, { dirExists: true, config: 'old', notifyScript: spec.notifyScript, process: running }).map((a) => a.kind),
    ).toEqual(['write-files', 'reload']);
    expect(diffKeepalived(spec, { dirExists: false, config: null, notifyScript: null, process: null }).map((a) => a.kind)).toEqual([
      'write-files',
      'start',
    ]);
    expect(
      diffKeepalived(spec, {
        dirExists: true,
        config: spec.config,
        notifyScript: spec.notifyScript,
        process: { ...running, inNamespace: false },
      }).map((a) => a.kind),
    ).toEqual(['stop', 'start']);
  });
  it('stops keepalived and removes its files when the router leaves the host', () => {
    expect(diffKeepalived(null, { dirExists: true, config: spec.config, notifyScript: null, process: running }).map((a) => a.kind)).toEqual(
      ['stop', 'remove-dir'],
    );
  });
});

describe('HA scheduling', () => {
  const doc = (id: string, extra: Record<string, unknown> = {}) =>
    ({ id, revision: 1, doc: { id, project: 'p', ha: true, gateway: null, interfaces: [{ portId: `${id}-qr` }], ...extra } }) as never;
  const haPort = (routerId: string, host: string) =>
    ({
      id: `${routerId}-${host}`,
      revision: 1,
      doc: { deviceOwner: 'network:router_ha_interface', deviceId: routerId, bindingHost: host },
    }) as never;

  it('puts a new HA router on the least loaded live hosts, up to the maximum, and asks for its VRRP id', () => {
    const plan = planHaRouters(
      [haPort('r0', 'a'), haPort('r0', 'b')],
      [doc('r0', { haVrid: { networkId: 'n', vrid: 1 } }), doc('r1')],
      ['a', 'b', 'c'],
      2,
    );
    expect(plan.map((p) => ({ id: p.router.id, hosts: p.addHosts, vrid: p.needsVrid }))).toEqual([
      { id: 'r1', hosts: ['c', 'a'], vrid: true },
    ]);
  });
  it('keeps a dead host as a host of the router (no third host is added)', () => {
    const plan = planHaRouters([haPort('r0', 'a'), haPort('r0', 'b')], [doc('r0', { haVrid: { networkId: 'n', vrid: 1 } })], ['b', 'c'], 2);
    expect(plan).toEqual([]);
  });
});
