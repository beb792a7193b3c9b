import type { ResourceBaseInput } from '../common/index.js';
import type { SubnetFacts } from '../subnet/index.js';
import type { PortStatus } from './events.js';

/** Per subnet: as many distinct candidates as `candidateSubnets` named it; null when exhausted. */
export type AddressCandidates = Readonly<Record<string, readonly string[] | null>>;

/** What the port decider is told about the network it plugs into. */
export interface PortNetworkFacts {
  readonly id: string;
  readonly project: string;
  readonly shared: boolean;
  readonly external: boolean;
  readonly portSecurityEnabled: boolean;
}

/** One entry of `fixed_ips`: a subnet (any free address), an address, or both. */
export interface FixedIpRequest {
  readonly subnetId?: string;
  readonly ipAddress?: string;
}

export interface AddressPairRequest {
  readonly ipAddress: string;
  /** Defaults to the port's MAC. */
  readonly macAddress?: string;
}

/**
 * Facts the application gathers before an allocation. `addressCandidates` has, for every subnet
 * `candidateSubnets()` names, the address the application picked from its free-address walk (as
 * many distinct ones as the subnet is named; null when the pools are exhausted).
 * `takenAddresses` lists those of the specifically requested addresses that another port already
 * holds.
 */
export interface AllocationFacts {
  /** The network's subnets, in creation order. */
  readonly subnets: readonly SubnetFacts[];
  readonly addressCandidates?: AddressCandidates;
  readonly takenAddresses?: readonly string[];
}

export interface CreatePort extends ResourceBaseInput, AllocationFacts {
  readonly type: 'CreatePort';
  readonly id: string;
  readonly project: string;
  readonly asAdmin?: boolean;
  readonly now: string;
  readonly networkId: string;
  /** null: no such network (or deleted). */
  readonly network: PortNetworkFacts | null;
  /** Absent: the default allocation (section 7.3); []: a port without addresses. */
  readonly fixedIps?: readonly FixedIpRequest[];
  /** The MAC the caller asked for, if any. */
  readonly macAddress?: string;
  /** The MAC the application drew (macFromRandomBytes) for when none was asked for. */
  readonly generatedMac?: string;
  /** The resulting MAC is already used on this network. */
  readonly macTaken?: boolean;
  readonly deviceOwner?: string;
  readonly deviceId?: string;
  readonly adminStateUp?: boolean;
  readonly bindingHost?: string;
  /** Absent: the project's default group (when port security is on and the port is not network-owned). */
  readonly securityGroups?: readonly string[];
  readonly defaultSecurityGroupId?: string;
  /** Group id → its `stateful`, for the groups named when there are several. */
  readonly securityGroupStateful?: Readonly<Record<string, boolean>>;
  /** Absent: the network's setting. */
  readonly portSecurityEnabled?: boolean;
  readonly allowedAddressPairs?: readonly AddressPairRequest[];
}

export interface UpdatePort extends Partial<AllocationFacts> {
  readonly type: 'UpdatePort';
  readonly id: string;
  readonly now: string;
  readonly expectedRevision?: number;
  /** Only an admin may change the MAC (Neutron's update_port:mac_address). */
  readonly asAdmin?: boolean;
  /** The requested MAC is already used by another port of this network. */
  readonly macTaken?: boolean;
  /** Group id → its `stateful`, for the groups of `changes.securityGroups` when there are several. */
  readonly securityGroupStateful?: Readonly<Record<string, boolean>>;
  readonly changes: ResourceBaseInput & {
    /** A new MAC: the application then passes the network's `subnets` so EUI-64 addresses follow it. */
    readonly macAddress?: string;
    readonly adminStateUp?: boolean;
    /** The full new list: entries naming a current address (or only its subnet) keep it. */
    readonly fixedIps?: readonly FixedIpRequest[];
    readonly deviceOwner?: string;
    readonly deviceId?: string;
    readonly bindingHost?: string;
    readonly securityGroups?: readonly string[];
    readonly portSecurityEnabled?: boolean;
    readonly allowedAddressPairs?: readonly AddressPairRequest[];
  };
}

/** From the agent: the port was (or could not be) wired. */
export interface SetPortStatus {
  readonly type: 'SetPortStatus';
  readonly id: string;
  readonly now: string;
  readonly status: PortStatus;
  readonly reason?: string | null;
}

export interface DeletePort {
  readonly type: 'DeletePort';
  readonly id: string;
  readonly now: string;
  readonly expectedRevision?: number;
  /** The owning router or floating IP is deleting its own port. */
  readonly byOwner?: boolean;
}

/** A subnet is going away: the (DHCP) port loses its address there. */
export interface ReleaseSubnetAddresses {
  readonly type: 'ReleaseSubnetAddresses';
  readonly id: string;
  readonly now: string;
  readonly subnetId: string;
}

/** A SLAAC / DHCPv6-stateless subnet was added to the network: existing ports gain their EUI-64 address. */
export interface AddAutoAddress {
  readonly type: 'AddAutoAddress';
  readonly id: string;
  readonly now: string;
  readonly subnet: SubnetFacts;
}

export type PortCommand = CreatePort | UpdatePort | SetPortStatus | DeletePort | ReleaseSubnetAddresses | AddAutoAddress;
