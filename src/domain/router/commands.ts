import type { ResourceBaseInput } from '../common/index.js';
import type { HaState, Route } from './events.js';

interface Existing {
  readonly id: string;
  readonly expectedRevision?: number;
  /** ISO timestamp of the request. */
  readonly now: string;
}

export interface CreateRouter extends ResourceBaseInput {
  readonly type: 'CreateRouter';
  readonly id: string;
  readonly project: string;
  readonly adminStateUp?: boolean;
  /** `ha` and `distributed` are admin-only, as in Neutron's default policy. */
  readonly ha?: boolean;
  readonly distributed?: boolean;
  /**
   * Neutron's `external_gateway_info` on create: decided exactly as a SetRouterGateway on the new
   * router, in the same decision, so a refused gateway creates no router.
   */
  readonly gateway?: GatewayFacts;
  /** Neutron's availability_zone_hints: the zones its L3 agents should be in; none: any. */
  readonly availabilityZoneHints?: readonly string[];
  /** The zones agents have registered in (the application looks them up when hints are given). */
  readonly knownAvailabilityZones?: readonly string[];
  readonly isAdmin: boolean;
  readonly now: string;
}

export interface UpdateRouter extends Existing {
  readonly type: 'UpdateRouter';
  readonly changes: ResourceBaseInput & {
    readonly adminStateUp?: boolean;
    /** `ha` and `distributed` are admin-only. */
    readonly ha?: boolean;
    readonly distributed?: boolean;
    /** Replaces all extra routes. */
    readonly routes?: readonly Route[];
  };
  /** The project's `router_route` quota; 30 when absent. */
  readonly maxRoutes?: number;
  readonly isAdmin: boolean;
}

export interface DeleteRouter extends Existing {
  readonly type: 'DeleteRouter';
}

export interface SubnetFacts {
  readonly id: string;
  readonly networkId: string;
  readonly cidr: string;
  readonly gatewayIp: string | null;
}

export interface PortFixedIpFacts {
  readonly subnetId: string;
  readonly ipAddress: string;
  /** CIDR of that subnet. */
  readonly cidr: string;
}

export interface SetRouterGateway extends Existing {
  readonly type: 'SetRouterGateway';
  readonly network: { readonly id: string; readonly external: boolean };
  /** As requested; admin-only. Absent: kept from the current gateway, else true. */
  readonly enableSnat?: boolean;
  /** Whether the request named external fixed IPs (admin-only); the result is in `gatewayPort`. */
  readonly externalFixedIpsRequested?: boolean;
  /** The gateway port the application layer allocated (or kept) on the external network. */
  readonly gatewayPort: { readonly id: string; readonly fixedIps: readonly PortFixedIpFacts[] };
  /** Whether floating IPs on the current gateway network are associated through this router. */
  readonly floatingIpsUseGateway: boolean;
  readonly isAdmin: boolean;
}

/** What a gateway request carries, on create as on SetRouterGateway. */
export type GatewayFacts = Pick<SetRouterGateway, 'network' | 'enableSnat' | 'externalFixedIpsRequested' | 'gatewayPort'>;

export interface ClearRouterGateway extends Existing {
  readonly type: 'ClearRouterGateway';
  readonly floatingIpsUseGateway: boolean;
}

export type AddRouterInterface = Existing & { readonly type: 'AddRouterInterface' } & (
    | {
        readonly by: 'subnet';
        readonly subnet: SubnetFacts;
        /**
         * The id of the new port that takes the subnet's gateway IP, unless the decider joins an
         * IPv6 subnet to the router's IPv6 port on that network (the event's portId says which).
         */
        readonly newPortId: string;
      }
    | {
        readonly by: 'port';
        readonly port: {
          readonly id: string;
          readonly networkId: string;
          readonly deviceId: string;
          readonly fixedIps: readonly PortFixedIpFacts[];
        };
      }
  );

export interface RemoveRouterInterface extends Existing {
  readonly type: 'RemoveRouterInterface';
  /** At least one; when both are given they must name the same interface. */
  readonly portId?: string;
  readonly subnetId?: string;
  /** Subnets of this router through which floating IPs reach their fixed IPs. */
  readonly subnetIdsUsedByFloatingIps: readonly string[];
}

/** The scheduler gives an HA router its VRRP id: the lowest one no other router on the HA network holds. */
export interface AllocateHaVrid extends Existing {
  readonly type: 'AllocateHaVrid';
  readonly haNetworkId: string;
  /** VRRP ids other routers hold on that network (read under the network's lock). */
  readonly vridsInUse: readonly number[];
}

/** A hosting agent reports its keepalived's state for the router. */
export interface ReportHaState extends Existing {
  readonly type: 'ReportHaState';
  readonly host: string;
  readonly haState: HaState;
}

export type RouterCommand =
  | CreateRouter
  | UpdateRouter
  | DeleteRouter
  | SetRouterGateway
  | ClearRouterGateway
  | AddRouterInterface
  | RemoveRouterInterface
  | AllocateHaVrid
  | ReportHaState;
