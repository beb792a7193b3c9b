import { describe, expect, it } from 'vitest';
import { planBindings } from '../../src/agent/scheduler.js';
import { firewallGroupStatusChanges, floatingIpStatusChanges, portStatusChanges, type KeyHealth } from '../../src/agent/status.js';
import type { FirewallGroup, FirewallGroupStatus } from '../../src/domain/firewall/index.js';
import type { UnitKey } from '../../src/projections/desired-state/index.js';
import { fipDoc, portDoc, rec, routerDoc } from './docs.js';

const NET = '00000000-0000-4000-8000-0000000000aa';
const EXT = '00000000-0000-4000-8000-0000000000bb';

function routerWithPorts(bindings: [string, string]) {
  const gw = portDoc(EXT, 'network:router_gateway', { bindingHost: bindings[0] });
  const ri = portDoc(NET, 'network:router_interface', { bindingHost: bindings[1] });
  const router = routerDoc({
    gateway: { networkId: EXT, portId: gw.id, enableSnat: true, externalFixedIps: [] },
    interfaces: [{ portId: ri.id, subnetId: NET, networkId: NET, ip: '10.0.0.1', cidr: '10.0.0.0/24' }],
  });
  return { gw, ri, router };
}

describe('scheduling DHCP and router ports', () => {
  it('puts a whole router and each DHCP port on the least-loaded live host', () => {
    const r1 = routerWithPorts(['', '']);
    const r2 = routerWithPorts(['', '']);
    const dhcp = portDoc(NET, 'network:dhcp');
    const vm = portDoc(NET, 'compute:nova');
    const busy = portDoc(NET, 'network:dhcp', { bindingHost: 'a' });
    const out = planBindings(
      [r1.gw, r1.ri, r2.gw, r2.ri, dhcp, vm, busy].map((p) => rec(p, 3)),
      [rec(r1.router), rec(r2.router)],
      ['a', 'b'],
    );
    const hostOf = new Map(out.map((b) => [b.portId, b.host]));
    expect(out.every((b) => b.revision === 3)).toBe(true);
    expect(hostOf.has(vm.id) || hostOf.has(busy.id)).toBe(false);
    // Each router lands whole on one host; with 'a' already serving one DHCP port, loads even out.
    expect(hostOf.get(r1.gw.id)).toBe(hostOf.get(r1.ri.id));
    expect(hostOf.get(r2.gw.id)).toBe(hostOf.get(r2.ri.id));
    const load = { a: 1, b: 0 } as Record<string, number>;
    for (const h of [hostOf.get(r1.gw.id), hostOf.get(r2.gw.id), hostOf.get(dhcp.id)]) load[h!]! += 1;
    expect(load).toEqual({ a: 2, b: 2 });
  });

  it('keeps a new interface with the router it belongs to, and plans nothing without a live host', () => {
    const r = routerWithPorts(['b', '']);
    expect(planBindings([rec(r.gw), rec(r.ri)], [rec(r.router)], ['a', 'b'])).toEqual([{ portId: r.ri.id, revision: 1, host: 'b' }]);
    expect(planBindings([rec(r.gw), rec(r.ri)], [rec(r.router)], [])).toEqual([]);
  });
});

describe('several DHCP agents per network (dhcp_agents_per_network)', () => {
  it("puts a network's DHCP ports on distinct hosts, and leaves one unbound while no other host is free", () => {
    const other = '00000000-0000-4000-8000-0000000000ee';
    const [d1, d2, d3] = [portDoc(NET, 'network:dhcp'), portDoc(NET, 'network:dhcp'), portDoc(other, 'network:dhcp')];
    // 'a' holds two routers already: without the rule both DHCP ports of NET would go to 'b'. Two,
    // not one, so that whatever order the random ids give, 'b' stays the least loaded for d3.
    const busy = [routerWithPorts(['a', 'a']), routerWithPorts(['a', 'a'])];
    const out = planBindings(
      [d1, d2, d3, ...busy.flatMap((r) => [r.gw, r.ri])].map((p) => rec(p)),
      busy.map((r) => rec(r.router)),
      ['a', 'b'],
    );
    const hostOf = new Map(out.map((b) => [b.portId, b.host]));
    expect(new Set([hostOf.get(d1.id), hostOf.get(d2.id)])).toEqual(new Set(['a', 'b']));
    expect(hostOf.get(d3.id)).toBe('b');
    // One live host: the second port waits (Neutron serves the network from fewer agents than asked).
    expect(
      planBindings(
        [d1, d2].map((p) => rec(p)),
        [],
        ['a'],
      ).map((b) => b.host),
    ).toEqual(['a']);
  });

  it("moves a dead host's DHCP port to a live host not already serving the network", () => {
    const d1 = portDoc(NET, 'network:dhcp', { bindingHost: 'a' });
    const d2 = portDoc(NET, 'network:dhcp', { bindingHost: 'dead' });
    const out = planBindings(
      [d1, d2].map((p) => rec(p)),
      [],
      ['a', 'b'],
      new Set(['dead']),
    );
    expect(out).toEqual([{ portId: d2.id, revision: 1, host: 'b' }]);
    // Nowhere else to go: it stays on the dead host, and 'a' keeps serving alone.
    expect(
      planBindings(
        [d1, d2].map((p) => rec(p)),
        [],
        ['a'],
        new Set(['dead']),
      ),
    ).toEqual([]);
  });
});

