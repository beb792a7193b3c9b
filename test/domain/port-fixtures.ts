import type { CreatePort } from '../../src/domain/port/index.js';
import type { SubnetFacts } from '../../src/domain/subnet/index.js';

// The port specs' shared givens: one network with one IPv4 subnet, and a create on it.

export const NET = '11111111-1111-4111-8111-111111111111';
export const V4 = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
export const PORT = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc';
export const SG = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee';
export const T0 = '2024-01-01T00:00:00.000Z';
export const T1 = '2024-01-01T00:01:00.000Z';
export const MAC = 'fa:16:3e:11:22:33';

export const v4: SubnetFacts = {
  id: V4,
  networkId: NET,
  ipVersion: 4,
  cidr: '10.0.0.0/24',
  gatewayIp: '10.0.0.1',
  allocationPools: [{ start: '10.0.0.2', end: '10.0.0.254' }],
  enableDhcp: true,
  ipv6RaMode: null,
  ipv6AddressMode: null,
};
export const network = { id: NET, project: 'p1', shared: false, external: false, portSecurityEnabled: true };
export const create = (extra: Partial<CreatePort> = {}): CreatePort => ({
  type: 'CreatePort',
  id: PORT,
  project: 'p1',
  now: T0,
  networkId: NET,
  network,
  subnets: [v4],
  generatedMac: MAC,
  addressCandidates: { [V4]: ['10.0.0.57'] },
  defaultSecurityGroupId: SG,
  ...extra,
});
