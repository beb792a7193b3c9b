import { initialLifecycle, type Lifecycle, type ResourceBase } from '../common/index.js';
import type { GatewayFixedIp, HaState, Route, RouterInterface } from './events.js';

export interface RouterGateway {
  readonly networkId: string;
  readonly portId: string;
  readonly enableSnat: boolean;
  readonly externalFixedIps: readonly GatewayFixedIp[];
}

export interface Router extends ResourceBase {
  readonly adminStateUp: boolean;
  readonly ha: boolean;
  readonly distributed: boolean;
  /** Neutron's availability_zone_hints, as given on create; absent: none. */
  readonly availabilityZoneHints?: readonly string[];
  readonly routes: readonly Route[];
  readonly gateway: RouterGateway | null;
  readonly interfaces: readonly RouterInterface[];
  /** HA routers once scheduled: the VRRP id on the project's HA network; cleared when ha turns off. */
  readonly haVrid?: { readonly networkId: string; readonly vrid: number } | null;
  /** Last keepalived state each hosting agent reported, by host. */
  readonly haStates?: Readonly<Record<string, HaState>>;
}

export type RouterState = Lifecycle<Router>;

export const initialRouterState: RouterState = initialLifecycle<Router>();
