import { poolRanges, type AllocationPool } from './pools.js';

/**
 * Neutron's network-ip-availability for one subnet: `totalIps` is the size of its allocation
 * pools (addresses outside them, such as the gateway, are not offered, so not counted), `usedIps`
 * every address a port holds in the subnet, pool or not (router interfaces and DHCP ports
 * included), as Neutron counts its IP allocations.
 */
export interface SubnetIpAvailability {
  readonly subnetId: string;
  readonly totalIps: bigint;
  readonly usedIps: number;
}

export function poolSize(pools: readonly AllocationPool[]): bigint {
  return poolRanges(pools).reduce((sum, r) => sum + (r.last >= r.first ? r.last - r.first + 1n : 0n), 0n);
}

export function subnetIpAvailability(
  subnet: { readonly id: string; readonly allocationPools: readonly AllocationPool[] },
  usedIps: number,
): SubnetIpAvailability {
  return { subnetId: subnet.id, totalIps: poolSize(subnet.allocationPools), usedIps };
}

/** A network's figures are the sums of its subnets'. */
export function networkIpTotals(subnets: readonly SubnetIpAvailability[]): { totalIps: bigint; usedIps: number } {
  return subnets.reduce((t, s) => ({ totalIps: t.totalIps + s.totalIps, usedIps: t.usedIps + s.usedIps }), { totalIps: 0n, usedIps: 0 });
}
