import { alreadyExists, baseFields, basePatch, liveResource, notFound, type Lifecycle, type ResourceBase } from '../common/index.js';
import type { Decision } from '../decider.js';
import { domainError, isDomainError, type AlreadyExistsKind, type DomainError, type ErrorCode, type NotFoundKind } from '../errors.js';
import { cidrsOverlap, formatCidr, parseCidr, parseIp, type Cidr } from '../ipam/index.js';
import type {
  ConnectionFacts,
  ConnectionInput,
  EndpointGroupCommand,
  IkePolicyCommand,
  IkePolicyInput,
  IpsecPolicyCommand,
  IpsecPolicyInput,
  IpsecSiteConnectionCommand,
  VpnServiceCommand,
} from './commands.js';
import {
  AUTH_ALGORITHMS,
  DPD_ACTIONS,
  ENCRYPTION_ALGORITHMS,
  PFS_GROUPS,
  type ConnectionFields,
  type EndpointGroupEvent,
  type IkePolicyEvent,
  type IkePolicyFields,
  type IpsecPolicyEvent,
  type IpsecPolicyFields,
  type IpsecSiteConnectionEvent,
  type VpnServiceEvent,
} from './events.js';
import type { EndpointGroupState, IkePolicyState, IpsecPolicyState, IpsecSiteConnectionState, VpnServiceState } from './state.js';

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
const invalid = (field: string, reason: string): DomainError =>
  domainError('InvalidInput', `Invalid input for ${field}. Reason: ${reason}.`, { field: [field] });

/** A create: new, an identical retry (nothing), or a conflict. */
function created<R extends ResourceBase, E>(
  s: Lifecycle<R>,
  kind: NotFoundKind & AlreadyExistsKind,
  data: Omit<R, 'updatedAt'>,
  event: E,
  ignore: readonly string[] = [],
): Decision<E> {
  if (s.status === 'deleted') return notFound(kind, data.id);
  if (s.status === 'live') {
    const strip = (o: object) => Object.fromEntries(Object.entries(o).filter(([k]) => !['createdAt', 'updatedAt', ...ignore].includes(k)));
    return sameJson(strip(s.resource), strip(data)) ? [] : alreadyExists(kind, data.id);
  }
  return [event];
}

function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[], fallback: T): T | DomainError {
  if (value === undefined || value === null) return fallback;
  const v = String(value).toLowerCase();
  return allowed.find((a) => a === v) ?? invalid(field, `'${String(value)}' is not in [${allowed.join(', ')}]`);
}

/** `{units: seconds, value ≥ 60}` (neutron-vpnaas' lifetime validator). */
function lifetimeOf(value: unknown, fallback: number): { units: 'seconds'; value: number } | DomainError {
  if (value === undefined || value === null) return { units: 'seconds', value: fallback };
  const l = value as { units?: string; value?: number };
  if ((l.units ?? 'seconds') !== 'seconds') return invalid('lifetime', `unit '${l.units}' is not in [seconds]`);
  const v = l.value ?? fallback;
  if (!Number.isInteger(v) || v < 60) return invalid('lifetime', `'${v}' should be an integer of at least 60 seconds`);
  return { units: 'seconds', value: v };
}

// ---- policies ----

type PolicyDefaults = {
  readonly authAlgorithm: 'sha1';
  readonly encryptionAlgorithm: 'aes-128';
  readonly pfs: 'group5';
  readonly lifetime: number;
};
const POLICY_DEFAULTS: PolicyDefaults = { authAlgorithm: 'sha1', encryptionAlgorithm: 'aes-128', pfs: 'group5', lifetime: 3600 };

