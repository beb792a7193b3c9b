import { initialLifecycle, type Lifecycle, type ResourceBase } from '../common/index.js';
import type { AddressPair, FixedIp, PortStatus } from './events.js';

export interface Port extends ResourceBase {
  readonly networkId: string;
  readonly macAddress: string;
  readonly fixedIps: readonly FixedIp[];
  readonly deviceOwner: string;
  readonly deviceId: string;
  readonly adminStateUp: boolean;
  readonly bindingHost: string;
  readonly securityGroups: readonly string[];
  readonly portSecurityEnabled: boolean;
  readonly allowedAddressPairs: readonly AddressPair[];
  readonly status: PortStatus;
  /** Why the agent last set the status (an ERROR explanation), if it said. */
  readonly statusReason: string | null;
}

export type PortState = Lifecycle<Port>;

export const initialPortState: PortState = initialLifecycle<Port>();
