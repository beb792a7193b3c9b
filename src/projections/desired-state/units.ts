import type { DvrHostSpec, FipUnit, HostState, SnatUnit, LoadBalancerUnit, NetworkUnit, RouterUnit, UnitKey } from './host-state.js';

export type HostUnit =
  | {
      readonly kind: 'host';
      readonly key: 'host';
      readonly hostNamespace: string;
      readonly bridges: readonly string[];
      readonly dvr?: DvrHostSpec;
    }
  | { readonly kind: 'network'; readonly key: `network:${string}`; readonly network: NetworkUnit }
  | { readonly kind: 'router'; readonly key: `router:${string}`; readonly router: RouterUnit }
  | { readonly kind: 'lb'; readonly key: `lb:${string}`; readonly loadBalancer: LoadBalancerUnit }
  | { readonly kind: 'snat'; readonly key: `snat:${string}`; readonly snat: SnatUnit }
  | { readonly kind: 'fip'; readonly key: `fip:${string}`; readonly fip: FipUnit };

/** The reconcile units of a host state, in apply order: host, then networks, then routers. */
export function hostStateUnits(state: HostState): Map<UnitKey, HostUnit> {
  const units = new Map<UnitKey, HostUnit>();
  units.set('host', {
    kind: 'host',
    key: 'host',
    hostNamespace: state.hostNamespace,
    bridges: state.networks.map((n) => n.bridge.name),
    ...(state.dvr ? { dvr: state.dvr } : {}),
  });
  for (const n of state.networks) units.set(n.key, { kind: 'network', key: n.key, network: n });
  for (const r of state.routers) units.set(r.key, { kind: 'router', key: r.key, router: r });
  for (const lb of state.loadBalancers) units.set(lb.key, { kind: 'lb', key: lb.key, loadBalancer: lb });
  for (const u of state.snats ?? []) units.set(u.key, { kind: 'snat', key: u.key, snat: u });
  for (const u of state.fips ?? []) units.set(u.key, { kind: 'fip', key: u.key, fip: u });
  return units;
}

/** Units are built with a fixed key order, so their JSON is a stable fingerprint. */
export function unitFingerprint(unit: HostUnit | undefined): string {
  return unit === undefined ? '' : JSON.stringify(unit);
}

/** Order keys for a pass: the host first (everything lives in it), networks before routers (bridges). */
export function compareKeys(a: UnitKey, b: UnitKey): number {
  const rank = (k: UnitKey): number => (k === 'host' ? 0 : k.startsWith('network:') ? 1 : 2);
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}