describe('failover: rescheduling what a dead agent hosted', () => {
  it("moves a dead host's routers (whole) and DHCP ports to the least-loaded live hosts, and leaves instances alone", () => {
    const r = routerWithPorts(['dead', 'dead']);
    const dhcp = portDoc(NET, 'network:dhcp', { bindingHost: 'dead' });
    const vm = portDoc(NET, 'compute:nova', { bindingHost: 'dead' });
    const out = planBindings(
      [r.gw, r.ri, dhcp, vm].map((p) => rec(p, 4)),
      [rec(r.router)],
      ['a', 'b'],
      new Set(['dead']),
    );
    const hostOf = new Map(out.map((x) => [x.portId, x.host]));
    expect([...hostOf.keys()].sort()).toEqual([r.gw.id, r.ri.id, dhcp.id].sort());
    expect(hostOf.get(r.gw.id)).toBe('a');
    expect(hostOf.get(r.ri.id)).toBe('a');
    expect(hostOf.get(dhcp.id)).toBe('b');
    // While the host is not known dead (merely unknown to this agent), nothing moves.
    expect(
      planBindings(
        [r.gw, r.ri, dhcp].map((p) => rec(p)),
        [rec(r.router)],
        ['a', 'b'],
      ),
    ).toEqual([]);
  });

  it('a router half on a dead host joins its half on a live one', () => {
    const r = routerWithPorts(['b', 'dead']);
    expect(planBindings([rec(r.gw), rec(r.ri)], [rec(r.router)], ['a', 'b'], new Set(['dead']))).toEqual([
      { portId: r.ri.id, revision: 1, host: 'b' },
    ]);
  });
});

