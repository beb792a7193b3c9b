import { describe, expect, it } from 'vitest';
import { subnetDecider, type CreateSubnet } from '../../src/domain/subnet/index.js';
import { spec } from '../support/spec.js';

// IPv4 /31 and /32 subnets as Neutron has them (issue 14, Neutron parity): DHCP needs more room;
// without DHCP a /31 takes no gateway (its default .1 is one of its two addresses) and a /32 is
// accepted with its default gateway, which lies outside it.

const create = (extra: Partial<CreateSubnet>): CreateSubnet => ({
  type: 'CreateSubnet',
  id: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa',
  project: 'p1',
  networkId: '11111111-1111-4111-8111-111111111111',
  now: '2024-01-01T00:00:00.000Z',
  ipVersion: 4,
  cidr: '10.0.0.0/24',
  ...extra,
});
const subnet = spec(subnetDecider);

describe('/31 and /32 subnets', () => {
  it('refuses both with DHCP, with InvalidInput', () => {
    subnet
      .given([])
      .when(create({ cidr: '10.0.0.0/31' }))
      .thenError('InvalidInput');
    subnet
      .given([])
      .when(create({ cidr: '10.0.0.0/32' }))
      .thenError('InvalidInput');
  });

  it('refuses a /31 without DHCP but with its default gateway, with the same error type', () => {
    subnet
      .given([])
      .when(create({ cidr: '10.0.0.0/31', enableDhcp: false }))
      .thenError('InvalidInput', (e) => expect(e.field).toEqual(['gatewayIp']));
    subnet
      .given([])
      .when(create({ cidr: '10.0.0.0/31', enableDhcp: false, gatewayIp: '10.0.0.0' }))
      .thenError('InvalidInput');
  });

  it('accepts a /31 without DHCP and without gateway: both addresses in the pool', () => {
    subnet
      .given([])
      .when(create({ cidr: '10.0.0.0/31', enableDhcp: false, gatewayIp: null }))
      .then(([e]) => {
        expect(e).toMatchObject({ data: { gatewayIp: null, allocationPools: [{ start: '10.0.0.0', end: '10.0.0.1' }] } });
      });
  });

  it('accepts a /32 without DHCP: its one address is the pool, the default gateway lies outside', () => {
    subnet
      .given([])
      .when(create({ cidr: '10.0.0.7/32', enableDhcp: false }))
      .then(([e]) => {
        expect(e).toMatchObject({
          data: { cidr: '10.0.0.7/32', gatewayIp: '10.0.0.8', allocationPools: [{ start: '10.0.0.7', end: '10.0.0.7' }] },
        });
      });
    subnet
      .given([])
      .when(create({ cidr: '10.0.0.7/32', enableDhcp: false, gatewayIp: '10.0.0.7' }))
      .thenError('InvalidInput');
  });
});
