import { initialLifecycle, type Lifecycle, type ResourceBase } from '../common/index.js';
import type { GatewayFixedIp, Route, RouterInterface } from './events.js';

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
  readonly routes: readonly Route[];
  readonly gateway: RouterGateway | null;
  readonly interfaces: readonly RouterInterface[];
}

export type RouterState = Lifecycle<Router>;

export const initialRouterState: RouterState = initialLifecycle<Router>();
