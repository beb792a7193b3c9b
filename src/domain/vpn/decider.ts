import type { Decider } from '../decider.js';
import type {
  EndpointGroupCommand,
  IkePolicyCommand,
  IpsecPolicyCommand,
  IpsecSiteConnectionCommand,
  VpnServiceCommand,
} from './commands.js';
import { decideEndpointGroup, decideIkePolicy, decideIpsecPolicy, decideIpsecSiteConnection, decideVpnService } from './decide.js';
import type { EndpointGroupEvent, IkePolicyEvent, IpsecPolicyEvent, IpsecSiteConnectionEvent, VpnServiceEvent } from './events.js';
import { evolveEndpointGroup, evolveIkePolicy, evolveIpsecPolicy, evolveIpsecSiteConnection, evolveVpnService } from './evolve.js';
import {
  initialEndpointGroupState,
  initialIkePolicyState,
  initialIpsecPolicyState,
  initialIpsecSiteConnectionState,
  initialVpnServiceState,
  type EndpointGroupState,
  type IkePolicyState,
  type IpsecPolicyState,
  type IpsecSiteConnectionState,
  type VpnServiceState,
} from './state.js';

export const ikePolicyDecider: Decider<IkePolicyCommand, IkePolicyState, IkePolicyEvent> = {
  initialState: initialIkePolicyState,
  decide: decideIkePolicy,
  evolve: evolveIkePolicy,
};
export const ipsecPolicyDecider: Decider<IpsecPolicyCommand, IpsecPolicyState, IpsecPolicyEvent> = {
  initialState: initialIpsecPolicyState,
  decide: decideIpsecPolicy,
  evolve: evolveIpsecPolicy,
};
export const endpointGroupDecider: Decider<EndpointGroupCommand, EndpointGroupState, EndpointGroupEvent> = {
  initialState: initialEndpointGroupState,
  decide: decideEndpointGroup,
  evolve: evolveEndpointGroup,
};
export const vpnServiceDecider: Decider<VpnServiceCommand, VpnServiceState, VpnServiceEvent> = {
  initialState: initialVpnServiceState,
  decide: decideVpnService,
  evolve: evolveVpnService,
};
export const ipsecSiteConnectionDecider: Decider<IpsecSiteConnectionCommand, IpsecSiteConnectionState, IpsecSiteConnectionEvent> = {
  initialState: initialIpsecSiteConnectionState,
  decide: decideIpsecSiteConnection,
  evolve: evolveIpsecSiteConnection,
};

export const ikePolicyStreamId = (id: string): string => `ikepolicy-${id}`;
export const ipsecPolicyStreamId = (id: string): string => `ipsecpolicy-${id}`;
export const endpointGroupStreamId = (id: string): string => `endpointgroup-${id}`;
export const vpnServiceStreamId = (id: string): string => `vpnservice-${id}`;
export const ipsecSiteConnectionStreamId = (id: string): string => `ipsecsiteconnection-${id}`;
