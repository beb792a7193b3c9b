import { domainError, type DomainError } from '../errors.js';
import { formatIp, parseIp, type IpAddress } from './address.js';
import { cidrContains, cidrRange, formatCidr, hostRange, type AddressRange, type Cidr } from './cidr.js';

/** A pool as the API and events carry it. */
export interface AllocationPool {
  readonly start: string;
  readonly end: string;
}

/** IPv4: the first host. IPv6: the subnet-router anycast address, i.e. the network address itself. */
export function defaultGateway(cidr: Cidr): IpAddress {
  return { version: cidr.version, value: cidr.version === 4 ? cidr.network + 1n : cidr.network };
}

/**
 * Why a gateway is unusable on this subnet, or null: Neutron's check_gateway_invalid_in_subnet.
 * A gateway outside the CIDR is allowed (Neutron dropped force_gateway_on_subnet); inside an IPv4
 * CIDR it may be neither the first nor the last address, so a /31 has no room for one (its
 * default .1 is refused) while a /32's default gateway lies outside it and is accepted.
 */
export function gatewayProblem(cidr: Cidr, gateway: IpAddress): DomainError | null {
  const text = formatIp(gateway);
  if (gateway.version !== cidr.version) {
    return domainError(
      'InvalidInput',
      `Invalid input for operation: Gateway IP version ${gateway.version} does not match subnet IP version ${cidr.version}.`,
      { field: ['gatewayIp'] },
    );
  }
  const { first, last } = cidrRange(cidr);
  if (cidr.version === 4 && cidrContains(cidr, gateway) && (gateway.value === first || gateway.value === last)) {
    return domainError('InvalidInput', `Invalid input for operation: Gateway is not valid on subnet: ${text} on ${formatCidr(cidr)}.`, {
      field: ['gatewayIp'],
    });
  }
  return null;
}

/** The host range with the gateway cut out: a gateway in the middle splits it in two. */
export function defaultAllocationRanges(cidr: Cidr, gateway: IpAddress | null): AddressRange[] {
  const host = hostRange(cidr);
  if (host.first > host.last) return [];
  const g = gateway?.value;
  if (g === undefined || g < host.first || g > host.last) return [host];
  const ranges: AddressRange[] = [];
  if (g > host.first) ranges.push({ first: host.first, last: g - 1n });
  if (g < host.last) ranges.push({ first: g + 1n, last: host.last });
  return ranges;
}

export function formatPool(cidr: Cidr, range: AddressRange): AllocationPool {
  return { start: formatIp({ version: cidr.version, value: range.first }), end: formatIp({ version: cidr.version, value: range.last }) };
}

export function defaultAllocationPools(cidr: Cidr, gateway: IpAddress | null): AllocationPool[] {
  return defaultAllocationRanges(cidr, gateway).map((r) => formatPool(cidr, r));
}

/** Pools already validated (stored state) as numeric ranges. */
export function poolRanges(pools: readonly AllocationPool[]): AddressRange[] {
  return pools.map((p) => {
    const start = parseIp(p.start);
    const end = parseIp(p.end);
    if (!start || !end) throw new Error(`invalid stored pool ${p.start}-${p.end}`);
    return { first: start.value, last: end.value };
  });
}

function poolText(p: AllocationPool): string {
  return `${p.start}-${p.end}`;
}

/**
 * User-supplied pools, checked in Neutron's order: valid addresses of the subnet's family and
 * start ≤ end (InvalidAllocationPool), inside the host range (OutOfBoundsAllocationPool), no two
 * overlapping (OverlappingAllocationPools), gateway outside every pool
 * (GatewayConflictWithAllocationPools). Answers the normalised pools.
 */
export function validateAllocationPools(
  cidr: Cidr,
  pools: readonly AllocationPool[],
  gateway: IpAddress | null,
): AllocationPool[] | DomainError {
  const host = hostRange(cidr);
  const ranges: AddressRange[] = [];
  for (const pool of pools) {
    const start = parseIp(pool.start);
    const end = parseIp(pool.end);
    if (!start || !end || start.version !== cidr.version || end.version !== cidr.version || start.value > end.value) {
      return domainError('InvalidAllocationPool', `The allocation pool ${poolText(pool)} is not valid.`, {
        field: ['allocationPools'],
        details: { pool },
      });
    }
    if (start.value < host.first || end.value > host.last) {
      return domainError(
        'OutOfBoundsAllocationPool',
        `The allocation pool ${poolText(pool)} spans beyond the subnet cidr ${formatCidr(cidr)}.`,
        {
          field: ['allocationPools'],
          details: { pool },
        },
      );
    }
    ranges.push({ first: start.value, last: end.value });
  }
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const a = ranges[i]!;
      const b = ranges[j]!;
      if (a.first <= b.last && b.first <= a.last) {
        const pa = formatPool(cidr, a);
        const pb = formatPool(cidr, b);
        return domainError(
          'OverlappingAllocationPools',
          `Found overlapping allocation pools: ${poolText(pa)} and ${poolText(pb)} for subnet ${formatCidr(cidr)}.`,
          {
            field: ['allocationPools'],
            details: { pools: [pa, pb] },
          },
        );
      }
    }
  }
  const normalised = ranges.map((r) => formatPool(cidr, r));
  const conflict = gateway === null ? undefined : ranges.findIndex((r) => gateway.value >= r.first && gateway.value <= r.last);
  if (conflict !== undefined && conflict >= 0 && gateway !== null) {
    const pool = normalised[conflict]!;
    return domainError(
      'GatewayConflictWithAllocationPools',
      `Gateway ip ${formatIp(gateway)} conflicts with allocation pool ${poolText(pool)}.`,
      {
        field: ['allocationPools'],
        details: { pool, gatewayIp: formatIp(gateway) },
      },
    );
  }
  return normalised;
}

/** True when the address lies in one of the ranges. */
export function inRanges(ranges: readonly AddressRange[], value: bigint): boolean {
  return ranges.some((r) => value >= r.first && value <= r.last);
}
