import { describe, expect, it } from 'vitest';
import { planHaRouters } from '../../src/agent/ha-scheduler.js';
import { planBindings } from '../../src/agent/scheduler.js';
import type { ZoneFacts } from '../../src/agent/zone-choice.js';
import type { Port } from '../../src/domain/port/index.js';
import { portDoc, rec, routerDoc } from './docs.js';

/**
 * Zone-aware scheduling (availability_zone_hints). Every case holds whatever order the random ids
 * of its ports and routers sort in: one unit per plan where the order would matter, or outcomes
 * compared as sets.
 */
const NET = '00000000-0000-4000-8000-0000000000aa';
const EXT = '00000000-0000-4000-8000-0000000000bb';

const zones = (hostZones: Record<string, string>, networkHints: Record<string, string[]> = {}): ZoneFacts => ({
  hostZones: new Map(Object.entries(hostZones)),
  networkHints: new Map(Object.entries(networkHints)),
});

function router(hints?: string[], host = '') {
  const gw = portDoc(EXT, 'network:router_gateway', { bindingHost: host });
  const ri = portDoc(NET, 'network:router_interface', { bindingHost: host });
  const doc = routerDoc({
    gateway: { networkId: EXT, portId: gw.id, enableSnat: true, externalFixedIps: [] },
    interfaces: [{ portId: ri.id, subnetId: NET, networkId: NET, ip: '10.0.0.1', cidr: '10.0.0.0/24' }],
    ...(hints ? { availabilityZoneHints: hints } : {}),
  });
  return { ports: [gw, ri], doc };
}

const hostsOf = (out: readonly { host: string }[]) => new Set(out.map((b) => b.host));

describe('routers with availability_zone_hints', () => {
  const facts = zones({ a: 'nova', b: 'az-1', c: 'az-2', d: 'az-2' });

  it('go whole to a live host in a hinted zone; without hints to any zone, as before', () => {
    const hinted = router(['az-2']);
    expect(
      planBindings(
        hinted.ports.map((p) => rec(p)),
        [rec(hinted.doc)],
        ['a', 'b', 'c', 'd'],
        new Set(),
        undefined,
        facts,
      ).map((b) => b.host),
    ).toEqual(['c', 'c']);
    const either = router(['az-1', 'az-2']);
    // b and c are equally loaded: the name decides among the hinted zones' hosts.
    expect(
      hostsOf(
        planBindings(
          either.ports.map((p) => rec(p)),
          [rec(either.doc)],
          ['a', 'b', 'c', 'd'],
          new Set(),
          undefined,
          facts,
        ),
      ),
    ).toEqual(new Set(['b']));
    const free = router();
    expect(
      hostsOf(
        planBindings(
          free.ports.map((p) => rec(p)),
          [rec(free.doc)],
          ['a', 'b', 'c', 'd'],
          new Set(),
          undefined,
          facts,
        ),
      ),
    ).toEqual(new Set(['a']));
  });

  it('spread over the hinted zone by load', () => {
    const [r1, r2] = [router(['az-2']), router(['az-2'])];
    const out = planBindings(
      [...r1.ports, ...r2.ports].map((p) => rec(p)),
      [rec(r1.doc), rec(r2.doc)],
      ['a', 'b', 'c', 'd'],
      new Set(),
      undefined,
      facts,
    );
    const hostOf = new Map(out.map((b) => [b.portId, b.host]));
    expect(new Set([hostOf.get(r1.ports[0]!.id), hostOf.get(r2.ports[0]!.id)])).toEqual(new Set(['c', 'd']));
  });

  it('stay unbound while no live agent is in a hinted zone, and leave a dead host only for one that is', () => {
    const waiting = router(['az-2']);
    expect(
      planBindings(
        waiting.ports.map((p) => rec(p)),
        [rec(waiting.doc)],
        ['a', 'b'],
        new Set(['c', 'd']),
        undefined,
        facts,
      ),
    ).toEqual([]);
    const stranded = router(['az-2'], 'c');
    expect(
      hostsOf(
        planBindings(
          stranded.ports.map((p) => rec(p)),
          [rec(stranded.doc)],
          ['a', 'b', 'd'],
          new Set(['c']),
          undefined,
          facts,
        ),
      ),
    ).toEqual(new Set(['d']));
  });

  it("put a distributed router's SNAT on a dvr_snat host of a hinted zone", () => {
    const gw = portDoc(EXT, 'network:router_gateway');
    const doc = routerDoc({
      distributed: true,
      gateway: { networkId: EXT, portId: gw.id, enableSnat: true, externalFixedIps: [] },
      availabilityZoneHints: ['az-2'],
    });
    // a and c are dvr_snat; only c is in az-2.
    expect(planBindings([rec(gw)], [rec(doc)], ['a', 'b', 'c', 'd'], new Set(), ['a', 'c'], facts).map((b) => b.host)).toEqual(['c']);
  });
});

