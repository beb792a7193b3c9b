import { initialLifecycle, type Lifecycle, type ResourceBase } from '../common/index.js';
import type { Provider } from './events.js';

export interface NetworkSubnetRef {
  readonly id: string;
  readonly cidr: string;
}

export interface Network extends ResourceBase {
  readonly adminStateUp: boolean;
  readonly shared: boolean;
  readonly external: boolean;
  readonly portSecurityEnabled: boolean;
  readonly mtu: number;
  readonly provider: Provider;
  /** Neutron's availability_zone_hints, as given on create; absent: none. */
  readonly availabilityZoneHints?: readonly string[];
  /** Neutron networks without agents report ACTIVE at once. */
  readonly status: 'ACTIVE';
  /** In creation order: port allocation tries subnets in this order. */
  readonly subnets: readonly NetworkSubnetRef[];
}

export type NetworkState = Lifecycle<Network>;

export const initialNetworkState: NetworkState = initialLifecycle<Network>();
