import { domainError, type DomainError } from '../errors.js';
import { ALL_KINDS, RESOURCE_KINDS, type ResourceKind } from '../kinds.js';
import type { Principal } from './principal.js';

/**
 * Who may see and use what: the one place, in the spirit of Neutron's policy.yaml. Every command
 * that names another resource, every list/get (through `projections/policy-sql.ts`, the same rules
 * as SQL) and every subscription asks these rules. A resource the caller may not see answers
 * exactly like a missing one (`<Kind>NotFound`); a visible resource the caller may not use this
 * way, or an admin-only attribute, answers `PolicyNotAuthorized` (Neutron's 403).
 */

/** The facts the rules look at: the owner and, for networks and their subnets, how the network is offered. */
export interface Owned {
  readonly project: string;
  /** Networks: shared with every project. Subnets: their network's. Firewall rules and policies: their own flag. */
  readonly shared?: boolean;
  /** Networks: external (floating IPs and router gateways). Subnets: their network's. */
  readonly external?: boolean;
}

/** The kinds a rule can be about: every resource kind (domain/kinds.ts). */
export type PolicyKind = ResourceKind;

/** rule:admin_or_owner */
export function isOwnerOrAdmin(p: Principal, r: Owned): boolean {
  return p.isAdmin || r.project === p.projectId;
}

/**
 * May `p` see `r` (get, list, history, events)? Admins all; members their own project's
 * resources, plus shared or external networks and their subnets (get_network: "rule:shared or
 * rule:external"), plus shared firewall rules and policies (FWaaS v2 "rule:shared_firewall_*").
 * Security groups, ports, routers, floating IPs, load balancers and firewall groups are never
 * shared here (no RBAC).
 */
export function maySee(p: Principal, kind: PolicyKind, r: Owned): boolean {
  if (isOwnerOrAdmin(p, r)) return true;
  switch (kind) {
    case 'network':
    case 'subnet':
      return Boolean(r.shared || r.external);
    case 'firewall_rule':
    case 'firewall_policy':
      return Boolean(r.shared);
    default:
      return false;
  }
}

/**
 * May `p` name `r` in a command (a port's security groups, a member's subnet, a VIP subnet, a
 * floating IP's network or port, a rule's remote group, a firewall group's ports and policies)?
 * Exactly what it may see: using something is never wider than seeing it. The stricter uses
 * (plugging a port, attaching a router interface) have their own rules below.
 */
export const mayReference = maySee;

/** Kinds whose read-model rows carry the `shared`/`external` facts `maySee` looks at. */
export const SHARABLE_KINDS: ReadonlySet<PolicyKind> = new Set(ALL_KINDS.filter((k) => RESOURCE_KINDS[k].sharable));

/**
 * Plugging a port into a network (create_port): the owner (and admins) anything; on another
 * project's shared network any port, but only the network owner picks exact addresses
 * (create_port:fixed_ips:ip_address); on another project's external network nothing (Neutron's
 * create_port is network-owner or admin there); a private one is not found.
 */
export function portNetworkAccess(
  p: Principal,
  network: Owned,
  request: { readonly picksAddress: boolean },
): 'allowed' | 'hidden' | DomainError {
  if (isOwnerOrAdmin(p, network)) return 'allowed';
  if (network.shared) return request.picksAddress ? policyNotAuthorized('create_port:fixed_ips:ip_address') : 'allowed';
  if (network.external) return policyNotAuthorized('create_port');
  return 'hidden';
}

/**
 * A router interface on a subnet (add_router_interface): the subnet's owner, or anyone when its
 * network is shared. An external network's subnet is visible to all but attachable by its owner only.
 */
export function mayAttachSubnet(p: Principal, subnet: Owned): boolean {
  return isOwnerOrAdmin(p, subnet) || Boolean(subnet.shared);
}

/**
 * Actions and attributes only an admin may use (Neutron's rules that say rule:admin_only, and
 * this project's own admin actions: tokens, quotas). The key is the rule name, which is
 * what `PolicyNotAuthorized` reports.
 */
export const ADMIN_ONLY_RULES = [
  'create_token',
  'update_quota',
  'delete_quota',
  'update_agent',
  'create_network:shared',
  'create_network:router:external',
  'create_network:provider:network_type',
  'update_network:shared',
  'update_network:router:external',
  'create_floatingip:floating_ip_address',
  'create_router:ha',
  'create_router:distributed',
  'update_router:ha',
  'update_router:distributed',
  'create_router:external_gateway_info:enable_snat',
  'create_router:external_gateway_info:external_fixed_ips',
  'update_port:mac_address',
] as const;
export type AdminOnlyRule = (typeof ADMIN_ONLY_RULES)[number];

/** Null when `p` may, else Neutron's 403. */
export function adminOnly(p: Principal | { readonly isAdmin: boolean }, rule: AdminOnlyRule): DomainError | null {
  return p.isAdmin ? null : policyNotAuthorized(rule);
}

/** Neutron's PolicyNotAuthorized: "(rule:<rule>) is disallowed by policy". */
export function policyNotAuthorized(rule: string, field?: string): DomainError {
  return domainError('PolicyNotAuthorized', `(rule:${rule}) is disallowed by policy`, {
    details: { rule },
    ...(field !== undefined ? { field: [field] } : {}),
  });
}

/**
 * May `p` read an event? Admins all; members the events recorded under their project or on a
 * stream their project owns, and the events of networks everyone may see.
 */
export function maySeeEvent(
  p: Principal,
  event: { readonly recordedBy: string | undefined; readonly streamKind: string; readonly owner: Owned | null },
): boolean {
  if (p.isAdmin || event.recordedBy === p.projectId) return true;
  if (!event.owner) return false;
  return event.owner.project === p.projectId || (event.streamKind === 'network' && maySee(p, 'network', event.owner));
}
