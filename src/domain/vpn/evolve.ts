import { revised, type Lifecycle } from '../common/index.js';
import type { EndpointGroupEvent, IkePolicyEvent, IpsecPolicyEvent, IpsecSiteConnectionEvent, VpnServiceEvent } from './events.js';
import type { EndpointGroupState, IkePolicyState, IpsecPolicyState, IpsecSiteConnectionState, VpnServiceState } from './state.js';

type Ev = { readonly type: string; readonly data: { readonly id: string } & Record<string, unknown> };

/** Created / Updated (`changes`) / Deleted: the fold every VPN aggregate shares. */
function fold<R>(state: Lifecycle<R>, event: Ev): Lifecycle<R> {
  const d = event.data;
  if (event.type.endsWith('Created')) return revised(state, { ...d, updatedAt: d['createdAt'] } as R);
  if (event.type.endsWith('Deleted')) return { status: 'deleted', revision: state.revision + 1, id: d.id };
  if (state.status !== 'live') return state;
  if (event.type.endsWith('StatusChanged'))
    return revised(state, { ...state.resource, status: d['status'], statusReason: d['reason'], updatedAt: d['updatedAt'] });
  return revised(state, { ...state.resource, ...(d['changes'] as object), updatedAt: d['updatedAt'] });
}

export const evolveIkePolicy = (s: IkePolicyState, e: IkePolicyEvent): IkePolicyState => fold(s, e);
export const evolveIpsecPolicy = (s: IpsecPolicyState, e: IpsecPolicyEvent): IpsecPolicyState => fold(s, e);
export const evolveEndpointGroup = (s: EndpointGroupState, e: EndpointGroupEvent): EndpointGroupState => fold(s, e);
export const evolveVpnService = (s: VpnServiceState, e: VpnServiceEvent): VpnServiceState => fold(s, e);
export const evolveIpsecSiteConnection = (s: IpsecSiteConnectionState, e: IpsecSiteConnectionEvent): IpsecSiteConnectionState => fold(s, e);
