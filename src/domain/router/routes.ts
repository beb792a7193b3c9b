import { domainError, type DomainError } from '../errors.js';
import { cidrContains, parseCidr, parseIp } from './cidr.js';
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

/** Routes whose nexthop no longer lies on any of `connected`. */
export function unreachableRoutes(routes: readonly Route[], connected: readonly Connected[]): readonly Route[] {
  return routes.filter((r) => !connected.some((c) => cidrContains(c.cidr, r.nexthop)));
}

function invalidRoutes(route: Route, why: string): DomainError {
  return domainError('InvalidRoutes', `Invalid format for routes: ${JSON.stringify([route])}, ${why}`, { field: ['routes'], details: { route } });
}

/** Normalises and validates a full replacement set of extra routes against the router's prefixes. */
export function validateRoutes(requested: readonly Route[], router: Router, maxRoutes: number): readonly Route[] | DomainError {
  const routes: Route[] = [];
  for (const route of requested) {
    const destination = parseCidr(route.destination);
    if (!destination) return domainError('InvalidInput', `Invalid input for routes: '${route.destination}' is not a valid IP subnet`, { field: ['routes', 'destination'] });
    const nexthop = parseIp(route.nexthop);
    if (!nexthop) return domainError('InvalidInput', `Invalid input for routes: '${route.nexthop}' is not a valid IP address`, { field: ['routes', 'nexthop'] });
    const normal = { destination: destination.cidr, nexthop: nexthop.address };
    if (destination.version !== nexthop.version) return invalidRoutes(normal, 'the nexthop and destination IP versions differ');
    if (!routes.some((r) => r.destination === normal.destination && r.nexthop === normal.nexthop)) routes.push(normal);
  }
  if (routes.length > maxRoutes) {
    return domainError('RoutesExhausted', `Unable to complete operation for ${router.id}. The number of routes exceeds the maximum ${maxRoutes}.`, {
      field: ['routes'],
      details: { quota: maxRoutes },
    });
  }
  const connected = connectedPrefixes(router);
  const [unreachable] = unreachableRoutes(routes, connected);
  if (unreachable) return invalidRoutes(unreachable, 'the nexthop is not connected with router');
  const ownAddress = routes.find((r) => connected.some((c) => c.ip === r.nexthop));
  if (ownAddress) return invalidRoutes(ownAddress, 'the nexthop is used by router');
  return routes;
}
