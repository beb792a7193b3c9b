import type { ResourceBaseInput } from '../common/index.js';
import type { NetworkType } from './events.js';

export interface CreateNetwork extends ResourceBaseInput {
  readonly type: 'CreateNetwork';
  readonly id: string;
  readonly project: string;
  readonly now: string;
  readonly adminStateUp?: boolean;
  readonly shared?: boolean;
  readonly external?: boolean;
  readonly portSecurityEnabled?: boolean;
  readonly mtu?: number;
  /**
   * Defaults to a VXLAN tenant network. `segmentationId` is the final id: given by an admin, or
   * allocated by the application from the configured range before deciding.
   */
  readonly provider?: {
    readonly networkType?: NetworkType;
    readonly physicalNetwork?: string | null;
    readonly segmentationId?: number | null;
  };
  /** The application found no free tenant segment id. */
  readonly segmentationExhausted?: boolean;
  /** The requested segment (VLAN id, VNI, flat physnet) is taken by another network. */
  readonly segmentInUse?: boolean;
  /** Neutron's availability_zone_hints: the zones its DHCP agents should be in; none: any. */
  readonly availabilityZoneHints?: readonly string[];
  /** The zones agents have registered in (the application looks them up when hints are given). */
  readonly knownAvailabilityZones?: readonly string[];
}

export interface UpdateNetwork {
  readonly type: 'UpdateNetwork';
  readonly id: string;
  readonly now: string;
  readonly expectedRevision?: number;
  readonly changes: ResourceBaseInput & {
    readonly adminStateUp?: boolean;
    readonly shared?: boolean;
    readonly external?: boolean;
    readonly portSecurityEnabled?: boolean;
    readonly mtu?: number;
  };
}

export interface DeleteNetwork {
  readonly type: 'DeleteNetwork';
  readonly id: string;
  readonly now: string;
  readonly expectedRevision?: number;
  /** Ports on the network whose device owner is not network:* (DHCP ports go with the network). */
  readonly portsInUse: number;
}

/** Issued together with CreateSubnet; the overlap check lives here because the network stream serialises it. */
export interface AddNetworkSubnet {
  readonly type: 'AddNetworkSubnet';
  readonly id: string;
  readonly subnetId: string;
  /** Normalised CIDR of the new subnet. */
  readonly cidr: string;
  /** Project creating the subnet; only the network's owner (or an admin) may. */
  readonly project: string;
  readonly asAdmin?: boolean;
  readonly now: string;
}

export interface RemoveNetworkSubnet {
  readonly type: 'RemoveNetworkSubnet';
  readonly id: string;
  readonly subnetId: string;
  readonly now: string;
}

/** Issued together with UpdateSubnet: Neutron raises the network's revision when one of its subnets changes. */
export interface NoteSubnetUpdated {
  readonly type: 'NoteSubnetUpdated';
  readonly id: string;
  readonly subnetId: string;
  readonly now: string;
}

export type NetworkCommand = CreateNetwork | UpdateNetwork | DeleteNetwork | AddNetworkSubnet | RemoveNetworkSubnet | NoteSubnetUpdated;