function commonPolicy(input: IkePolicyInput | IpsecPolicyInput, have?: IkePolicyFields | IpsecPolicyFields) {
  const authAlgorithm = oneOf('auth_algorithm', input.authAlgorithm, AUTH_ALGORITHMS, have?.authAlgorithm ?? POLICY_DEFAULTS.authAlgorithm);
  if (isDomainError(authAlgorithm)) return authAlgorithm;
  const encryptionAlgorithm = oneOf(
    'encryption_algorithm',
    input.encryptionAlgorithm,
    ENCRYPTION_ALGORITHMS,
    have?.encryptionAlgorithm ?? POLICY_DEFAULTS.encryptionAlgorithm,
  );
  if (isDomainError(encryptionAlgorithm)) return encryptionAlgorithm;
  const pfs = oneOf('pfs', input.pfs, PFS_GROUPS, have?.pfs ?? POLICY_DEFAULTS.pfs);
  if (isDomainError(pfs)) return pfs;
  const lifetime = lifetimeOf(input.lifetime, have?.lifetime.value ?? POLICY_DEFAULTS.lifetime);
  if (isDomainError(lifetime)) return lifetime;
  return { authAlgorithm, encryptionAlgorithm, pfs, lifetime };
}

function ikeFields(input: IkePolicyInput, have?: IkePolicyFields): IkePolicyFields | DomainError {
  const common = commonPolicy(input, have);
  if (isDomainError(common)) return common;
  const phase1NegotiationMode = oneOf(
    'phase1_negotiation_mode',
    input.phase1NegotiationMode,
    ['main', 'aggressive'] as const,
    have?.phase1NegotiationMode ?? 'main',
  );
  if (isDomainError(phase1NegotiationMode)) return phase1NegotiationMode;
  const ikeVersion = oneOf('ike_version', input.ikeVersion, ['v1', 'v2'] as const, have?.ikeVersion ?? 'v1');
  if (isDomainError(ikeVersion)) return ikeVersion;
  return { ...common, phase1NegotiationMode, ikeVersion };
}

function ipsecFields(input: IpsecPolicyInput, have?: IpsecPolicyFields): IpsecPolicyFields | DomainError {
  const common = commonPolicy(input, have);
  if (isDomainError(common)) return common;
  const transformProtocol = oneOf(
    'transform_protocol',
    input.transformProtocol,
    ['esp', 'ah', 'ah-esp'] as const,
    have?.transformProtocol ?? 'esp',
  );
  if (isDomainError(transformProtocol)) return transformProtocol;
  const encapsulationMode = oneOf(
    'encapsulation_mode',
    input.encapsulationMode,
    ['tunnel', 'transport'] as const,
    have?.encapsulationMode ?? 'tunnel',
  );
  if (isDomainError(encapsulationMode)) return encapsulationMode;
  return { ...common, transformProtocol, encapsulationMode };
}

const inUse = (code: ErrorCode, what: string, id: string, connections: readonly string[]): DomainError =>
  domainError(code, `${what} ${id} is in use by existing IPsecSiteConnection(s) and cannot be deleted.`, {
    details: { connections: [...connections] },
  });

export function decideIkePolicy(c: IkePolicyCommand, s: IkePolicyState): Decision<IkePolicyEvent> {
  if (c.type === 'CreateIkePolicy') {
    const base = baseFields(c);
    if (isDomainError(base)) return base;
    const fields = ikeFields(c);
    if (isDomainError(fields)) return fields;
    const data = { id: c.id, project: c.project, ...base, ...fields, createdAt: c.now };
    return created(s, 'IKEPolicy', data, { type: 'IkePolicyCreated', data });
  }
  const policy = liveResource(s, 'IKEPolicy', c.id, c.expectedRevision);
  if (isDomainError(policy)) return policy;
  if (c.type === 'DeleteIkePolicy') {
    if (c.usedByConnections.length > 0) return inUse('IKEPolicyInUse', 'IKEPolicy', policy.id, c.usedByConnections);
    return [{ type: 'IkePolicyDeleted', data: { id: policy.id, deletedAt: c.now } }];
  }
  const base = basePatch(c.changes);
  if (isDomainError(base)) return base;
  const fields = ikeFields(c.changes, policy);
  if (isDomainError(fields)) return fields;
  return [{ type: 'IkePolicyUpdated', data: { id: policy.id, changes: { ...base, ...fields }, updatedAt: c.now } }];
}