describe('statuses an agent reports', () => {
  const health =
    (failed: Record<string, string>, pending: string[] = []) =>
    (k: UnitKey): KeyHealth =>
      failed[k] ? { state: 'failed', error: failed[k]! } : pending.includes(k) ? { state: 'pending' } : { state: 'ok' };

  it('ACTIVE when the wiring key converged, ERROR with its reason when it failed, DOWN when administratively down, only on change', () => {
    const r = routerWithPorts(['h', 'h']);
    const vm = portDoc(NET, 'compute:nova', { bindingHost: 'h' });
    const vmActive = portDoc(NET, 'compute:nova', { bindingHost: 'h', status: 'ACTIVE' });
    const down = portDoc(NET, 'compute:nova', { bindingHost: 'h', adminStateUp: false, status: 'ACTIVE' });
    const elsewhere = portDoc(NET, 'compute:nova', { bindingHost: 'other' });
    const keys = new Set<UnitKey>([`network:${NET}`, `network:${EXT}`, `router:${r.router.id}`]);
    const ports = [r.gw, r.ri, vm, vmActive, down, elsewhere].map((p) => rec(p));
    const out = portStatusChanges({ host: 'h', keys, health: health({ [`router:${r.router.id}`]: 'nft: boom' }) }, ports, [rec(r.router)]);
    expect(out).toEqual([
      { id: r.gw.id, status: 'ERROR', reason: 'nft: boom' },
      { id: r.ri.id, status: 'ERROR', reason: 'nft: boom' },
      { id: vm.id, status: 'ACTIVE', reason: null },
      { id: down.id, status: 'DOWN', reason: null },
    ]);
    // Still being worked on: nothing to say yet.
    expect(portStatusChanges({ host: 'h', keys, health: health({}, [`network:${NET}`]) }, [rec(vm)], [])).toEqual([]);
  });

  it('floating IPs: ACTIVE with their router here, DOWN when not associated', () => {
    const routerId = '00000000-0000-4000-8000-0000000000cc';
    const assoc = fipDoc(EXT, '203.0.113.5', { association: { portId: NET, fixedIpAddress: '10.0.0.5', routerId } });
    const elsewhere = fipDoc(EXT, '203.0.113.6', { association: { portId: NET, fixedIpAddress: '10.0.0.6', routerId: EXT } });
    const loose = fipDoc(EXT, '203.0.113.7', { status: 'ACTIVE' });
    const out = floatingIpStatusChanges(
      { host: 'h', keys: new Set([`router:${routerId}`]), health: health({}) },
      [assoc, elsewhere, loose].map((f) => rec(f)),
      [],
      [],
    );
    expect(out).toEqual([
      { id: assoc.id, status: 'ACTIVE', reason: null },
      { id: loose.id, status: 'DOWN', reason: null },
    ]);
  });

  it("floating IPs of a distributed router: only the host of the floating IP's port reports them", () => {
    const router = routerDoc({ distributed: true });
    const here = portDoc(NET, 'compute:nova', { bindingHost: 'h' });
    const there = portDoc(NET, 'compute:nova', { bindingHost: 'other' });
    const fip = (p: typeof here, ip: string) => fipDoc(EXT, ip, { association: { portId: p.id, fixedIpAddress: ip, routerId: router.id } });
    const mine = fip(here, '203.0.113.8');
    const theirs = fip(there, '203.0.113.9');
    const report = (failed: Record<string, string>) =>
      floatingIpStatusChanges(
        { host: 'h', keys: new Set<UnitKey>([`router:${router.id}`]), health: health(failed) },
        [mine, theirs].map((f) => rec(f)),
        [here, there].map((p) => rec(p)),
        [rec(router)],
      );
    // Both hosts build the router; this one speaks only for the floating IP it translates.
    expect(report({})).toEqual([{ id: mine.id, status: 'ACTIVE', reason: null }]);
    expect(report({ [`router:${router.id}`]: 'nft: boom' })).toEqual([{ id: mine.id, status: 'ERROR', reason: 'nft: boom' }]);
  });

  it('floating IPs of an HA router: only the host whose keepalived is MASTER reports them', () => {
    const port = portDoc(NET, 'compute:nova', { bindingHost: 'elsewhere' });
    const router = routerDoc({ ha: true });
    const fip = fipDoc(EXT, '203.0.113.10', { association: { portId: port.id, fixedIpAddress: '10.0.0.10', routerId: router.id } });
    const report = (local: 'active' | 'standby' | null) =>
      floatingIpStatusChanges(
        {
          host: 'h',
          keys: new Set<UnitKey>([`router:${router.id}`]),
          health: health({}),
          haState: (id) => (id === router.id ? local : null),
        },
        [rec(fip)],
        [rec(port)],
        [rec(router)],
      ).map((c) => c.status);
    expect(report('active')).toEqual(['ACTIVE']);
    expect(report('standby')).toEqual([]);
    // Before any election nobody holds the address yet: nothing to say.
    expect(report(null)).toEqual([]);
  });

  it('firewall groups: ACTIVE once every router key here applying them converged, ERROR when one failed, for the revision seen', () => {
    const group = (n: number, status: FirewallGroupStatus): FirewallGroup => ({
      id: `00000000-0000-4000-8000-00000000010${n}`,
      project: 'p',
      name: `g${n}`,
      description: '',
      tags: [],
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      ingressFirewallPolicyId: null,
      egressFirewallPolicyId: null,
      ports: ['x'],
      adminStateUp: status !== 'DOWN',
      shared: false,
      isDefault: false,
      status,
    });
    const [pending, updating, failing, elsewhere, active, inactive] = [
      group(1, 'PENDING_CREATE'),
      group(2, 'PENDING_UPDATE'),
      group(3, 'PENDING_UPDATE'),
      group(4, 'PENDING_CREATE'),
      group(5, 'ACTIVE'),
      group(6, 'INACTIVE'),
    ];
    const applied = (...ids: string[]) => ({ firewall: { groups: ids.map((id) => ({ id })) } });
    const routers = [
      { key: 'router:r1' as UnitKey, ...applied(pending.id, updating.id, active.id, inactive.id) },
      { key: 'router:r2' as UnitKey, ...applied(updating.id, failing.id) },
      { key: 'router:r3' as UnitKey, ...applied(failing.id) },
    ];
    const keys = new Set<UnitKey>(['router:r1', 'router:r2', 'router:r3']);
    const docs = [pending, updating, failing, elsewhere, active, inactive].map((g) => rec(g, 4));
    expect(firewallGroupStatusChanges({ host: 'h', keys, health: health({ 'router:r3': 'nft: boom' }) }, docs, routers)).toEqual([
      { id: pending.id, status: 'ACTIVE', revision: 4 },
      { id: updating.id, status: 'ACTIVE', revision: 4 },
      { id: failing.id, status: 'ERROR', revision: 4 },
    ]);
    // One of its routers still being worked on: nothing to say about that group yet.
    expect(firewallGroupStatusChanges({ host: 'h', keys, health: health({}, ['router:r2']) }, docs, routers)).toEqual([
      { id: pending.id, status: 'ACTIVE', revision: 4 },
    ]);
  });
});