describe("networks' DHCP with availability_zone_hints", () => {
  const dhcp = (networkId: string, extra: Partial<Port> = {}) => portDoc(networkId, 'network:dhcp', extra);
  const facts = (hints: Record<string, string[]> = {}) => zones({ a1: 'az-1', a2: 'az-1', b1: 'az-2', n: 'nova' }, hints);

  it("spreads a hinted network's DHCP ports over its zones before doubling up in one", () => {
    const ports = [dhcp(NET), dhcp(NET)];
    const out = planBindings(
      ports.map((p) => rec(p)),
      [],
      ['a1', 'a2', 'b1', 'n'],
      new Set(),
      undefined,
      facts({ [NET]: ['az-1', 'az-2'] }),
    );
    expect(hostsOf(out)).toEqual(new Set(['a1', 'b1']));
  });

  it("spreads over zones without hints too (Neutron's AZ-aware DHCP scheduler)", () => {
    const ports = [dhcp(NET), dhcp(NET)];
    const out = planBindings(
      ports.map((p) => rec(p)),
      [],
      ['a1', 'a2', 'n'],
      new Set(),
      undefined,
      facts(),
    );
    expect(hostsOf(out)).toEqual(new Set(['a1', 'n']));
  });

  it('prefers a zone not yet serving the network over a less loaded host in one that does', () => {
    const serving = dhcp(NET, { bindingHost: 'a1' });
    const waiting = dhcp(NET);
    // b1 already hosts a router; a2 hosts nothing but is in a1's zone.
    const busy = router(undefined, 'b1');
    const out = planBindings(
      [serving, waiting, ...busy.ports].map((p) => rec(p)),
      [rec(busy.doc)],
      ['a1', 'a2', 'b1'],
      new Set(),
      undefined,
      facts({ [NET]: ['az-1', 'az-2'] }),
    );
    expect(out).toEqual([{ portId: waiting.id, revision: 1, host: 'b1' }]);
  });

  it("stays unbound while no live agent is in its zones; a dead host's port moves inside them", () => {
    expect(planBindings([rec(dhcp(NET))], [], ['a1', 'a2', 'n'], new Set(), undefined, facts({ [NET]: ['az-2'] }))).toEqual([]);
    const stranded = dhcp(NET, { bindingHost: 'x' });
    const moved = planBindings([rec(stranded)], [], ['a1', 'b1', 'n'], new Set(['x']), undefined, facts({ [NET]: ['az-2'] }));
    expect(moved).toEqual([{ portId: stranded.id, revision: 1, host: 'b1' }]);
  });

  it('hints of one network do not constrain another', () => {
    const other = '00000000-0000-4000-8000-0000000000cc';
    const out = planBindings([rec(dhcp(other))], [], ['a1', 'b1', 'n'], new Set(), undefined, facts({ [NET]: ['az-2'] }));
    expect(hostsOf(out)).toEqual(new Set(['a1']));
  });
});

describe('HA routers with availability_zone_hints', () => {
  const ha = (id: string, hints?: string[]) =>
    ({
      id,
      revision: 1,
      doc: {
        id,
        project: 'p',
        ha: true,
        gateway: null,
        interfaces: [{ portId: `${id}-qr` }],
        ...(hints ? { availabilityZoneHints: hints } : {}),
      },
    }) as never;
  const facts = zones({ a1: 'az-1', a2: 'az-1', b1: 'az-2', n: 'nova' });

  it('places its hosts in the hinted zones only, over distinct zones first', () => {
    const [spread] = planHaRouters([], [ha('r1', ['az-1', 'az-2'])], ['a1', 'a2', 'b1', 'n'], 2, facts);
    expect(spread?.addHosts).toEqual(['a1', 'b1']);
    const [one] = planHaRouters([], [ha('r1', ['az-1'])], ['a1', 'a2', 'b1', 'n'], 3, facts);
    expect(one?.addHosts).toEqual(['a1', 'a2']);
  });

  it('spreads over zones without hints, as before when every agent is in one zone', () => {
    const [any] = planHaRouters([], [ha('r1')], ['a1', 'a2', 'n'], 2, facts);
    expect(any?.addHosts).toEqual(['a1', 'n']);
    const [plain] = planHaRouters([], [ha('r1')], ['a1', 'a2', 'n'], 2);
    expect(plain?.addHosts).toEqual(['a1', 'a2']);
  });
});
