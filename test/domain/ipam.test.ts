import { describe, expect, it } from 'vitest';
import { isDomainError, type DomainError } from '../../src/domain/errors.js';
import {
  cidrOf,
  cidrsOverlap,
  defaultAllocationPools,
  defaultGateway,
  eui64Address,
  formatCidr,
  formatIp,
  freeAddresses,
  freeCandidates,
  isNetworkOrBroadcast,
  macFromRandomBytes,
  normaliseIp,
  normaliseMac,
  parseCidr,
  parseIp,
  pickCandidate,
  validateAllocationPools,
  type AllocationPool,
  type Cidr,
} from '../../src/domain/ipam/index.js';

function cidr(text: string): Cidr {
  const c = parseCidr(text);
  if (isDomainError(c)) throw new Error(c.message);
  return c;
}

function errorCode(value: unknown): string | undefined {
  return isDomainError(value) ? (value as DomainError).code : undefined;
}

function ip(text: string) {
  const a = parseIp(text);
  if (!a) throw new Error(text);
  return a;
}

describe('CIDR parsing', () => {
  it('clears host bits', () => {
    expect(formatCidr(cidr('10.0.0.1/24'))).toBe('10.0.0.0/24');
    expect(formatCidr(cidr('2001:DB8:0:0::1/64'))).toBe('2001:db8::/64');
    expect(formatCidr(cidr('192.168.7.200/29'))).toBe('192.168.7.200/29');
    expect(formatCidr(cidr('192.168.7.207/29'))).toBe('192.168.7.200/29');
  });

  it.each([
    '10.0.0.0/33',
    'not-a-cidr',
    '300.1.1.0/24',
    '10.0.0.0',
    '10.0.0.0/',
    '10/8',
    '2001:db8::/129',
    'fe80::1%eth0/64',
    '10.0.0.0/24/1',
  ])('rejects %s with InvalidInput', (text) => {
    expect(errorCode(parseCidr(text))).toBe('InvalidInput');
  });

  it('rejects a /0 subnet but allows a /0 route destination when asked', () => {
    const zero = parseCidr('0.0.0.0/0');
    expect(errorCode(zero)).toBe('InvalidInput');
    expect((zero as DomainError).message).toMatch(/0 is not allowed/);
    expect(formatCidr(cidr2('0.0.0.0/0'))).toBe('0.0.0.0/0');
    function cidr2(t: string): Cidr {
      const c = parseCidr(t, { allowZeroPrefix: true });
      if (isDomainError(c)) throw new Error(c.message);
      return c;
    }
  });

  it('knows the IP version', () => {
    expect(cidr('10.0.0.0/8').version).toBe(4);
    expect(cidr('fd00::/48').version).toBe(6);
  });
});

describe('addresses', () => {
  it('normalises and rejects non-dotted IPv4 forms', () => {
    expect(normaliseIp('2001:0DB8::0001')).toBe('2001:db8::1');
    expect(normaliseIp('10.0.0.1')).toBe('10.0.0.1');
    expect(normaliseIp('10')).toBeNull();
    expect(normaliseIp('0x0a.0.0.1')).toBeNull();
    expect(normaliseIp('10.0.0.256')).toBeNull();
  });

  it('round-trips through bigint', () => {
    expect(formatIp({ version: 4, value: ip('10.1.2.3').value + 1n })).toBe('10.1.2.4');
    expect(formatIp({ version: 6, value: ip('2001:db8::ffff').value + 1n })).toBe('2001:db8::1:0');
  });

  it('network and broadcast', () => {
    const c = cidr('10.0.0.0/24');
    expect(isNetworkOrBroadcast(c, ip('10.0.0.0'))).toBe(true);
    expect(isNetworkOrBroadcast(c, ip('10.0.0.255'))).toBe(true);
    expect(isNetworkOrBroadcast(c, ip('10.0.0.1'))).toBe(false);
    expect(isNetworkOrBroadcast(cidr('10.0.0.0/31'), ip('10.0.0.0'))).toBe(false);
    expect(isNetworkOrBroadcast(cidr('2001:db8::/64'), ip('2001:db8::'))).toBe(true);
    expect(isNetworkOrBroadcast(cidr('2001:db8::/64'), ip('2001:db8::ffff:ffff:ffff:ffff'))).toBe(false);
  });

  it('overlap means same family and one contains the other', () => {
    expect(cidrsOverlap(cidr('10.0.0.0/24'), cidr('10.0.0.0/24'))).toBe(true);
    expect(cidrsOverlap(cidr('10.0.0.0/16'), cidr('10.0.5.0/24'))).toBe(true);
    expect(cidrsOverlap(cidr('10.0.5.0/24'), cidr('10.0.0.0/16'))).toBe(true);
    expect(cidrsOverlap(cidr('10.0.0.0/24'), cidr('10.0.1.0/24'))).toBe(false);
    expect(cidrsOverlap(cidr('10.0.0.0/24'), cidr('::/64'))).toBe(false);
  });
});

