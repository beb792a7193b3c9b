import { formatIp, parseIp, type IpAddress, type IpVersion } from './address.js';
import { cidrOf, hostRange, type AddressRange } from './cidr.js';
import { poolRanges, type AllocationPool } from './pools.js';

/** Neutron offers a random address among this many lowest free ones, to spread concurrent allocations. */
export const CANDIDATE_WINDOW = 1000;

function compareBigint(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Index of the first element ≥ value in a sorted array. */
function lowerBound(sorted: readonly bigint[], value: bigint): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The first `limit` addresses in the ranges, in range order, that are not in `taken`. Walks each
 * range once, jumping over taken addresses with a sorted cursor, so the cost is the number of
 * taken addresses inside the ranges plus `limit`, whatever the size of the ranges.
 */
export function freeAddresses(ranges: readonly AddressRange[], taken: Iterable<bigint>, limit: number = CANDIDATE_WINDOW): bigint[] {
  const sorted = [...new Set(taken)].sort(compareBigint);
  const free: bigint[] = [];
  for (const range of ranges) {
    let i = lowerBound(sorted, range.first);
    let cursor = range.first;
    while (cursor <= range.last && free.length < limit) {
      const next = sorted[i];
      if (next === cursor) {
        cursor++;
        i++;
      } else {
        const stop = next === undefined || next > range.last ? range.last : next - 1n;
        while (cursor <= stop && free.length < limit) free.push(cursor++);
      }
    }
    if (free.length >= limit) break;
  }
  return free;
}

/** What the candidate walk needs to know about a subnet. */
export interface CandidateSubnet {
  readonly cidr: string;
  readonly gatewayIp: string | null;
  readonly allocationPools: readonly AllocationPool[];
}

/** Where a subnet's automatic addresses come from: its pools clipped to the host range, minus `reserved`. */
export interface CandidateSpace {
  readonly version: IpVersion;
  readonly ranges: readonly AddressRange[];
  /** Addresses inside the ranges never offered (the gateway, if a pool was stored around it). */
  readonly reserved: readonly bigint[];
}

/**
 * The gateway and the addresses no host may hold (network, broadcast) are never offered, even if a
 * pool was stored around them.
 */
export function candidateSpace(subnet: CandidateSubnet): CandidateSpace {
  const cidr = cidrOf(subnet.cidr);
  const host = hostRange(cidr);
  const ranges = poolRanges(subnet.allocationPools)
    .map((r) => ({ first: r.first < host.first ? host.first : r.first, last: r.last > host.last ? host.last : r.last }))
    .filter((r) => r.first <= r.last);
  const gateway = subnet.gatewayIp === null ? null : parseIp(subnet.gatewayIp);
  return { version: cidr.version, ranges, reserved: gateway && gateway.version === cidr.version ? [gateway.value] : [] };
}

/** Free addresses of a subnet's pools, as text, given every allocated address. */
export function freeCandidates(subnet: CandidateSubnet, allocated: Iterable<string>, limit: number = CANDIDATE_WINDOW): string[] {
  const space = candidateSpace(subnet);
  const taken: bigint[] = [...space.reserved];
  for (const text of allocated) {
    const a = parseIp(text);
    if (a && a.version === space.version) taken.push(a.value);
  }
  return freeAddresses(space.ranges, taken, limit).map((value) => formatIp({ version: space.version, value } satisfies IpAddress));
}

/**
 * The first `limit` addresses of `gaps` (free stretches, in order) that are not in `skip`: the
 * same answer as `freeAddresses` when the gaps are the complement of the taken addresses, for a
 * caller that found the gaps without loading every allocation.
 */
export function addressesInGaps(gaps: readonly AddressRange[], skip: Iterable<bigint>, limit: number = CANDIDATE_WINDOW): bigint[] {
  const skipped = new Set(skip);
  const free: bigint[] = [];
  for (const gap of gaps) {
    for (let v = gap.first; v <= gap.last && free.length < limit; v++) if (!skipped.has(v)) free.push(v);
    if (free.length >= limit) break;
  }
  return free;
}

/**
 * One candidate: the lowest for owners that want a stable, predictable address (DHCP), otherwise
 * the one `random` ∈ [0, 1) points at, which the caller draws outside the domain.
 */
export function pickCandidate<T>(candidates: readonly T[], choice: { lowest: true } | { lowest?: false; random: number }): T | null {
  if (candidates.length === 0) return null;
  if (choice.lowest) return candidates[0]!;
  const r = Number.isFinite(choice.random) ? Math.min(Math.max(choice.random, 0), 0.9999999999999999) : 0;
  return candidates[Math.floor(r * candidates.length)]!;
}
