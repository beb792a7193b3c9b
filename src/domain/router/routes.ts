import { domainError, invalidField, isDomainError, type DomainError } from '../errors.js';
import { cidrContains, cidrOf, formatCidr, formatIp, parseCidr, parseIp } from '../ipam/index.js';
import type { Route } from './events.js';
import type { Router } from './state.js';

export const DEFAULT_MAX_ROUTES = 30;

interface Connected {
  readonly cidr: string;
  readonly ip: string;
}

/** Every prefix the router has an address on: its interfaces and its gateway port. */
export function connectedPrefixes(router: Pick<Router, 'interfaces' | 'gateway'>): readonly Connected[] {
  return [
    ...router.interfaces.map((i) => ({ cidr: i.cidr, ip: i.ip })),
    ...(router.gateway?.externalFixedIps ?? []).map((f) => ({ cidr: f.cidr, ip: f.ipAddress })),
  ];
}

/** Routes (normalised) whose nexthop lies on none of `connected`. */
export function unreachableRoutes(routes: readonly Route[], connected: readonly Connected[]): readonly Route[] {
  return routes.filter((r) => {
    const nexthop = parseIp(r.nexthop);
    return !nexthop || !connected.some((c) => cidrContains(cidrOf(c.cidr), nexthop));
  });
}

function invalidRoutes(route: Route, why: string): DomainError {
  return domainError('InvalidRoutes', `Invalid format for routes: ${JSON.stringify([route])}, ${why}`, {
    field: ['routes'],
    details: { route },
  });
}

function normaliseRoute(route: Route): Route | DomainError {
  const destination = parseCidr(route.destination, { allowZeroPrefix: true });
  if (isDomainError(destination)) return domainError(destination.code, destination.message, { field: ['routes', 'destination'] });
  const nexthop = parseIp(route.nexthop);
  if (!nexthop) return invalidField(['routes', 'nexthop'], `'${route.nexthop}' is not a valid IP address.`);
  const normal = { destination: formatCidr(destination), nexthop: formatIp(nexthop) };
  return destination.version === nexthop.version ? normal : invalidRoutes(normal, 'the nexthop and destination IP versions differ');
}

/** Normalises and validates a full replacement set of extra routes against the router's prefixes. */
export function validateRoutes(requested: readonly Route[], router: Router, maxRoutes: number): readonly Route[] | DomainError {
  const routes: Route[] = [];
  for (const route of requested) {
    const normal = normaliseRoute(route);
    if (isDomainError(normal)) return normal;
    if (!routes.some((r) => r.destination === normal.destination && r.nexthop === normal.nexthop)) routes.push(normal);
  }
  if (routes.length > maxRoutes) {
    return domainError(
      'RoutesExhausted',
      `Unable to complete operation for ${router.id}. The number of routes exceeds the maximum ${maxRoutes}.`,
      {
        field: ['routes'],
        details: { quota: maxRoutes },
      },
    );
  }
  const connected = connectedPrefixes(router);
  const [unreachable] = unreachableRoutes(routes, connected);
  if (unreachable) return invalidRoutes(unreachable, 'the nexthop is not connected with router');
  const ownAddress = routes.find((r) => connected.some((c) => c.ip === r.nexthop));
  if (ownAddress) return invalidRoutes(ownAddress, 'the nexthop is used by router');
  return routes;
}
