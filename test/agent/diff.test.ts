import { describe, expect, it } from 'vitest';
import { diffDhcp, type DhcpObservation } from '../../src/agent/drivers/dhcp.js';
import { diffNamespace, renderScript, type LinkAction } from '../../src/agent/drivers/links.js';
import { diffNat, parseNftTable, type NatObservation } from '../../src/agent/drivers/nat.js';
import type { LinkObservation, NamespaceObservation } from '../../src/agent/probe.js';
import { compileHostState, type NamespaceSpec } from '../../src/projections/desired-state/index.js';
import { HOST, largeTopology, scenario, withFip } from './fixtures.js';

const opts = { namespacePrefix: 'nlu-', hostNamespace: 'nlu-host', stateDir: '/var/lib/nlu' };
const s = scenario();
const state = compileHostState(withFip(s, true), HOST, opts);
const router = state.routers[0];
if (!router) throw new Error('fixture');

function link(name: string, ifindex: number, extra: Partial<LinkObservation> = {}): LinkObservation {
  return {
    name,
    ifindex,
    kind: 'veth',
    mac: '00:00:00:00:00:00',
    mtu: 1500,
    up: true,
    master: null,
    linkIndex: null,
    group: 0,
    addresses: [],
    ...extra,
  };
}

/** The kernel state a perfect apply of `spec` would leave. */
function converged(spec: NamespaceSpec): { own: NamespaceObservation; host: NamespaceObservation } {
  const own = new Map<string, LinkObservation>([['lo', link('lo', 1, { kind: null })]]);
  const host = new Map<string, LinkObservation>();
  spec.interfaces.forEach((v, i) => {
    own.set(v.name, link(v.name, 10 + i, { mac: v.mac, mtu: v.mtu, linkIndex: 100 + i, addresses: v.addresses }));
    host.set(v.peer, link(v.peer, 100 + i, { master: v.bridge, mtu: v.mtu, linkIndex: 10 + i, group: v.group ?? 0 }));
  });
  return {
    own: {
      name: spec.name,
      exists: true,
      broken: false,
      links: own,
      routes: [
        ...spec.routes.map((r) => ({
          destination: r.destination,
          protocol: 'static',
          nexthops: r.nexthops.map((h) => ({ via: h.via, dev: h.dev ?? 'qr-x' })),
        })),
        { destination: '10.10.1.0/24', protocol: 'kernel', nexthops: [{ via: null, dev: 'qr-x' }] },
      ],
      sysctls: new Map(spec.sysctls.map((x) => [x.key, x.value])),
      nft: null,
    },
    host: { name: 'nlu-host', exists: true, broken: false, links: host, routes: [], sysctls: new Map(), nft: null },
  };
}

const lines = (actions: LinkAction[]): string[] =>
  actions.map((a) =>
    a.kind === 'ip' ? `${a.ns === 'nlu-host' ? 'host' : 'ns'}: ${a.line}` : a.kind === 'sysctl' ? `sysctl ${a.key}` : a.kind,
  );

describe('links diff', () => {
  it('is empty for a converged namespace', () => {
    const { own, host } = converged(router.namespace);
    expect(diffNamespace(router.namespace, own, host, 'nlu-host')).toEqual([]);
  });

  it('repairs only what drifted: a lost address, a foreign extra one, a sysctl', () => {
    const { own, host } = converged(router.namespace);
    const qg = router.namespace.interfaces.find((i) => i.name.startsWith('qg-'));
    if (!qg) throw new Error('fixture');
    const links = new Map(own.links);
    links.set(qg.name, { ...(links.get(qg.name) as LinkObservation), addresses: ['203.0.113.10/24', '203.0.113.99/32'] });
    const sysctls = new Map(own.sysctls);
    sysctls.set('net.ipv4.ip_forward', '0');
    expect(lines(diffNamespace(router.namespace, { ...own, links, sysctls }, host, 'nlu-host'))).toEqual([
      `ns: addr del 203.0.113.99/32 dev ${qg.name}`,
      `ns: addr add 203.0.113.20/32 dev ${qg.name}`,
      'sysctl net.ipv4.ip_forward',
    ]);
  });

  it('re-creates a pair whose peer is gone (namespace deleted under it) and removes stale devices and routes', () => {
    const { host } = converged(router.namespace);
    const fresh: NamespaceObservation = {
      name: router.namespace.name,
      exists: false,
      broken: false,
      links: new Map(),
      routes: [],
      sysctls: new Map(),
      nft: null,
    };
    const actions = diffNamespace(router.namespace, fresh, host, 'nlu-host');
    expect(actions[0]).toEqual({ kind: 'netns-add', ns: router.namespace.name });
    const l = lines(actions);
    for (const v of router.namespace.interfaces) {
      expect(l).toContain(`host: link del ${v.peer}`);
      expect(l.some((x) => x.startsWith(`host: link add ${v.peer} mtu 1500 type veth peer name ${v.name} address ${v.mac}`))).toBe(true);
    }

    const { own } = converged(router.namespace);
    const links = new Map(own.links);
    links.set('qr-deadbeef-00', link('qr-deadbeef-00', 99));
    links.set('eth9', link('eth9', 98));
    const routes = [...own.routes, { destination: '10.77.0.0/16', protocol: 'static', nexthops: [{ via: '10.10.1.5', dev: 'qr-x' }] }];
    expect(lines(diffNamespace(router.namespace, { ...own, links, routes }, host, 'nlu-host'))).toEqual([
      'ns: link del qr-deadbeef-00',
      'ns: route del 10.77.0.0/16 proto static',
    ]);
  });

  it('replaces a namespace that exists by name but cannot be entered (crash during netns add)', () => {
    const { host } = converged(router.namespace);
    const broken: NamespaceObservation = {
      name: router.namespace.name,
      exists: true,
      broken: true,
      links: new Map(),
      routes: [],
      sysctls: new Map(),
      nft: null,
    };
    const actions = diffNamespace(router.namespace, broken, host, 'nlu-host');
    expect(actions.slice(0, 2)).toEqual([
      { kind: 'netns-del', ns: router.namespace.name },
      { kind: 'netns-add', ns: router.namespace.name },
    ]);
  });

  it('batches: one script with a constant number of commands however many objects', () => {
    const big = compileHostState(largeTopology(20).topology, HOST, opts);
    const count = (spec: NamespaceSpec): number => {
      const empty: NamespaceObservation = {
        name: spec.name,
        exists: false,
        broken: false,
        links: new Map(),
        routes: [],
        sysctls: new Map(),
        nft: null,
      };
      const host: NamespaceObservation = { ...empty, name: 'nlu-host', exists: true };
      const actions = diffNamespace(spec, empty, host, 'nlu-host');
      return renderScript(actions)
        .render()
        .split('\n')
        .filter((x) => x.startsWith('ip ')).length;
    };
    const small = count(router.namespace);
    const many: NamespaceSpec = {
      ...router.namespace,
      interfaces: router.namespace.interfaces.map((i) => ({
        ...i,
        addresses: [...i.addresses, ...Array.from({ length: 50 }, (_, n) => `198.51.100.${n + 1}/32`)],
      })),
    };
    expect(count(many)).toBe(small);
    expect(count(big.routers[0]?.namespace as NamespaceSpec)).toBe(small);
  });
});

