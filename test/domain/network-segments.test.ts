import { describe, expect, it } from 'vitest';
import { networkDecider, type CreateNetwork } from '../../src/domain/network/index.js';
import { spec } from '../support/spec.js';

// An admin VLAN network given only its physical network (issue 14, Neutron parity): the
// application draws the id from that physnet's configured range; the decider takes it, or answers
// NoNetworkAvailable when the range is used up.

const NET = '11111111-1111-4111-8111-111111111111';
const T0 = '2024-01-01T00:00:00.000Z';
const create = (extra: Partial<CreateNetwork>): CreateNetwork => ({
  type: 'CreateNetwork',
  id: NET,
  project: 'admin',
  now: T0,
  name: 'vlan',
  ...extra,
});
const network = spec(networkDecider);

describe('VLAN segment allocation', () => {
  it("creates the network with the id drawn from the physnet's range", () => {
    network
      .given([])
      .when(create({ provider: { networkType: 'vlan', physicalNetwork: 'physnet1', segmentationId: 190 } }))
      .then(([e]) => {
        expect(e).toMatchObject({
          type: 'NetworkCreated',
          data: { provider: { networkType: 'vlan', physicalNetwork: 'physnet1', segmentationId: 190 }, mtu: 1500 },
        });
      });
  });

  it("answers NoNetworkAvailable when the physnet's ranges are used up", () => {
    network
      .given([])
      .when(create({ provider: { networkType: 'vlan', physicalNetwork: 'physnet1' }, segmentationExhausted: true }))
      .thenError('NoNetworkAvailable');
  });

  it('still needs an id for a physnet without configured ranges', () => {
    network
      .given([])
      .when(create({ provider: { networkType: 'vlan', physicalNetwork: 'physnet9' } }))
      .thenError('InvalidInput');
  });
});
