import type { ResourceBaseInput } from '../common/index.js';
import type { FloatingIpStatus } from './events.js';

interface Existing {
  readonly id: string;
  readonly expectedRevision?: number;
  readonly now: string;
}

/** Facts about the port to associate, gathered by the application layer. */
export interface AssociationFacts {
  readonly port: {
    readonly id: string;
    readonly deviceOwner: string;
    readonly fixedIps: readonly { readonly subnetId: string; readonly ipAddress: string }[];
  };
  /** Required when the port has several IPv4 addresses. */
  readonly fixedIpAddress?: string;
  /** subnet id → the router that has an interface on it and its gateway on this floating IP's network. */
  readonly routerBySubnet: Readonly<Record<string, string>>;
  /** fixed IP address of the port → the floating IP on this external network that already holds it. */
  readonly floatingIpByFixedIp: Readonly<Record<string, string>>;
}

/** What the application layer's IPAM found on the external network. */
export type FloatingAddressAllocation =
  | { readonly kind: 'allocated'; readonly address: string; readonly subnetId: string; readonly portId: string }
  | { readonly kind: 'exhausted' };

export interface CreateFloatingIp extends ResourceBaseInput {
  readonly type: 'CreateFloatingIp';
  readonly id: string;
  readonly project: string;
  readonly network: { readonly id: string; readonly external: boolean };
  /** The address the request asked for, if any (admins only); `allocation` holds what was actually taken. */
  readonly floatingIpAddress?: string;
  readonly isAdmin: boolean;
  /** The gateway addresses of the network's subnets: the upstream router's, never a floating IP's. */
  readonly gatewayIps: readonly string[];
  readonly allocation: FloatingAddressAllocation;
  /** Present when the request also names a port. */
  readonly association?: AssociationFacts;
  readonly now: string;
}

export interface UpdateFloatingIp extends Existing {
  readonly type: 'UpdateFloatingIp';
  readonly changes: ResourceBaseInput;
}

export type AssociateFloatingIp = Existing & AssociationFacts & { readonly type: 'AssociateFloatingIp' };

export interface DisassociateFloatingIp extends Existing {
  readonly type: 'DisassociateFloatingIp';
  /** `portDeleted`: only when still associated with `portId`; the port is gone either way. */
  readonly cause?: 'request' | 'portDeleted';
  readonly portId?: string;
}

/**
 * An update of port `portId` changed its fixed IPs: a floating IP pointing at a released address
 * follows it to the one IPv4 address the same update gave the port in the same subnet (so the same
 * router, and an address no other floating IP can hold yet), else it is disassociated. It never
 * keeps pointing at an address the port no longer holds.
 */
export interface FollowFixedIpChange extends Existing {
  readonly type: 'FollowFixedIpChange';
  readonly portId: string;
  readonly allocated: readonly { readonly subnetId: string; readonly ipAddress: string }[];
  readonly released: readonly { readonly subnetId: string; readonly ipAddress: string }[];
}

export interface SetFloatingIpStatus extends Existing {
  readonly type: 'SetFloatingIpStatus';
  readonly status: FloatingIpStatus;
  readonly reason?: string;
}

export interface DeleteFloatingIp extends Existing {
  readonly type: 'DeleteFloatingIp';
}

export type FloatingIpCommand =
  | CreateFloatingIp
  | UpdateFloatingIp
  | AssociateFloatingIp
  | DisassociateFloatingIp
  | FollowFixedIpChange
  | SetFloatingIpStatus
  | DeleteFloatingIp;
