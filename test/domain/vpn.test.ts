import { describe, expect, it } from 'vitest';
import {
  endpointGroupDecider,
  ikePolicyDecider,
  ipsecPolicyDecider,
  ipsecSiteConnectionDecider,
  vpnServiceDecider,
  type ConnectionFacts,
  type IpsecSiteConnectionEvent,
} from '../../src/domain/vpn/index.js';
import { spec } from '../support/spec.js';

const NOW = '2026-01-01T00:00:00.000Z';
const P = 'project-a';
const ID = '11111111-1111-4111-8111-111111111111';
const ROUTER = '22222222-2222-4222-8222-222222222222';
const SUBNET = '33333333-3333-4333-8333-333333333333';
const SERVICE = '44444444-4444-4444-8444-444444444444';
const LOCAL = '55555555-5555-4555-8555-555555555555';
const PEER = '66666666-6666-4666-8666-666666666666';
const IKE = '77777777-7777-4777-8777-777777777777';
const IPSEC = '88888888-8888-4888-8888-888888888888';

describe('IKE and IPsec policies', () => {
  it('take Neutron defaults: sha1, aes-128, group5, 3600 s, main mode, IKEv1, ESP in tunnel mode', () => {
    spec(ikePolicyDecider)
      .given([])
      .when({ type: 'CreateIkePolicy', id: ID, project: P, now: NOW })
      .then([
        {
          type: 'IkePolicyCreated',
          data: {
            id: ID,
            project: P,
            name: '',
            description: '',
            tags: [],
            authAlgorithm: 'sha1',
            encryptionAlgorithm: 'aes-128',
            pfs: 'group5',
            lifetime: { units: 'seconds', value: 3600 },
            phase1NegotiationMode: 'main',
            ikeVersion: 'v1',
            createdAt: NOW,
          },
        },
      ]);
    spec(ipsecPolicyDecider)
      .given([])
      .when({ type: 'CreateIpsecPolicy', id: ID, project: P, now: NOW })
      .then([
        {
          type: 'IpsecPolicyCreated',
          data: {
            id: ID,
            project: P,
            name: '',
            description: '',
            tags: [],
            authAlgorithm: 'sha1',
            encryptionAlgorithm: 'aes-128',
            pfs: 'group5',
            lifetime: { units: 'seconds', value: 3600 },
            transformProtocol: 'esp',
            encapsulationMode: 'tunnel',
            createdAt: NOW,
          },
        },
      ]);
  });

  it('refuse unknown algorithms and short lifetimes; one in use cannot be deleted', () => {
    const s = spec(ikePolicyDecider).given([]);
    s.when({ type: 'CreateIkePolicy', id: ID, project: P, now: NOW, authAlgorithm: 'md5' }).thenError('InvalidInput');
    s.when({ type: 'CreateIkePolicy', id: ID, project: P, now: NOW, lifetime: { value: 30 } }).thenError('InvalidInput');
    const created = ikePolicyDecider.decide({ type: 'CreateIkePolicy', id: ID, project: P, now: NOW }, ikePolicyDecider.initialState);
    if (!Array.isArray(created)) throw new Error('create failed');
    spec(ikePolicyDecider)
      .given(created)
      .when({ type: 'DeleteIkePolicy', id: ID, now: NOW, usedByConnections: [PEER] })
      .thenError('IKEPolicyInUse');
  });
});

describe('endpoint groups and VPN services', () => {
  it('a cidr group normalises its CIDRs; a subnet group names visible subnets only', () => {
    const s = spec(endpointGroupDecider).given([]);
    s.when({
      type: 'CreateEndpointGroup',
      id: ID,
      project: P,
      now: NOW,
      groupType: 'cidr',
      endpoints: ['10.2.0.7/24'],
      visibleSubnetIds: [],
    }).then([
      {
        type: 'EndpointGroupCreated',
        data: { id: ID, project: P, name: '', description: '', tags: [], type: 'cidr', endpoints: ['10.2.0.0/24'], createdAt: NOW },
      },
    ]);
    s.when({ type: 'CreateEndpointGroup', id: ID, project: P, now: NOW, groupType: 'cidr', endpoints: [], visibleSubnetIds: [] }).thenError(
      'MissingEndpointForEndpointGroup',
    );
    s.when({
      type: 'CreateEndpointGroup',
      id: ID,
      project: P,
      now: NOW,
      groupType: 'cidr',
      endpoints: ['nope'],
      visibleSubnetIds: [],
    }).thenError('InvalidEndpointInEndpointGroup');
    s.when({
      type: 'CreateEndpointGroup',
      id: ID,
      project: P,
      now: NOW,
      groupType: 'subnet',
      endpoints: [SUBNET],
      visibleSubnetIds: [],
    }).thenError('NonExistingSubnetInEndpointGroup');
  });

  it('a VPN service needs a router with an external gateway', () => {
    spec(vpnServiceDecider)
      .given([])
      .when({ type: 'CreateVpnService', id: ID, project: P, now: NOW, routerId: ROUTER, routerExternalV4Ip: null })
      .thenError('RouterIsNotExternal');
  });
});

