import { initialLifecycle, type Lifecycle, type ResourceBase } from '../common/index.js';
import type { SecurityGroupRule } from './events.js';

export interface SecurityGroup extends ResourceBase {
  readonly stateful: boolean;
  readonly isDefault: boolean;
  readonly rules: readonly SecurityGroupRule[];
}

export type SecurityGroupState = Lifecycle<SecurityGroup>;

export const initialSecurityGroupState: SecurityGroupState = initialLifecycle<SecurityGroup>();