export function decideIpsecPolicy(c: IpsecPolicyCommand, s: IpsecPolicyState): Decision<IpsecPolicyEvent> {
  if (c.type === 'CreateIpsecPolicy') {
    const base = baseFields(c);
    if (isDomainError(base)) return base;
    const fields = ipsecFields(c);
    if (isDomainError(fields)) return fields;
    const data = { id: c.id, project: c.project, ...base, ...fields, createdAt: c.now };
    return created(s, 'IPsecPolicy', data, { type: 'IpsecPolicyCreated', data });
  }
  const policy = liveResource(s, 'IPsecPolicy', c.id, c.expectedRevision);
  if (isDomainError(policy)) return policy;
  if (c.type === 'DeleteIpsecPolicy') {
    if (c.usedByConnections.length > 0) return inUse('IPsecPolicyInUse', 'IPsecPolicy', policy.id, c.usedByConnections);
    return [{ type: 'IpsecPolicyDeleted', data: { id: policy.id, deletedAt: c.now } }];
  }
  const base = basePatch(c.changes);
  if (isDomainError(base)) return base;
  const fields = ipsecFields(c.changes, policy);
  if (isDomainError(fields)) return fields;
  return [{ type: 'IpsecPolicyUpdated', data: { id: policy.id, changes: { ...base, ...fields }, updatedAt: c.now } }];
}

// ---- endpoint groups ----

export function decideEndpointGroup(c: EndpointGroupCommand, s: EndpointGroupState): Decision<EndpointGroupEvent> {
  if (c.type === 'CreateEndpointGroup') {
    const base = baseFields(c);
    if (isDomainError(base)) return base;
    const type = oneOf('type', c.groupType, ['subnet', 'cidr'] as const, 'cidr');
    if (isDomainError(type)) return type;
    if (c.endpoints.length === 0)
      return domainError('MissingEndpointForEndpointGroup', `No endpoints specified for endpoint group '${base.name}'.`, {
        field: ['endpoints'],
      });
    const endpoints: string[] = [];
    for (const e of c.endpoints) {
      if (type === 'cidr') {
        const cidr = parseCidr(e);
        if (isDomainError(cidr))
          return domainError('InvalidEndpointInEndpointGroup', `Endpoint '${e}' is invalid for group type 'cidr': not a valid CIDR.`, {
            field: ['endpoints'],
          });
        endpoints.push(formatCidr(cidr));
      } else {
        if (!c.visibleSubnetIds.includes(e))
          return domainError('NonExistingSubnetInEndpointGroup', `Subnet ${e} in endpoint group does not exist.`, { field: ['endpoints'] });
        endpoints.push(e);
      }
    }
    const dup = endpoints.find((e, i) => endpoints.indexOf(e) !== i);
    if (dup !== undefined)
      return domainError('InvalidEndpointInEndpointGroup', `Endpoint '${dup}' is listed twice.`, { field: ['endpoints'] });
    const data = { id: c.id, project: c.project, ...base, type, endpoints, createdAt: c.now };
    return created(s, 'VPNEndpointGroup', data, { type: 'EndpointGroupCreated', data });
  }
  const group = liveResource(s, 'VPNEndpointGroup', c.id, c.expectedRevision);
  if (isDomainError(group)) return group;
  if (c.type === 'DeleteEndpointGroup') {
    if (c.usedByConnections.length > 0) {
      return domainError('EndpointGroupInUse', `Endpoint group ${group.id} is in use and cannot be deleted.`, {
        details: { connections: [...c.usedByConnections] },
      });
    }
    return [{ type: 'EndpointGroupDeleted', data: { id: group.id, deletedAt: c.now } }];
  }
  const base = basePatch(c.changes);
  if (isDomainError(base)) return base;
  return [{ type: 'EndpointGroupUpdated', data: { id: group.id, changes: base, updatedAt: c.now } }];
}

// ---- VPN services ----

