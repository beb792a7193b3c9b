import { readdir } from 'node:fs/promises';
import {
  OWNED_NAMESPACE_DEVICE_PREFIXES,
  keyOfNamespace,
  type HostUnit,
  type NamespaceSpec,
  type RouteSpec,
  type UnitKey,
} from '../../projections/desired-state/index.js';
import { dhcpNamespace, fipNamespace, routerNamespace, snatNamespace } from '../../projections/desired-state/names.js';
import { idOfKey, type AgentConfig } from '../config.js';
import type { Driver } from '../driver.js';
import { namespaceInode, pidsInNamespaces, terminate } from '../procs.js';
import type { LinkObservation, NamespaceObservation, RouteObservation } from '../probe.js';
import { Script } from '../script.js';

/**
 * Namespaces, bridges, veth pairs, addresses, routes and sysctls. Observed through the shared
 * `ip -j` probe; applied as one script per key whose `ip -batch` blocks carry all the objects.
 */

/** Apply order. Deletions first so re-creations never hit "File exists". */
const enum Phase {
  DeleteNamespace = 0,
  DeleteInNamespace = 1,
  DeleteInHost = 2,
  AddNamespace = 3,
  SetupHost = 4,
  SetupNamespace = 5,
  Sysctl = 6,
}

export type LinkAction =
  | { readonly kind: 'netns-add'; readonly ns: string }
  | { readonly kind: 'netns-del'; readonly ns: string }
  | { readonly kind: 'ip'; readonly phase: Phase; readonly ns: string; readonly line: string }
  | { readonly kind: 'sysctl'; readonly ns: string; readonly key: string; readonly value: string };

export interface LinksObservation {
  readonly host: NamespaceObservation;
  /** The key's own namespace (qrouter/qdhcp); absent for the host key. */
  readonly own: NamespaceObservation | null;
}

const phaseOf = (a: LinkAction): number =>
  a.kind === 'netns-del'
    ? Phase.DeleteNamespace
    : a.kind === 'netns-add'
      ? Phase.AddNamespace
      : a.kind === 'sysctl'
        ? Phase.Sysctl
        : a.phase;

function ownNamespace(config: AgentConfig, key: UnitKey): string | null {
  if (key === 'host') return null;
  if (key.startsWith('snat:')) return snatNamespace(config, idOfKey(key));
  if (key.startsWith('fip:')) return fipNamespace(config, idOfKey(key));
  return key.startsWith('router:') ? routerNamespace(config, idOfKey(key)) : dhcpNamespace(config, idOfKey(key));
}

export const ROUTER_PROBE_SYSCTLS = [
  'net.ipv4.conf.all.arp_announce',
  'net.ipv4.conf.all.arp_ignore',
  'net.ipv4.ip_forward',
  'net.ipv6.conf.all.forwarding',
  'net.netfilter.nf_conntrack_tcp_be_liberal',
  // Per device: the DHCP port's interface must not autoconfigure from router advertisements.
  'net.ipv6.conf.*.accept_ra',
  // HA routers (keepalived.ts) turn IPv6 off.
  'net.ipv6.conf.all.disable_ipv6',
  'net.ipv6.conf.default.disable_ipv6',
] as const;

