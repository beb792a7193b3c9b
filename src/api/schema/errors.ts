import type { z } from 'zod';
import type { DomainError } from '../../domain/errors.js';
import { builder } from './builder.js';

/**
 * Every domain error code becomes a GraphQL object type of the same name implementing `Error`,
 * so clients can select on the exact failure (`... on IpAddressGenerationFailure`) or on the
 * interface. Names follow Neutron's and Octavia's exception names.
 */
export const ERROR_CODES = [
  'InvalidInput', 'BadRequest', 'PolicyNotAuthorized', 'OverQuota', 'RevisionNumberConstraintFailed', 'ConcurrentModification',
  'ResourceIdInUse',
  'ProjectNotFound', 'ProjectAlreadyExists', 'TokenNotFound',
  'NetworkNotFound', 'NetworkInUse', 'NetworkAlreadyExists', 'NoNetworkAvailable', 'SegmentInUse', 'NetworkMTUSubnetConflict',
  'SubnetNotFound', 'SubnetInUse', 'SubnetAlreadyExists', 'GatewayConflictWithAllocationPools', 'GatewayIpInUse', 'OverlappingAllocationPools',
  'OutOfBoundsAllocationPool', 'InvalidAllocationPool', 'DNSNameServersExhausted', 'HostRoutesExhausted', 'InvalidCIDR',
  'PortNotFound', 'PortInUse', 'PortAlreadyExists', 'IpAddressAlreadyAllocated', 'IpAddressGenerationFailure', 'InvalidIpForSubnet', 'InvalidIpForNetwork',
  'MacAddressInUse', 'AllocationOnAutoAddressSubnet', 'ServicePortInUse', 'AddressPairAndPortSecurityRequired', 'PortSecurityPortHasSecurityGroup',
  'RouterNotFound', 'RouterInUse', 'RouterAlreadyExists', 'RouterInterfaceNotFound', 'RouterInterfaceNotFoundForSubnet', 'RouterInterfaceInUseByFloatingIP',
  'RouterInterfaceInUseByRoute', 'RouterExternalGatewayInUseByFloatingIp', 'InvalidRoutes', 'RoutesExhausted',
  'FloatingIPNotFound', 'FloatingIPAlreadyExists', 'FloatingIPPortAlreadyAssociated', 'ExternalGatewayForFloatingIPNotFound', 'ExternalIpAddressExhausted',
  'SecurityGroupNotFound', 'SecurityGroupInUse', 'SecurityGroupAlreadyExists', 'SecurityGroupCannotRemoveDefault', 'SecurityGroupCannotUpdateDefault',
  'SecurityGroupDefaultAlreadyExists', 'SecurityGroupRuleExists', 'SecurityGroupRuleNotFound', 'SecurityGroupRuleInvalidProtocol', 'SecurityGroupInvalidPortRange',
  'SecurityGroupInvalidPortValue', 'SecurityGroupRuleParameterConflict', 'SecurityGroupRemoteGroupAndRemoteIpPrefix', 'SecurityGroupInvalidIcmpValue',
  'SecurityGroupEthertypeConflictWithProtocol', 'SecurityGroupInvalidProtocolForPort', 'SecurityGroupMissingIcmpType', 'SecurityGroupProtocolRequiredWithPorts',
  'SecurityGroupRuleAlreadyExists', 'SubnetMismatchForPort',
  'LoadBalancerNotFound', 'LoadBalancerAlreadyExists', 'ListenerNotFound', 'PoolNotFound', 'MemberNotFound', 'HealthMonitorNotFound',
  'DuplicateListenerEntry', 'DuplicateMemberEntry', 'DuplicatePoolEntry', 'DuplicateHealthMonitor', 'ListenerPoolProtocolMismatch', 'InvalidOption',
  'IDAlreadyExists', 'ProviderNotEnabled',
  'FirewallRuleNotFound', 'FirewallRuleAlreadyExists', 'FirewallRuleInUse', 'FirewallRuleInvalidPortValue', 'FirewallRuleInvalidAction',
  'FirewallRuleWithPortWithoutProtocolInvalid', 'FirewallRuleInvalidICMPParameter', 'FirewallIpAddressConflict', 'FirewallRuleAlreadyAssociated',
  'FirewallRuleNotAssociatedWithPolicy', 'FirewallPolicyNotFound', 'FirewallPolicyAlreadyExists', 'FirewallPolicyInUse',
  'FirewallGroupNotFound', 'FirewallGroupAlreadyExists', 'FirewallGroupInUse', 'FirewallGroupPortInUse', 'FirewallGroupPortInvalid',
  'FirewallGroupPortInvalidProject', 'FirewallGroupCannotRemoveDefault', 'FirewallGroupDefaultAlreadyExists', 'FirewallDefaultObjectUpdateRestricted',
  'IKEPolicyNotFound', 'IKEPolicyAlreadyExists', 'IKEPolicyInUse', 'IPsecPolicyNotFound', 'IPsecPolicyAlreadyExists', 'IPsecPolicyInUse',
  'VPNEndpointGroupNotFound', 'VPNEndpointGroupAlreadyExists', 'EndpointGroupInUse', 'MissingEndpointForEndpointGroup', 'InvalidEndpointInEndpointGroup',
  'NonExistingSubnetInEndpointGroup', 'WrongEndpointGroupType', 'VPNServiceNotFound', 'VPNServiceAlreadyExists', 'VPNServiceInUse', 'RouterIsNotExternal',
  'IPsecSiteConnectionNotFound', 'IPsecSiteConnectionAlreadyExists', 'IPsecSiteConnectionDpdIntervalValueError', 'IPsecSiteConnectionMtuError',
  'VPNPeerAddressNotResolved', 'MixedIPVersionsForIPSecEndpoints', 'MixedIPVersionsForPeerCidrs', 'MixedIPVersionsForIPSecConnection',
  'SubnetIsNotConnectedToRouter', 'PeerCidrOverlapsLocalCidr', 'RouterMustBeDisabled',
] as const;