export function decideVpnService(c: VpnServiceCommand, s: VpnServiceState): Decision<VpnServiceEvent> {
  if (c.type === 'CreateVpnService') {
    const base = baseFields(c);
    if (isDomainError(base)) return base;
    const data = {
      id: c.id,
      project: c.project,
      ...base,
      routerId: c.routerId,
      adminStateUp: c.adminStateUp ?? true,
      externalV4Ip: c.routerExternalV4Ip,
      createdAt: c.now,
    };
    if (s.status === 'initial' && c.routerExternalV4Ip === null) {
      return domainError('RouterIsNotExternal', `Router ${c.routerId} has no external network gateway set.`, { field: ['routerId'] });
    }
    return created(s, 'VPNService', data, { type: 'VpnServiceCreated', data }, ['externalV4Ip']);
  }
  const service = liveResource(s, 'VPNService', c.id, c.expectedRevision);
  if (isDomainError(service)) return service;
  if (c.type === 'DeleteVpnService') {
    if (c.usedByConnections.length > 0)
      return domainError('VPNServiceInUse', `VPNService ${service.id} is still in use.`, {
        details: { connections: [...c.usedByConnections] },
      });
    return [{ type: 'VpnServiceDeleted', data: { id: service.id, deletedAt: c.now } }];
  }
  const base = basePatch(c.changes);
  if (isDomainError(base)) return base;
  return [
    {
      type: 'VpnServiceUpdated',
      data: {
        id: service.id,
        changes: { ...base, ...(c.changes.adminStateUp !== undefined ? { adminStateUp: c.changes.adminStateUp } : {}) },
        updatedAt: c.now,
      },
    },
  ];
}

// ---- site connections ----

type Checked = Omit<ConnectionFields, 'pskSealed'>;

/** neutron-vpnaas' validator: DPD, MTU, peer address, endpoint group types, IP versions, router attachment, overlap. */
function checkConnection(input: ConnectionInput, have: Partial<ConnectionFields>, facts: ConnectionFacts): Checked | DomainError {
  const dpdIn = { ...have.dpd, ...input.dpd };
  const action = oneOf('dpd action', dpdIn.action, DPD_ACTIONS, 'hold');
  if (isDomainError(action)) return action;
  const interval = dpdIn.interval ?? 30;
  const timeout = dpdIn.timeout ?? 120;
  if (!Number.isInteger(interval) || interval <= 0) return invalid('dpd', `interval '${interval}' should be a positive integer`);
  if (timeout <= interval) {
    return domainError('IPsecSiteConnectionDpdIntervalValueError', 'ipsec_site_connection timeout is equal to or less than dpd_interval.', {
      field: ['dpd'],
    });
  }
  const peerAddress = input.peerAddress ?? have.peerAddress;
  const peer = peerAddress === undefined ? null : parseIp(peerAddress);
  if (!peer)
    return domainError('VPNPeerAddressNotResolved', `Peer address ${peerAddress ?? ''} cannot be resolved.`, { field: ['peerAddress'] });
  const mtu = input.mtu ?? have.mtu ?? 1500;
  if (!Number.isInteger(mtu) || mtu < (peer.version === 4 ? 68 : 1280)) {
    return domainError('IPsecSiteConnectionMtuError', `ipsec_site_connection MTU ${mtu} is too small for ipv${peer.version}.`, {
      field: ['mtu'],
    });
  }
  const initiator = oneOf('initiator', input.initiator, ['bi-directional', 'response-only'] as const, have.initiator ?? 'bi-directional');
  if (isDomainError(initiator)) return initiator;
  const peerId = input.peerId ?? have.peerId ?? peerAddress ?? '';
  if (peerId.trim() === '') return invalid('peer_id', 'must not be empty');
  const { localGroup, peerGroup } = facts;
  if (localGroup.type !== 'subnet')
    return domainError('WrongEndpointGroupType', `Endpoint group local type is '${localGroup.type}' and should be 'subnet'.`, {
      field: ['localEpGroupId'],
    });
  if (peerGroup.type !== 'cidr')
    return domainError('WrongEndpointGroupType', `Endpoint group peer type is '${peerGroup.type}' and should be 'cidr'.`, {
      field: ['peerEpGroupId'],
    });
  const cidrs = (list: readonly string[]): Cidr[] => list.map((x) => parseCidr(x)).filter((x): x is Cidr => !isDomainError(x));
  const locals = cidrs(localGroup.cidrs);
  const peers = cidrs(peerGroup.cidrs);
  if (new Set(locals.map((x) => x.version)).size > 1)
    return domainError('MixedIPVersionsForIPSecEndpoints', `Endpoints in group ${localGroup.id} do not have the same IP version.`, {
      field: ['localEpGroupId'],
    });
  if (new Set(peers.map((x) => x.version)).size > 1)
    return domainError('MixedIPVersionsForPeerCidrs', 'Peer CIDRs do not have the same IP version.', { field: ['peerEpGroupId'] });
  if ([...locals, ...peers].some((x) => x.version !== peer.version)) {
    return domainError(
      'MixedIPVersionsForIPSecConnection',
      'IP versions of the peer address and the local and peer CIDRs of the connection differ.',
      { field: ['peerEpGroupId'] },
    );
  }
  const detached = localGroup.subnetIds.find((id) => !facts.routerSubnetIds.includes(id));
  if (detached !== undefined) {
    return domainError('SubnetIsNotConnectedToRouter', `Subnet ${detached} is not connected to Router ${facts.service.routerId}.`, {
      field: ['localEpGroupId'],
    });
  }
  for (const p of peers) {
    const hit = locals.find((l) => cidrsOverlap(l, p));
    if (hit)
      return domainError('PeerCidrOverlapsLocalCidr', `Peer CIDR ${formatCidr(p)} overlaps local CIDR ${formatCidr(hit)}.`, {
        field: ['peerEpGroupId'],
      });
  }
  if (facts.service.externalV4Ip === null && peer.version === 4) {
    return domainError('RouterIsNotExternal', `Router ${facts.service.routerId} has no external network gateway set.`, {
      field: ['vpnServiceId'],
    });
  }
  return {
    peerAddress: peerAddress as string,
    peerId,
    localId: input.localId ?? have.localId ?? '',
    mtu,
    initiator,
    dpd: { action, interval, timeout },
    adminStateUp: input.adminStateUp ?? have.adminStateUp ?? true,
    ikePolicyId: (input.ikePolicyId ?? have.ikePolicyId) as string,
    ipsecPolicyId: (input.ipsecPolicyId ?? have.ipsecPolicyId) as string,
    localEpGroupId: localGroup.id,
    peerEpGroupId: peerGroup.id,
  };
}