describe('gateway and default pools (neutron-api-facts table)', () => {
  const pools = (text: string, gateway: string | null | undefined) => {
    const c = cidr(text);
    const g = gateway === undefined ? defaultGateway(c) : gateway === null ? null : ip(gateway);
    return defaultAllocationPools(c, g);
  };

  it('default gateway: IPv4 first host, IPv6 the network address', () => {
    expect(formatIp(defaultGateway(cidr('10.0.0.0/24')))).toBe('10.0.0.1');
    expect(formatIp(defaultGateway(cidr('2001:db8::/64')))).toBe('2001:db8::');
  });

  it.each<[string, string | null | undefined, AllocationPool[]]>([
    ['10.0.0.0/24', undefined, [{ start: '10.0.0.2', end: '10.0.0.254' }]],
    ['10.0.0.0/29', undefined, [{ start: '10.0.0.2', end: '10.0.0.6' }]],
    ['10.0.0.0/30', undefined, [{ start: '10.0.0.2', end: '10.0.0.2' }]],
    ['10.0.0.0/24', '10.0.0.254', [{ start: '10.0.0.1', end: '10.0.0.253' }]],
    [
      '10.0.0.0/24',
      '10.0.0.100',
      [
        { start: '10.0.0.1', end: '10.0.0.99' },
        { start: '10.0.0.101', end: '10.0.0.254' },
      ],
    ],
    ['10.0.0.0/24', null, [{ start: '10.0.0.1', end: '10.0.0.254' }]],
    ['2001:db8::/64', undefined, [{ start: '2001:db8::1', end: '2001:db8::ffff:ffff:ffff:ffff' }]],
    ['10.0.0.0/31', null, [{ start: '10.0.0.0', end: '10.0.0.1' }]],
    ['10.0.0.7/32', null, [{ start: '10.0.0.7', end: '10.0.0.7' }]],
    ['10.0.0.0/24', '192.168.0.1', [{ start: '10.0.0.1', end: '10.0.0.254' }]],
  ])('%s with gateway %s', (text, gateway, expected) => {
    expect(pools(text, gateway)).toEqual(expected);
  });
});

