import type { ResourceBaseInput } from '../common/index.js';
import type { ConnectionFields, IkePolicyFields, IpsecPolicyFields, VpnStatus } from './events.js';

interface Existing {
  readonly id: string;
  readonly expectedRevision?: number;
  readonly now: string;
}

interface New {
  readonly id: string;
  readonly project: string;
  readonly now: string;
}

/** Policy attributes as the API receives them: absent ones take Neutron's defaults. */
export type IkePolicyInput = ResourceBaseInput & {
  readonly [K in keyof IkePolicyFields]?: string | number | { units?: string; value?: number };
};
export type IpsecPolicyInput = ResourceBaseInput & {
  readonly [K in keyof IpsecPolicyFields]?: string | number | { units?: string; value?: number };
};

export type IkePolicyCommand =
  | (New & IkePolicyInput & { readonly type: 'CreateIkePolicy' })
  | (Existing & { readonly type: 'UpdateIkePolicy'; readonly changes: IkePolicyInput })
  | (Existing & { readonly type: 'DeleteIkePolicy'; readonly usedByConnections: readonly string[] });

export type IpsecPolicyCommand =
  | (New & IpsecPolicyInput & { readonly type: 'CreateIpsecPolicy' })
  | (Existing & { readonly type: 'UpdateIpsecPolicy'; readonly changes: IpsecPolicyInput })
  | (Existing & { readonly type: 'DeleteIpsecPolicy'; readonly usedByConnections: readonly string[] });

/** `subnetFacts`: the named subnets the project may use, with their CIDRs (type subnet). */
export type EndpointGroupCommand =
  | (New &
      ResourceBaseInput & {
        readonly type: 'CreateEndpointGroup';
        readonly groupType: string;
        readonly endpoints: readonly string[];
        readonly visibleSubnetIds: readonly string[];
      })
  | (Existing & { readonly type: 'UpdateEndpointGroup'; readonly changes: ResourceBaseInput })
  | (Existing & { readonly type: 'DeleteEndpointGroup'; readonly usedByConnections: readonly string[] });

/** `routerExternalV4Ip`: the router's gateway IPv4 address; null when it has no external gateway. */
export type VpnServiceCommand =
  | (New &
      ResourceBaseInput & {
        readonly type: 'CreateVpnService';
        readonly routerId: string;
        readonly routerExternalV4Ip: string | null;
        readonly adminStateUp?: boolean;
      })
  | (Existing & { readonly type: 'UpdateVpnService'; readonly changes: ResourceBaseInput & { readonly adminStateUp?: boolean } })
  | (Existing & { readonly type: 'DeleteVpnService'; readonly usedByConnections: readonly string[] });

/** An endpoint group a connection names, with its subnets' CIDRs resolved. */
export interface EndpointGroupFacts {
  readonly id: string;
  readonly type: 'subnet' | 'cidr';
  /** CIDRs: the group's own (cidr) or its subnets' (subnet). */
  readonly cidrs: readonly string[];
  /** Subnet ids (type subnet). */
  readonly subnetIds: readonly string[];
}

/** What the application layer resolved for a connection: everything it names, visible to the project. */
export interface ConnectionFacts {
  readonly service: { readonly id: string; readonly routerId: string; readonly externalV4Ip: string | null };
  readonly localGroup: EndpointGroupFacts;
  readonly peerGroup: EndpointGroupFacts;
  /** Subnets with an interface on the service's router. */
  readonly routerSubnetIds: readonly string[];
}

export type ConnectionInput = ResourceBaseInput &
  Partial<Omit<ConnectionFields, 'dpd' | 'initiator'>> & {
    readonly initiator?: string;
    readonly dpd?: { readonly action?: string; readonly interval?: number; readonly timeout?: number };
  };

export type IpsecSiteConnectionCommand =
  | (New & ConnectionInput & { readonly type: 'CreateIpsecSiteConnection'; readonly vpnServiceId: string; readonly facts: ConnectionFacts })
  | (Existing & { readonly type: 'UpdateIpsecSiteConnection'; readonly changes: ConnectionInput; readonly facts: ConnectionFacts })
  | (Existing & { readonly type: 'ReportIpsecSiteConnectionStatus'; readonly status: VpnStatus; readonly reason: string | null })
  | (Existing & { readonly type: 'DeleteIpsecSiteConnection' });