export const linksDriver: Driver<LinksObservation, LinkAction> = {
  name: 'links',
  probeSysctls: ROUTER_PROBE_SYSCTLS,

  async observe(keys, snapshot, ctx) {
    const out = new Map<UnitKey, LinksObservation>();
    const host = snapshot.get(ctx.config.hostNamespace);
    if (!host) throw new Error('host namespace missing from probe');
    for (const key of keys) {
      const ns = ownNamespace(ctx.config, key);
      const own = ns === null ? null : snapshot.get(ns);
      if (own === undefined) throw new Error(`namespace ${ns} missing from probe`);
      out.set(key, { host, own });
    }
    return out;
  },

  diff(key, unit, observed, ctx) {
    if (key === 'host') return diffHost(unit, observed.host, ctx.config);
    const own = observed.own;
    if (!own) return [];
    let spec: NamespaceSpec | null = null;
    const actions: LinkAction[] = [];
    if (unit?.kind === 'network') {
      actions.push(...diffBridge(unit, observed.host, ctx.config.hostNamespace));
      spec = unit.network.dhcp?.namespace ?? null;
    } else if (unit?.kind === 'router') {
      spec = unit.router.namespace;
    } else if (unit?.kind === 'snat') {
      spec = unit.snat.namespace;
    } else if (unit?.kind === 'fip') {
      spec = unit.fip.namespace;
    }
    // An HA router's VIPs come and go with its keepalived's VRRP state: they are not ours to remove.
    const vips = unit?.kind === 'router' ? (unit.router.keepalived?.vips ?? []) : [];
    const foreign = new Set(vips.map((v) => `${v.dev} ${v.address}`));
    // A fip namespace's routes to floating IPs go through the routers' fpr- ends: theirs (dvr-router.ts).
    const foreignRoute = unit?.kind === 'fip' ? (r: RouteObservation) => r.nexthops.some((h) => h.dev?.startsWith('fpr-')) : undefined;
    if (spec) actions.push(...diffNamespace(spec, own, observed.host, ctx.config.hostNamespace, foreign, foreignRoute));
    else if (own.exists) actions.push({ kind: 'netns-del', ns: own.name });
    return actions;
  },

  async apply(_key, actions, ctx) {
    const sorted = [...actions].sort((a, b) => phaseOf(a) - phaseOf(b));
    // Processes keep a deleted namespace (and its veth peers) alive: stop them first, by PID.
    for (const a of sorted) {
      if (a.kind !== 'netns-del') continue;
      const ino = await namespaceInode(a.ns);
      if (ino === null) continue;
      for (const pid of await pidsInNamespaces(new Set([ino]))) {
        await ctx.exec.mutate(`kill ${pid} in ${a.ns}`, () => terminate(pid));
      }
    }
    const script = renderScript(sorted);
    if (!script.empty) {
      await ctx.exec.run('sh', ['-c', script.render()], { mutating: true });
    }
  },

  async discover(ctx) {
    let names: string[] = [];
    try {
      names = await readdir('/run/netns');
    } catch {
      return [];
    }
    return names.flatMap((n) => {
      const key = keyOfNamespace(ctx.config, n);
      return key === null ? [] : [key];
    });
  },

  describe(a) {
    switch (a.kind) {
      case 'netns-add':
        return `netns add ${a.ns}`;
      case 'netns-del':
        return `netns del ${a.ns}`;
      case 'sysctl':
        return `${a.ns}: sysctl ${a.key}=${a.value}`;
      case 'ip':
        return `${a.ns}: ${a.line}`;
    }
  },
};

export function renderScript(sorted: readonly LinkAction[]): Script {
  const script = new Script();
  let i = 0;
  while (i < sorted.length) {
    const a = sorted[i] as LinkAction;
    if (a.kind === 'netns-add') {
      script.command(['ip', 'netns', 'add', a.ns]);
      i++;
    } else if (a.kind === 'netns-del') {
      script.command(['ip', 'netns', 'del', a.ns]);
      i++;
    } else if (a.kind === 'sysctl') {
      const group: string[] = [];
      while (i < sorted.length) {
        const b = sorted[i] as LinkAction;
        if (b.kind !== 'sysctl' || b.ns !== a.ns) break;
        group.push(`${b.key}=${b.value}`);
        i++;
      }
      script.command(['ip', 'netns', 'exec', a.ns, 'sysctl', '-q', '-w', ...group]);
    } else {
      const lines: string[] = [];
      while (i < sorted.length) {
        const b = sorted[i] as LinkAction;
        if (b.kind !== 'ip' || b.ns !== a.ns || b.phase !== a.phase) break;
        lines.push(b.line);
        i++;
      }
      // Deletions may race with the kernel tearing a pair down: keep going, re-observe decides.
      const deleting = a.phase === Phase.DeleteInHost || a.phase === Phase.DeleteInNamespace;
      script.commandWithInput(['ip', ...(deleting ? ['-force'] : []), '-n', a.ns, '-batch', '-'], lines, deleting);
    }
  }
  return script;
}

const ip = (phase: Phase, ns: string, line: string): LinkAction => ({ kind: 'ip', phase, ns, line });