describe('allocation pool validation', () => {
  const c = cidr('10.0.0.0/24');
  const gw = ip('10.0.0.1');
  const check = (p: AllocationPool[], gateway = gw) => validateAllocationPools(c, p, gateway);

  it('accepts and normalises good pools', () => {
    expect(
      check([
        { start: '10.0.0.10', end: '10.0.0.20' },
        { start: '10.0.0.30', end: '10.0.0.30' },
      ]),
    ).toEqual([
      { start: '10.0.0.10', end: '10.0.0.20' },
      { start: '10.0.0.30', end: '10.0.0.30' },
    ]);
    expect(validateAllocationPools(cidr('2001:db8::/64'), [{ start: '2001:DB8::0010', end: '2001:db8::20' }], null)).toEqual([
      { start: '2001:db8::10', end: '2001:db8::20' },
    ]);
  });

  it.each<[string, AllocationPool[]]>([
    ['InvalidAllocationPool', [{ start: '10.0.0.20', end: '10.0.0.10' }]],
    ['InvalidAllocationPool', [{ start: 'x', end: '10.0.0.10' }]],
    ['InvalidAllocationPool', [{ start: '2001:db8::1', end: '2001:db8::2' }]],
    ['OutOfBoundsAllocationPool', [{ start: '10.0.0.0', end: '10.0.0.10' }]],
    ['OutOfBoundsAllocationPool', [{ start: '10.0.0.200', end: '10.0.0.255' }]],
    ['OutOfBoundsAllocationPool', [{ start: '10.0.1.2', end: '10.0.1.10' }]],
    [
      'OverlappingAllocationPools',
      [
        { start: '10.0.0.10', end: '10.0.0.20' },
        { start: '10.0.0.20', end: '10.0.0.30' },
      ],
    ],
    ['GatewayConflictWithAllocationPools', [{ start: '10.0.0.1', end: '10.0.0.10' }]],
  ])('%s for %j', (code, p) => {
    expect(errorCode(check(p))).toBe(code);
  });

  it('allows an empty pool list', () => {
    expect(check([])).toEqual([]);
  });
});

