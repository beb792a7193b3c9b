import type { ResourceState } from './lifecycle.js';
import type { GatewayFixedIp, Route, RouterInterface } from './events.js';

export interface RouterGateway {
  readonly networkId: string;
  readonly portId: string;
  readonly enableSnat: boolean;
  readonly externalFixedIps: readonly GatewayFixedIp[];
}

export interface Router {
  readonly id: string;
  readonly project: string;
  readonly name: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly adminStateUp: boolean;
  readonly ha: boolean;
  readonly distributed: boolean;
  readonly routes: readonly Route[];
  readonly gateway: RouterGateway | null;
  readonly interfaces: readonly RouterInterface[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type RouterState = ResourceState<Router>;