export interface ErrorShape {
  readonly __typename: string;
  readonly code: string;
  readonly message: string;
  readonly field?: readonly string[] | undefined;
  readonly issues?: readonly { path: readonly string[]; message: string }[];
}

export const ErrorInterface = builder.interfaceRef<ErrorShape>('Error').implement({
  description: 'An expected failure of a mutation. `code` is stable; Neutron exception names are used where Neutron has one.',
  fields: (t) => ({
    code: t.exposeString('code'),
    message: t.exposeString('message'),
  }),
  resolveType: (e) => e.__typename,
});

const FieldIssue = builder.objectRef<{ path: readonly string[]; message: string }>('FieldIssue').implement({
  fields: (t) => ({
    path: t.exposeStringList('path', { description: 'Path of the offending field inside `input`.' }),
    message: t.exposeString('message'),
  }),
});

export const InputValidationError = builder.objectRef<ErrorShape>('InputValidationError').implement({
  description: 'The input did not validate; nothing was changed.',
  interfaces: [ErrorInterface],
  isTypeOf: (e) => (e as ErrorShape).__typename === 'InputValidationError',
  fields: (t) => ({ issues: t.field({ type: [FieldIssue], resolve: (e) => e.issues ?? [] }) }),
});

const known = new Set<string>(ERROR_CODES);

export const DomainErrorTypes = ERROR_CODES.map((code) =>
  builder.objectRef<ErrorShape>(code).implement({
    interfaces: [ErrorInterface],
    isTypeOf: (e) => (e as ErrorShape).__typename === code,
    fields: (t) => ({
      field: t.stringList({ nullable: true, description: 'Input field the error is about, when there is one.', resolve: (e) => (e.field ? [...e.field] : null) }),
    }),
  }),
);

/** A generic error for codes that have no type of their own yet (should not happen; logged). */
export const OtherError = builder.objectRef<ErrorShape>('OtherError').implement({
  interfaces: [ErrorInterface],
  isTypeOf: (e) => (e as ErrorShape).__typename === 'OtherError',
  fields: () => ({}),
});

export const ALL_ERROR_TYPES = [InputValidationError, ...DomainErrorTypes, OtherError];

export function toErrorShape(e: DomainError): ErrorShape {
  // A malformed field noticed by a decider reads exactly like one the input schema refused.
  if (e.code === 'InputValidationError') return validationError([{ path: [...(e.field ?? [])], message: e.message }]);
  return { __typename: known.has(e.code) ? e.code : 'OtherError', code: e.code, message: e.message, field: e.field };
}

export function validationError(issues: readonly Pick<z.core.$ZodIssue, 'path' | 'message'>[]): ErrorShape {
  const list = issues.map((i) => ({ path: i.path.map(String), message: i.message }));
  return {
    __typename: 'InputValidationError',
    code: 'InputValidationError',
    message: `invalid input: ${list.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')}`,
    issues: list,
  };
}
