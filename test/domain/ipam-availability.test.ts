import { describe, expect, it } from 'vitest';
import { networkIpTotals, poolSize, subnetIpAvailability } from '../../src/domain/ipam/index.js';

// Neutron's network-ip-availability figures (issue 14, Neutron parity).

describe('IP availability', () => {
  it('counts the allocation pools as the total, two pools around a gateway included', () => {
    expect(poolSize([{ start: '10.0.0.2', end: '10.0.0.254' }])).toBe(253n);
    expect(
      poolSize([
        { start: '10.0.0.1', end: '10.0.0.99' },
        { start: '10.0.0.101', end: '10.0.0.254' },
      ]),
    ).toBe(253n);
    expect(poolSize([])).toBe(0n);
  });

  it('is exact beyond 2^53 (an IPv6 /64)', () => {
    expect(poolSize([{ start: '2001:db8::1', end: '2001:db8::ffff:ffff:ffff:ffff' }])).toBe(2n ** 64n - 1n);
  });

  it('sums the subnets for the network', () => {
    const a = subnetIpAvailability({ id: 'a', allocationPools: [{ start: '10.0.0.2', end: '10.0.0.254' }] }, 3);
    const b = subnetIpAvailability({ id: 'b', allocationPools: [{ start: '10.0.1.2', end: '10.0.1.6' }] }, 1);
    expect(a).toEqual({ subnetId: 'a', totalIps: 253n, usedIps: 3 });
    expect(networkIpTotals([a, b])).toEqual({ totalIps: 258n, usedIps: 4 });
  });
});
