import type { ResourceBaseInput } from '../common/index.js';
import type { AllocationPool } from '../ipam/index.js';
import type { HostRoute, Ipv6Mode } from './events.js';

export interface CreateSubnet extends ResourceBaseInput {
  readonly type: 'CreateSubnet';
  readonly id: string;
  readonly project: string;
  readonly networkId: string;
  readonly now: string;
  readonly ipVersion: 4 | 6;
  readonly cidr: string;
  /** Absent: the default gateway; null: no gateway. */
  readonly gatewayIp?: string | null;
  /** Absent: the host range minus the gateway. */
  readonly allocationPools?: readonly AllocationPool[];
  readonly enableDhcp?: boolean;
  readonly dnsNameservers?: readonly string[];
  readonly hostRoutes?: readonly HostRoute[];
  readonly ipv6RaMode?: Ipv6Mode | null;
  readonly ipv6AddressMode?: Ipv6Mode | null;
}

export interface UpdateSubnet {
  readonly type: 'UpdateSubnet';
  readonly id: string;
  readonly now: string;
  readonly expectedRevision?: number;
  readonly changes: ResourceBaseInput & {
    readonly gatewayIp?: string | null;
    readonly allocationPools?: readonly AllocationPool[];
    readonly enableDhcp?: boolean;
    readonly dnsNameservers?: readonly string[];
    readonly hostRoutes?: readonly HostRoute[];
  };
  /** Id of a router port holding the current gateway address, if any. */
  readonly gatewayInUseBy?: string | null;
}

export interface DeleteSubnet {
  readonly type: 'DeleteSubnet';
  readonly id: string;
  readonly now: string;
  readonly expectedRevision?: number;
  /** Ports other than DHCP holding an address from this subnet. */
  readonly portsWithAddresses: readonly string[];
}

export type SubnetCommand = CreateSubnet | UpdateSubnet | DeleteSubnet;
