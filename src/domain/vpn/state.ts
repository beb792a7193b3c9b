import { initialLifecycle, type Lifecycle, type ResourceBase } from '../common/index.js';
import type { ConnectionFields, IkePolicyFields, IpsecPolicyFields, VpnStatus } from './events.js';

export type IkePolicy = ResourceBase & IkePolicyFields;
export type IpsecPolicy = ResourceBase & IpsecPolicyFields;

export interface EndpointGroup extends ResourceBase {
  readonly type: 'subnet' | 'cidr';
  readonly endpoints: readonly string[];
}

export interface VpnService extends ResourceBase {
  readonly routerId: string;
  readonly adminStateUp: boolean;
  /** The router's external IPv4 address when the service was created. */
  readonly externalV4Ip: string | null;
}

export type IpsecSiteConnection = ResourceBase &
  ConnectionFields & {
    readonly vpnServiceId: string;
    readonly status: VpnStatus;
    /** Why the dataplane reports it DOWN or ERROR. */
    readonly statusReason?: string | null;
  };

export type IkePolicyState = Lifecycle<IkePolicy>;
export type IpsecPolicyState = Lifecycle<IpsecPolicy>;
export type EndpointGroupState = Lifecycle<EndpointGroup>;
export type VpnServiceState = Lifecycle<VpnService>;
export type IpsecSiteConnectionState = Lifecycle<IpsecSiteConnection>;

export const initialIkePolicyState: IkePolicyState = initialLifecycle<IkePolicy>();
export const initialIpsecPolicyState: IpsecPolicyState = initialLifecycle<IpsecPolicy>();
export const initialEndpointGroupState: EndpointGroupState = initialLifecycle<EndpointGroup>();
export const initialVpnServiceState: VpnServiceState = initialLifecycle<VpnService>();
export const initialIpsecSiteConnectionState: IpsecSiteConnectionState = initialLifecycle<IpsecSiteConnection>();