describe('nat diff', () => {
  const nat = router.nat;
  if (!nat) throw new Error('fixture');
  // What `nft -j list table` prints for a table applied from `nat`.
  const json = {
    nftables: [
      { metainfo: {} },
      { table: { family: 'ip', name: 'netledger-nat' } },
      ...nat.chains.map((c) => ({
        chain: { name: c.name, ...(c.hook ? { type: c.hook.type, hook: c.hook.hook, prio: c.hook.priority, policy: 'accept' } : {}) },
      })),
      ...nat.chains.flatMap((c) =>
        c.rules.map((r) => ({
          rule: {
            chain: c.name,
            comment: r.id,
            expr:
              c.name === 'fip_dnat'
                ? [
                    { match: { op: '==', left: { payload: { protocol: 'ip', field: 'daddr' } }, right: '203.0.113.20' } },
                    { dnat: { addr: '10.10.1.11' } },
                  ]
                : [],
          },
        })),
      ),
    ],
  };
  const observed = (j: unknown): NatObservation => ({ namespace: 'ns', namespaceExists: true, ...parseNftTable(j) });

  it('is empty when the table matches, replaces it when a rule is missing', () => {
    expect(diffNat(nat, observed(json))).toEqual([]);
    const missing = { nftables: json.nftables.filter((x) => !('rule' in x && x.rule.chain === 'fip_dnat')) };
    expect(diffNat(nat, observed(missing)).map((a) => a.kind)).toEqual(['replace']);
    expect(diffNat(nat, observed(null)).map((a) => a.kind)).toEqual(['replace']);
  });

  it('flushes conntrack for a floating IP that went away', () => {
    const without = compileHostState(withFip(s, false), HOST, opts).routers[0]?.nat ?? null;
    expect(diffNat(without, observed(json))).toEqual([
      { kind: 'replace', ruleset: without?.ruleset },
      { kind: 'flush-conntrack', addresses: ['203.0.113.20'] },
    ]);
    expect(diffNat(null, observed(json)).map((a) => a.kind)).toEqual(['delete-table', 'flush-conntrack']);
  });
});

describe('dhcp diff', () => {
  const spec = state.networks.find((n) => n.dhcp)?.dhcp?.dnsmasq;
  if (!spec) throw new Error('fixture');
  const healthy: DhcpObservation = {
    namespace: 'ns',
    dir: spec.dir,
    dirExists: true,
    files: new Map(spec.files.map((f) => [f.name, f.content])),
    process: { pid: 4242, args: spec.args, inNamespace: true },
  };

  it('does nothing when files and process match', () => {
    expect(diffDhcp(spec, healthy)).toEqual([]);
  });

  it('SIGHUPs on a hosts change, restarts on an args change or a dead/orphaned dnsmasq', () => {
    const files = new Map(healthy.files);
    files.set('host', 'old\n');
    expect(diffDhcp(spec, { ...healthy, files }).map((a) => a.kind)).toEqual(['write', 'reload']);
    expect(diffDhcp(spec, { ...healthy, process: { pid: 4242, args: ['--other'], inNamespace: true } }).map((a) => a.kind)).toEqual([
      'stop',
      'start',
    ]);
    expect(diffDhcp(spec, { ...healthy, process: null }).map((a) => a.kind)).toEqual(['start']);
    expect(diffDhcp(spec, { ...healthy, process: { pid: 4242, args: spec.args, inNamespace: false } }).map((a) => a.kind)).toEqual([
      'stop',
      'start',
    ]);
    expect(diffDhcp(null, healthy).map((a) => a.kind)).toEqual(['stop', 'remove-dir']);
  });
});
