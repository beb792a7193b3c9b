import type { FirewallGroup, FirewallGroupStatus } from '../domain/firewall/index.js';
import type { FloatingIp, FloatingIpStatus } from '../domain/floating-ip/index.js';
import { isRouterPort, type Port, type PortStatus } from '../domain/port/index.js';
import type { HaState, Router } from '../domain/router/index.js';
import type { UnitKey } from '../projections/desired-state/index.js';
import { routerPortIds, type ResourceDoc } from '../projections/topology/index.js';

/** How a reconcile key stands after a pass. */
export type KeyHealth = { readonly state: 'ok' } | { readonly state: 'pending' } | { readonly state: 'failed'; readonly error: string };

export interface StatusChange<S extends string> {
  readonly id: string;
  readonly status: S;
  readonly reason: string | null;
}

const MAX_REASON = 1000;

interface Inputs {
  readonly host: string;
  /** The keys this host's desired state has. */
  readonly keys: ReadonlySet<UnitKey>;
  readonly health: (key: UnitKey) => KeyHealth;
  /**
   * This host's keepalived state of an HA router, as it last reported it (null: none yet). The
   * agent's own view: the log's copy on the router reaches the agent only with its next rebuild.
   */
  readonly haState?: (routerId: string) => HaState | null;
}

/** ACTIVE / ERROR from the key's health; null while it is still being worked on or not ours. */
function fromHealth<S extends string>(inputs: Inputs, key: UnitKey, active: S, error: S): { status: S; reason: string | null } | null {
  if (!inputs.keys.has(key)) return null;
  const h = inputs.health(key);
  if (h.state === 'pending') return null;
  return h.state === 'ok' ? { status: active, reason: null } : { status: error, reason: h.error.slice(0, MAX_REASON) };
}

function changed<S extends string>(
  id: string,
  current: { status: string; statusReason: string | null },
  want: { status: S; reason: string | null } | null,
): StatusChange<S>[] {
  if (!want || (current.status === want.status && current.statusReason === want.reason)) return [];
  return [{ id, status: want.status, reason: want.reason }];
}

/**
 * The statuses this host's agent should report for the ports bound to it: ACTIVE once the key
 * that wires the port (its router, else its network) has converged, ERROR with the key's error
 * when applying it failed, DOWN when the port or its router is administratively down. Only
 * differences from what the read model holds come back, so a converged host reports nothing.
 */
export function portStatusChanges(
  inputs: Inputs,
  ports: readonly ResourceDoc<Port>[],
  routers: readonly ResourceDoc<Router>[],
): StatusChange<PortStatus>[] {
  const routerOfPort = new Map<string, Router>();
  for (const r of routers) for (const id of routerPortIds(r.doc)) routerOfPort.set(id, r.doc);
  return ports.flatMap(({ id, doc: p }) => {
    if (p.bindingHost !== inputs.host) return [];
    const router = routerOfPort.get(id);
    if (isRouterPort(p.deviceOwner) && !router) return [];
    if (!p.adminStateUp || router?.adminStateUp === false) return changed<PortStatus>(id, p, { status: 'DOWN', reason: null });
    const key: UnitKey = router ? `router:${router.id}` : `network:${p.networkId}`;
    return changed(id, p, fromHealth<PortStatus>(inputs, key, 'ACTIVE', 'ERROR'));
  });
}

/**
 * Floating IPs of routers built here: ACTIVE once the router's NAT is in place, ERROR when it
 * failed. A floating IP without a port is DOWN (as Neutron reports it); any agent may say so.
 * A router built on several hosts has one speaker per floating IP, so one host's failure is not
 * overwritten by another's success, nor the other way round: for a distributed router the host
 * the port is bound to, the only one that translates it (Neutron's DVR agent there reports it);
 * for an HA router the host whose keepalived is MASTER, the one holding the address.
 */
export function floatingIpStatusChanges(
  inputs: Inputs,
  floatingIps: readonly ResourceDoc<FloatingIp>[],
  ports: readonly ResourceDoc<Port>[],
  routers: readonly ResourceDoc<Router>[],
): StatusChange<FloatingIpStatus>[] {
  const routerOf = new Map(routers.map((r) => [r.id, r.doc]));
  const hostOf = new Map(ports.map((p) => [p.id, p.doc.bindingHost]));
  return floatingIps.flatMap(({ id, doc: f }) => {
    if (!f.association) return changed<FloatingIpStatus>(id, f, { status: 'DOWN', reason: null });
    const router = routerOf.get(f.association.routerId);
    if (router?.distributed === true && hostOf.get(f.association.portId) !== inputs.host) return [];
    if (router?.ha === true && router.distributed !== true && inputs.haState?.(router.id) !== 'active') return [];
    return changed(id, f, fromHealth<FloatingIpStatus>(inputs, `router:${f.association.routerId}`, 'ACTIVE', 'ERROR'));
  });
}

/** A firewall group's status as the agent reports it, for the revision it applied. */
export interface FirewallGroupStatusChange {
  readonly id: string;
  readonly status: Extract<FirewallGroupStatus, 'ACTIVE' | 'ERROR'>;
  readonly revision: number;
}

/**
 * Firewall groups applied in routers built here: ACTIVE once every such router key has converged,
 * ERROR when one failed (FWaaS's agent acknowledging the rules). A group this host applies
 * nothing of is another agent's to report; INACTIVE and DOWN groups are the server's.
 */
export function firewallGroupStatusChanges(
  inputs: Inputs,
  groups: readonly ResourceDoc<FirewallGroup>[],
  routers: readonly { readonly key: UnitKey; readonly firewall?: { readonly groups: readonly { readonly id: string }[] } }[],
): FirewallGroupStatusChange[] {
  const keysOf = new Map<string, UnitKey[]>();
  for (const r of routers) for (const g of r.firewall?.groups ?? []) keysOf.set(g.id, [...(keysOf.get(g.id) ?? []), r.key]);
  return groups.flatMap(({ id, revision, doc: g }) => {
    if (g.status === 'INACTIVE' || g.status === 'DOWN') return [];
    const health = (keysOf.get(id) ?? []).map((k) => fromHealth(inputs, k, 'ACTIVE' as const, 'ERROR' as const));
    if (health.length === 0 || health.includes(null)) return [];
    const status = health.some((h) => h?.status === 'ERROR') ? 'ERROR' : 'ACTIVE';
    return status === g.status ? [] : [{ id, status, revision }];
  });
}