describe('IPsec site connections', () => {
  const facts: ConnectionFacts = {
    service: { id: SERVICE, routerId: ROUTER, externalV4Ip: '203.0.113.10' },
    localGroup: { id: LOCAL, type: 'subnet', cidrs: ['10.1.0.0/24'], subnetIds: [SUBNET] },
    peerGroup: { id: PEER, type: 'cidr', cidrs: ['10.2.0.0/24'], subnetIds: [] },
    routerSubnetIds: [SUBNET],
  };
  const create = {
    type: 'CreateIpsecSiteConnection' as const,
    id: ID,
    project: P,
    now: NOW,
    vpnServiceId: SERVICE,
    facts,
    ikePolicyId: IKE,
    ipsecPolicyId: IPSEC,
    localEpGroupId: LOCAL,
    peerEpGroupId: PEER,
    peerAddress: '203.0.113.11',
    pskSealed: 'sealed',
  };
  const created: IpsecSiteConnectionEvent = {
    type: 'IpsecSiteConnectionCreated',
    data: {
      id: ID,
      project: P,
      name: '',
      description: '',
      tags: [],
      vpnServiceId: SERVICE,
      peerAddress: '203.0.113.11',
      peerId: '203.0.113.11',
      localId: '',
      mtu: 1500,
      initiator: 'bi-directional',
      dpd: { action: 'hold', interval: 30, timeout: 120 },
      adminStateUp: true,
      ikePolicyId: IKE,
      ipsecPolicyId: IPSEC,
      localEpGroupId: LOCAL,
      peerEpGroupId: PEER,
      pskSealed: 'sealed',
      status: 'PENDING_CREATE',
      createdAt: NOW,
    },
  };

  it('is created PENDING_CREATE with Neutron defaults (peer id = peer address, MTU 1500, DPD hold 30/120)', () => {
    spec(ipsecSiteConnectionDecider).given([]).when(create).then([created]);
  });

  it('keeps the validator: DPD timeout above interval, MTU, group types, router attachment, overlap, IP versions', () => {
    const s = spec(ipsecSiteConnectionDecider).given([]);
    s.when({ ...create, dpd: { interval: 30, timeout: 30 } }).thenError('IPsecSiteConnectionDpdIntervalValueError');
    s.when({ ...create, mtu: 60 }).thenError('IPsecSiteConnectionMtuError');
    s.when({ ...create, peerAddress: 'peer.example' }).thenError('VPNPeerAddressNotResolved');
    s.when({ ...create, facts: { ...facts, localGroup: { ...facts.localGroup, type: 'cidr' } } }).thenError('WrongEndpointGroupType');
    s.when({ ...create, facts: { ...facts, routerSubnetIds: [] } }).thenError('SubnetIsNotConnectedToRouter');
    s.when({ ...create, facts: { ...facts, peerGroup: { ...facts.peerGroup, cidrs: ['10.1.0.128/25'] } } }).thenError(
      'PeerCidrOverlapsLocalCidr',
    );
    s.when({ ...create, facts: { ...facts, peerGroup: { ...facts.peerGroup, cidrs: ['2001:db8::/64'] } } }).thenError(
      'MixedIPVersionsForIPSecConnection',
    );
    s.when({ ...create, pskSealed: '' }).thenError('InvalidInput');
  });

  it('a retried create with a freshly sealed PSK emits nothing; status reports change it only when it differs', () => {
    const s = spec(ipsecSiteConnectionDecider).given([created]);
    s.when({ ...create, pskSealed: 'sealed-again' }).thenNothing();
    const report = {
      type: 'ReportIpsecSiteConnectionStatus' as const,
      id: ID,
      now: NOW,
      status: 'DOWN' as const,
      reason: 'AUTHENTICATION_FAILED',
    };
    s.when(report).then([
      { type: 'IpsecSiteConnectionStatusChanged', data: { id: ID, status: 'DOWN', reason: 'AUTHENTICATION_FAILED', updatedAt: NOW } },
    ]);
    spec(ipsecSiteConnectionDecider)
      .given([
        created,
        { type: 'IpsecSiteConnectionStatusChanged', data: { id: ID, status: 'DOWN', reason: 'AUTHENTICATION_FAILED', updatedAt: NOW } },
      ])
      .when(report)
      .thenNothing();
    expect(created.data).not.toHaveProperty('psk');
  });
});