/** Deterministic PRNG so property runs are reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('free candidate walk', () => {
  it('walks pools in order, skipping allocated addresses, up to the limit', () => {
    const free = freeAddresses(
      [
        { first: 10n, last: 14n },
        { first: 1n, last: 3n },
      ],
      [11n, 12n, 2n, 99n],
      5,
    );
    expect(free).toEqual([10n, 13n, 14n, 1n, 3n]);
  });

  it('never offers the gateway, network or broadcast even if a pool covers them', () => {
    const subnet = { cidr: '10.0.0.0/29', gatewayIp: '10.0.0.3', allocationPools: [{ start: '10.0.0.0', end: '10.0.0.7' }] };
    expect(freeCandidates(subnet, ['10.0.0.5'])).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.4', '10.0.0.6']);
  });

  it('gives the lowest free address first, which DHCP ports take', () => {
    const subnet = { cidr: '10.0.0.0/24', gatewayIp: '10.0.0.1', allocationPools: [{ start: '10.0.0.2', end: '10.0.0.254' }] };
    expect(pickCandidate(freeCandidates(subnet, []), { lowest: true })).toBe('10.0.0.2');
    expect(pickCandidate(freeCandidates(subnet, ['10.0.0.2']), { lowest: true })).toBe('10.0.0.3');
  });

  it('caps the window at 1000 and picks by the caller-supplied random number', () => {
    const subnet = { cidr: '10.0.0.0/16', gatewayIp: '10.0.0.1', allocationPools: [{ start: '10.0.0.2', end: '10.0.255.254' }] };
    const free = freeCandidates(subnet, []);
    expect(free).toHaveLength(1000);
    expect(free[999]).toBe('10.0.3.233');
    expect(pickCandidate(free, { random: 0 })).toBe('10.0.0.2');
    expect(pickCandidate(free, { random: 0.5 })).toBe(free[500]);
    expect(pickCandidate(free, { random: 0.9999999 })).toBe(free[999]);
    expect(pickCandidate(free, { random: 1 })).toBe(free[999]);
    expect(pickCandidate([], { random: 0.3 })).toBeNull();
  });

  it('answers an empty list when the pools are exhausted', () => {
    const subnet = { cidr: '10.0.0.0/30', gatewayIp: '10.0.0.1', allocationPools: [{ start: '10.0.0.2', end: '10.0.0.2' }] };
    expect(freeCandidates(subnet, ['10.0.0.2'])).toEqual([]);
  });

  it('reads the allocated addresses once on a /16 with tens of thousands allocated', () => {
    const subnet = { cidr: '10.0.0.0/16', gatewayIp: '10.0.0.1', allocationPools: [{ start: '10.0.0.2', end: '10.0.255.254' }] };
    const allocated: string[] = [];
    for (let v = 2; v < 60_000; v++) allocated.push(`10.0.${v >> 8}.${v & 255}`);
    // Counted, not timed: a walk that scans the allocated list per address reads it thousands of
    // times over, whatever the speed of the machine.
    let reads = 0;
    const counted: Iterable<string> = {
      *[Symbol.iterator]() {
        for (const a of allocated) {
          reads++;
          yield a;
        }
      },
    };
    const free = freeCandidates(subnet, counted);
    expect(free[0]).toBe(`10.0.${60_000 >> 8}.${60_000 & 255}`);
    expect(free).toHaveLength(1000);
    expect(reads).toBe(allocated.length);
  });

  it('property: candidates are free, inside pools, never the gateway, ascending per pool, and as many as exist', () => {
    const rnd = mulberry32(42);
    for (let run = 0; run < 300; run++) {
      const prefix = 24 + Math.floor(rnd() * 6); // /24../29
      const net = `10.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}.0/${prefix}`;
      const c = cidrOf(net);
      const size = 1 << (32 - prefix);
      const gatewayOffset = 1 + Math.floor(rnd() * (size - 2));
      const gateway = { version: 4 as const, value: c.network + BigInt(gatewayOffset) };
      const pools = defaultAllocationPools(c, gateway);
      const allocated = new Set<string>();
      for (let i = 0; i < size; i++) if (rnd() < 0.5) allocated.add(formatIp({ version: 4, value: c.network + BigInt(i) }));
      const limit = 1 + Math.floor(rnd() * size);
      const subnet = { cidr: formatCidr(c), gatewayIp: formatIp(gateway), allocationPools: pools };
      const got = freeCandidates(subnet, allocated, limit);

      const poolValues = pools.map((p) => [ip(p.start).value, ip(p.end).value] as const);
      const brute: string[] = [];
      for (const [first, last] of poolValues) {
        for (let v = first; v <= last; v++) {
          const t = formatIp({ version: 4, value: v });
          if (!allocated.has(t) && v !== gateway.value) brute.push(t);
        }
      }
      expect(got).toEqual(brute.slice(0, limit));
      for (const t of got) {
        expect(allocated.has(t)).toBe(false);
        expect(t).not.toBe(formatIp(gateway));
        expect(poolValues.some(([a, b]) => ip(t).value >= a && ip(t).value <= b)).toBe(true);
      }
      expect(new Set(got).size).toBe(got.length);
    }
  });
});

describe('MACs and EUI-64', () => {
  it('builds fa:16:3e MACs from supplied random bytes', () => {
    expect(macFromRandomBytes([0x01, 0xab, 0xff])).toBe('fa:16:3e:01:ab:ff');
    expect(macFromRandomBytes(new Uint8Array([0, 0, 0]))).toBe('fa:16:3e:00:00:00');
  });

  it('normalises MAC text', () => {
    expect(normaliseMac('FA-16-3E-00-11-22')).toBe('fa:16:3e:00:11:22');
    expect(normaliseMac('fa:16:3e:00:11')).toBeNull();
    expect(normaliseMac('fa:16:3e:00:11:2g')).toBeNull();
  });

  it('derives the SLAAC address (U/L bit flipped, ff:fe inserted)', () => {
    expect(eui64Address('2001:db8::/64', 'fa:16:3e:11:22:33')).toBe('2001:db8::f816:3eff:fe11:2233');
    expect(eui64Address('2001:db8:1:2::/64', '00:00:00:00:00:01')).toBe('2001:db8:1:2:200:ff:fe00:1');
  });
});
