import type { NetworkEvent } from '../../src/domain/network/index.js';
import { NET, T0 } from './port-fixtures.js';

type NetworkCreatedData = Extract<NetworkEvent, { type: 'NetworkCreated' }>['data'];

/** A tenant's VXLAN network (segment 1001) as its first event records it, with `extra` over it. */
export const networkCreated = (extra: Partial<NetworkCreatedData> = {}): NetworkEvent => ({
  type: 'NetworkCreated',
  data: {
    id: NET,
    project: 'p1',
    name: 'net',
    description: '',
    tags: [],
    adminStateUp: true,
    shared: false,
    external: false,
    portSecurityEnabled: true,
    mtu: 1450,
    provider: { networkType: 'vxlan', physicalNetwork: null, segmentationId: 1001 },
    createdAt: T0,
    ...extra,
  },
});