function diffHost(unit: HostUnit | undefined, host: NamespaceObservation, config: AgentConfig): LinkAction[] {
  const ns = config.hostNamespace;
  const actions: LinkAction[] = [];
  if (host.broken) actions.push({ kind: 'netns-del', ns });
  if (!host.exists || host.broken) actions.push({ kind: 'netns-add', ns });
  if (!host.links.get('lo')?.up) actions.push(ip(Phase.SetupNamespace, ns, 'link set lo up'));
  const wanted = new Set(unit?.kind === 'host' ? unit.bridges : []);
  for (const l of host.links.values()) {
    if (l.kind === 'bridge' && l.name.startsWith('brq') && !wanted.has(l.name)) {
      actions.push(ip(Phase.DeleteInHost, ns, `link del ${l.name}`));
    }
  }
  return actions;
}

function diffBridge(unit: HostUnit & { kind: 'network' }, host: NamespaceObservation, hostNs: string): LinkAction[] {
  const actions: LinkAction[] = [];
  const { bridge, computePorts } = unit.network;
  const observed = host.links.get(bridge.name);
  if (!observed || observed.kind !== 'bridge') {
    if (observed) actions.push(ip(Phase.DeleteInHost, hostNs, `link del ${bridge.name}`));
    actions.push(ip(Phase.SetupHost, hostNs, `link add ${bridge.name} type bridge`));
    actions.push(ip(Phase.SetupHost, hostNs, `link set ${bridge.name} up`));
  } else if (!observed.up) {
    actions.push(ip(Phase.SetupHost, hostNs, `link set ${bridge.name} up`));
  }
  // Instance taps are plugged by the compute side; like the L2 agent, only keep them in the bridge.
  for (const p of computePorts) {
    const tap = host.links.get(p.tap);
    if (!tap) continue;
    if (tap.master !== bridge.name) actions.push(ip(Phase.SetupHost, hostNs, `link set ${p.tap} master ${bridge.name}`));
    if (tap.up !== p.adminStateUp) actions.push(ip(Phase.SetupHost, hostNs, `link set ${p.tap} ${p.adminStateUp ? 'up' : 'down'}`));
  }
  return actions;
}

function isPaired(tap: LinkObservation | undefined, inner: LinkObservation | undefined): boolean {
  return (
    tap !== undefined &&
    inner !== undefined &&
    tap.kind === 'veth' &&
    inner.kind === 'veth' &&
    tap.linkIndex === inner.ifindex &&
    inner.linkIndex === tap.ifindex
  );
}

