import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeAddressesIn } from '../../src/app/networking/free-addresses.js';
import { cidrOf, defaultAllocationPools, formatCidr, formatIp, freeCandidates, type AllocationPool } from '../../src/domain/ipam/index.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Case {
  readonly cidr: string;
  readonly gatewayIp: string | null;
  readonly allocationPools: readonly AllocationPool[];
  readonly allocated: readonly string[];
  readonly exclude: readonly string[];
  readonly limit: number;
}

/** The SQL search answers exactly what the domain's walk over every allocation answers. */
async function check(c: Case): Promise<string[]> {
  const subnetId = randomUUID();
  const networkId = randomUUID();
  const portId = randomUUID();
  const subnet = { cidr: c.cidr, gatewayIp: c.gatewayIp, allocationPools: c.allocationPools };
  return db.sql.begin(async (tx) => {
    if (c.allocated.length > 0) {
      await tx`insert into rm_ip_allocations (network_id, ip_address, subnet_id, port_id)
               select ${networkId}, a::inet, ${subnetId}, ${portId} from unnest(${c.allocated as string[]}::text[]) a`;
    }
    // A neighbour subnet's allocations must not count.
    await tx`insert into rm_ip_allocations (network_id, ip_address, subnet_id, port_id) values (${randomUUID()}, ${c.allocated[0] ?? '10.0.0.9'}, ${randomUUID()}, ${portId})`;
    const got = await freeAddressesIn(tx as never, subnetId, subnet, c.exclude, c.limit);
    expect(got).toEqual(freeCandidates(subnet, [...c.allocated, ...c.exclude], c.limit));
    await tx`delete from rm_ip_allocations where port_id = ${portId}`;
    return got;
  });
}

describe('free-address search in SQL (real PostgreSQL)', () => {
  it('property: the same candidates as the walk over every allocation, for random subnets, pools, allocations and exclusions', async () => {
    const rnd = mulberry32(7);
    for (let run = 0; run < 120; run++) {
      const prefix = 22 + Math.floor(rnd() * 9); // /22../30
      const c = cidrOf(`10.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 4) * 4}.0/${prefix}`);
      const size = 1 << (32 - prefix);
      const gateway = rnd() < 0.2 ? null : { version: 4 as const, value: c.network + BigInt(1 + Math.floor(rnd() * (size - 2))) };
      // Some runs store a pool around the gateway or split the range, as a subnet update may.
      const pools: AllocationPool[] =
        rnd() < 0.3
          ? [
              {
                start: formatIp({ version: 4, value: c.network + BigInt(Math.floor(size / 2)) }),
                end: formatIp({ version: 4, value: c.network + BigInt(size - 1) }),
              },
              {
                start: formatIp({ version: 4, value: c.network }),
                end: formatIp({ version: 4, value: c.network + BigInt(Math.floor(size / 2) - 1) }),
              },
            ]
          : defaultAllocationPools(c, gateway);
      const density = rnd();
      const dense = Math.floor(rnd() * size);
      const allocated: string[] = [];
      for (let i = 0; i < size; i++)
        if (i < dense ? rnd() < 0.97 : rnd() < density * 0.5) allocated.push(formatIp({ version: 4, value: c.network + BigInt(i) }));
      const exclude = Array.from({ length: Math.floor(rnd() * 3) }, () =>
        formatIp({ version: 4, value: c.network + BigInt(Math.floor(rnd() * size)) }),
      );
      await check({
        cidr: formatCidr(c),
        gatewayIp: gateway ? formatIp(gateway) : null,
        allocationPools: pools,
        allocated,
        exclude,
        limit: 1 + Math.floor(rnd() * Math.min(size, 1200)),
      });
    }
  });

  it('IPv6: a /64 with a dense start and addresses near the top of the family', async () => {
    const allocated = Array.from({ length: 300 }, (_, i) => `2001:db8::${(i + 1).toString(16)}`).filter((_, i) => i !== 17 && i !== 250);
    const got = await check({
      cidr: '2001:db8::/64',
      gatewayIp: '2001:db8::1',
      allocationPools: [{ start: '2001:db8::1', end: '2001:db8::ffff:ffff:ffff:fffe' }],
      allocated,
      exclude: ['2001:db8::13f'],
      limit: 5,
    });
    expect(got).toEqual(['2001:db8::12', '2001:db8::fb', '2001:db8::12d', '2001:db8::12e', '2001:db8::12f']);
    await check({
      cidr: 'ffff::/120',
      gatewayIp: null,
      allocationPools: [{ start: 'ffff::', end: 'ffff::ff' }],
      allocated: ['ffff::fe', 'ffff::ff', 'ffff::1'],
      exclude: [],
      limit: 300,
    });
  });

  it('a /16 with 50,000 addresses taken from its start answers the next 1,000', async () => {
    const allocated: string[] = [];
    for (let v = 2; v < 50_002; v++) allocated.push(`10.9.${v >> 8}.${v & 255}`);
    const got = await check({
      cidr: '10.9.0.0/16',
      gatewayIp: '10.9.0.1',
      allocationPools: [{ start: '10.9.0.2', end: '10.9.255.254' }],
      allocated,
      exclude: [],
      limit: 1000,
    });
    expect(got[0]).toBe(`10.9.${50_002 >> 8}.${50_002 & 255}`);
  });
});
