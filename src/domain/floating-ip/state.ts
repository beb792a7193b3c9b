import { initialLifecycle, type Lifecycle, type ResourceBase } from '../common/index.js';
import type { FloatingIpAssociation, FloatingIpStatus } from './events.js';

export interface FloatingIp extends ResourceBase {
  readonly floatingNetworkId: string;
  readonly floatingSubnetId: string;
  readonly floatingIpAddress: string;
  readonly floatingPortId: string;
  readonly status: FloatingIpStatus;
  readonly statusReason: string | null;
  readonly association: FloatingIpAssociation | null;
}

export type FloatingIpState = Lifecycle<FloatingIp>;

export const initialFloatingIpState: FloatingIpState = initialLifecycle<FloatingIp>();