export function diffNamespace(
  spec: NamespaceSpec,
  observed: NamespaceObservation,
  host: NamespaceObservation,
  hostNs: string,
  /** `<device> <ip/prefixlen>` another driver owns (keepalived's VIPs): never deleted here. */
  foreign: ReadonlySet<string> = new Set(),
  /** Static routes another driver owns: never deleted here. */
  foreignRoute: (r: RouteObservation) => boolean = () => false,
): LinkAction[] {
  const ns = spec.name;
  const actions: LinkAction[] = [];
  let own = observed;
  if (own.broken) {
    actions.push({ kind: 'netns-del', ns });
    own = { ...own, exists: false, broken: false };
  }
  const fresh = !own.exists;
  if (fresh) actions.push({ kind: 'netns-add', ns });
  if (!own.links.get('lo')?.up) actions.push(ip(Phase.SetupNamespace, ns, 'link set lo up'));

  const wantedDevices = new Set(spec.interfaces.map((i) => i.name));
  for (const l of own.links.values()) {
    if (OWNED_NAMESPACE_DEVICE_PREFIXES.some((p) => l.name.startsWith(p)) && !wantedDevices.has(l.name)) {
      actions.push(ip(Phase.DeleteInNamespace, ns, `link del ${l.name}`));
    }
  }

  for (const v of spec.interfaces) {
    const tap = host.links.get(v.peer);
    const inner = own.links.get(v.name);
    if (!isPaired(tap, inner)) {
      // Half a pair, or a pair whose other end sits in a namespace that was deleted: start over.
      if (tap) actions.push(ip(Phase.DeleteInHost, hostNs, `link del ${v.peer}`));
      if (inner) actions.push(ip(Phase.DeleteInNamespace, ns, `link del ${v.name}`));
      actions.push(
        ip(
          Phase.SetupHost,
          hostNs,
          // The group from birth: a distributed router's first frames (MLD, DAD) must already match the DVR rewrite.
          `link add ${v.peer} mtu ${v.mtu}${v.group ? ` group ${v.group}` : ''} type veth peer name ${v.name} address ${v.mac} mtu ${v.mtu} netns ${ns}`,
        ),
        ip(Phase.SetupHost, hostNs, `link set ${v.peer} master ${v.bridge} up`),
        ip(Phase.SetupNamespace, ns, `link set ${v.name} up`),
        ...v.addresses.map((a) => ip(Phase.SetupNamespace, ns, `addr add ${a} dev ${v.name}`)),
      );
      continue;
    }
    const t = tap as LinkObservation;
    const n = inner as LinkObservation;
    const hostSet: string[] = [];
    if (t.master !== v.bridge) hostSet.push(`master ${v.bridge}`);
    if (t.mtu !== v.mtu) hostSet.push(`mtu ${v.mtu}`);
    if (t.group !== (v.group ?? 0)) hostSet.push(`group ${v.group ?? 0}`);
    if (!t.up) hostSet.push('up');
    if (hostSet.length > 0) actions.push(ip(Phase.SetupHost, hostNs, `link set ${v.peer} ${hostSet.join(' ')}`));
    const innerSet: string[] = [];
    if (n.mac !== v.mac) innerSet.push(`address ${v.mac}`);
    if (n.mtu !== v.mtu) innerSet.push(`mtu ${v.mtu}`);
    if (!n.up) innerSet.push('up');
    if (innerSet.length > 0) actions.push(ip(Phase.SetupNamespace, ns, `link set ${v.name} ${innerSet.join(' ')}`));
    const have = new Set(n.addresses);
    const want = new Set(v.addresses);
    for (const a of n.addresses)
      if (!want.has(a) && !foreign.has(`${v.name} ${a}`)) actions.push(ip(Phase.SetupNamespace, ns, `addr del ${a} dev ${v.name}`));
    for (const a of v.addresses) if (!have.has(a)) actions.push(ip(Phase.SetupNamespace, ns, `addr add ${a} dev ${v.name}`));
  }

  const wantedRoutes = new Map(spec.routes.map((r) => [r.destination, r]));
  const ours = own.routes.filter((r) => r.protocol === 'static' && !foreignRoute(r));
  for (const r of ours) {
    if (!wantedRoutes.has(r.destination)) actions.push(ip(Phase.DeleteInNamespace, ns, `route del ${r.destination} proto static`));
  }
  for (const r of spec.routes) {
    const have = ours.find((o) => o.destination === r.destination);
    if (!have || !routeMatches(r, have)) actions.push(ip(Phase.SetupNamespace, ns, routeReplace(r)));
  }

  for (const s of spec.sysctls) {
    if (own.sysctls.get(s.key) !== s.value) actions.push({ kind: 'sysctl', ns, key: s.key, value: s.value });
  }
  return actions;
}

function routeMatches(want: RouteSpec, have: RouteObservation): boolean {
  if (want.nexthops.length !== have.nexthops.length) return false;
  const remaining = [...have.nexthops];
  for (const h of want.nexthops) {
    const i = remaining.findIndex((o) => o.via === h.via && (h.dev === null || o.dev === h.dev));
    if (i < 0) return false;
    remaining.splice(i, 1);
  }
  return true;
}

function hop(h: RouteSpec['nexthops'][number]): string {
  return [h.via !== null ? `via ${h.via}` : '', h.dev !== null ? `dev ${h.dev}` : ''].filter(Boolean).join(' ');
}

function routeReplace(r: RouteSpec): string {
  const [first] = r.nexthops;
  if (r.nexthops.length === 1 && first) {
    return `route replace ${r.destination} ${hop(first)}${first.via === null ? ' scope link' : ''} proto static`;
  }
  return `route replace ${r.destination} proto static ${r.nexthops.map((h) => `nexthop ${hop(h)}`).join(' ')}`;
}