export function decideIpsecSiteConnection(c: IpsecSiteConnectionCommand, s: IpsecSiteConnectionState): Decision<IpsecSiteConnectionEvent> {
  if (c.type === 'CreateIpsecSiteConnection') {
    const base = baseFields(c);
    if (isDomainError(base)) return base;
    if (!c.pskSealed) return invalid('psk', 'a pre-shared key is required');
    const fields = checkConnection(c, {}, c.facts);
    if (isDomainError(fields)) return fields;
    const data = {
      id: c.id,
      project: c.project,
      ...base,
      vpnServiceId: c.vpnServiceId,
      ...fields,
      pskSealed: c.pskSealed,
      status: 'PENDING_CREATE' as const,
      createdAt: c.now,
    };
    // A sealed PSK differs on every sealing: a retried create is recognised by everything else.
    return created(s, 'IPsecSiteConnection', data, { type: 'IpsecSiteConnectionCreated', data }, ['pskSealed', 'status', 'statusReason']);
  }
  const conn = liveResource(s, 'IPsecSiteConnection', c.id, c.expectedRevision);
  if (isDomainError(conn)) return conn;
  switch (c.type) {
    case 'DeleteIpsecSiteConnection':
      return [{ type: 'IpsecSiteConnectionDeleted', data: { id: conn.id, deletedAt: c.now } }];
    case 'ReportIpsecSiteConnectionStatus':
      if (conn.status === c.status && (conn.statusReason ?? null) === c.reason) return [];
      return [{ type: 'IpsecSiteConnectionStatusChanged', data: { id: conn.id, status: c.status, reason: c.reason, updatedAt: c.now } }];
    case 'UpdateIpsecSiteConnection': {
      const base = basePatch(c.changes);
      if (isDomainError(base)) return base;
      if (c.changes.pskSealed === '') return invalid('psk', 'a pre-shared key is required');
      const fields = checkConnection(c.changes, conn, c.facts);
      if (isDomainError(fields)) return fields;
      const changes = { ...base, ...fields, ...(c.changes.pskSealed !== undefined ? { pskSealed: c.changes.pskSealed } : {}) };
      return [{ type: 'IpsecSiteConnectionUpdated', data: { id: conn.id, changes, updatedAt: c.now } }];
    }
  }
}
