import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportIpsecSiteConnectionStatus, secretKey } from '../../src/app/vpn/vpn.js';
import { buildTopology, registerTopologyPart, vpnTopologyPart } from '../../src/projections/topology/index.js';
import { openSecret } from '../../src/store/seal/secret-key.js';
import { CREATE_NETWORK, CREATE_SUBNET, startTestApi, type TestApi } from '../support/api.js';

let api: TestApi;
let keyDir = '';
beforeAll(async () => {
  keyDir = await mkdtemp(join(tmpdir(), 'nl-vpn-key-'));
  api = await startTestApi({ NETLEDGER_SECRET_KEY: join(keyDir, 'secret-key') });
});
afterAll(async () => {
  await api?.close();
  if (keyDir) await rm(keyDir, { recursive: true, force: true });
});

const CONN =
  'id uuid status statusReason peerAddress peerId localId mtu initiator dpd { action interval timeout } adminStateUp vpnServiceId';

async function networkWithSubnet(token: string, name: string, cidr: string, extra: Record<string, unknown> = {}) {
  const n = (await api.gql(token, CREATE_NETWORK, { input: { name, ...extra } })).createNetwork.network;
  const s = (await api.gql(token, CREATE_SUBNET, { input: { networkId: n.id, ipVersion: 4, cidr } })).createSubnet.subnet;
  return { network: n, subnet: s };
}

const PSK = 'a-secret-nobody-may-read-back-1234';

describe('VPNaaS over GraphQL', () => {
  let t = '';
  let router: { id: string; uuid: string };
  let subnet: { id: string; uuid: string };
  let ike: { id: string; uuid: string };
  let ipsec: { id: string; uuid: string };
  let local: { id: string; uuid: string };
  let peer: { id: string; uuid: string };
  let service: { id: string; uuid: string };
  let conn: any;

  beforeAll(async () => {
    t = await api.token('vpn-site-a');
    const pub = await networkWithSubnet(api.adminToken, 'vpn-public', '198.51.100.0/24', { external: true });
    const priv = await networkWithSubnet(t, 'site-a', '10.41.0.0/24');
    subnet = priv.subnet;
    router = (await api.mutate(t, 'createRouter', { name: 'site-a' }, 'router { id uuid }')).router;
    expect((await api.mutate(t, 'createVpnService', { routerId: router.id }, 'vpnService { id uuid }')).code).toBe('RouterIsNotExternal');
    expect((await api.mutate(t, 'setRouterGateway', { id: router.id, networkId: pub.network.id }, 'router { id uuid }')).__typename).toBe(
      'SetRouterGatewaySuccess',
    );
    expect((await api.mutate(t, 'addRouterInterface', { id: router.id, subnetId: subnet.id }, 'router { id uuid }')).__typename).toBe(
      'AddRouterInterfaceSuccess',
    );
  });

  it('creates policies with Neutron defaults, endpoint groups, a service on the router and a connection PENDING_CREATE', async () => {
    const ikeOut = await api.mutate(
      t,
      'createIkePolicy',
      { name: 'ike' },
      'ikePolicy { id uuid authAlgorithm encryptionAlgorithm ikeVersion pfs phase1NegotiationMode lifetime { units value } }',
    );
    expect(ikeOut.ikePolicy).toMatchObject({
      authAlgorithm: 'sha1',
      encryptionAlgorithm: 'aes-128',
      ikeVersion: 'v1',
      pfs: 'group5',
      phase1NegotiationMode: 'main',
      lifetime: { units: 'seconds', value: 3600 },
    });
    ike = ikeOut.ikePolicy;
    ipsec = (await api.mutate(t, 'createIpsecPolicy', { name: 'ipsec', transformProtocol: 'esp' }, 'ipsecPolicy { id uuid }')).ipsecPolicy;
    expect((await api.mutate(t, 'createIpsecPolicy', { encapsulationMode: 'sideways' }, 'ipsecPolicy { id uuid }')).code).toBe(
      'InvalidInput',
    );
    local = (await api.mutate(t, 'createEndpointGroup', { type: 'subnet', endpoints: [subnet.id] }, 'endpointGroup { id uuid }'))
      .endpointGroup;
    peer = (
      await api.mutate(t, 'createEndpointGroup', { type: 'cidr', endpoints: ['10.42.0.9/24'] }, 'endpointGroup { id uuid endpoints }')
    ).endpointGroup;
    expect(peer).toMatchObject({ endpoints: ['10.42.0.0/24'] });
    const svc = await api.mutate(
      t,
      'createVpnService',
      { name: 'vpn', routerId: router.id },
      'vpnService { id uuid routerId externalV4Ip adminStateUp }',
    );
    expect(svc.vpnService).toMatchObject({ routerId: router.uuid, adminStateUp: true });
    expect(svc.vpnService.externalV4Ip).toMatch(/^198\.51\.100\.\d+$/);
    service = svc.vpnService;
    const out = await api.mutate(
      t,
      'createIpsecSiteConnection',
      {
        name: 'to-b',
        vpnServiceId: service.id,
        ikePolicyId: ike.id,
        ipsecPolicyId: ipsec.id,
        localEpGroupId: local.id,
        peerEpGroupId: peer.id,
        peerAddress: '198.51.100.200',
        psk: PSK,
      },
      `ipsecSiteConnection { ${CONN} }`,
    );
    expect(out.__typename).toBe('CreateIpsecSiteConnectionSuccess');
    conn = out.ipsecSiteConnection;
    expect(conn).toMatchObject({
      status: 'PENDING_CREATE',
      peerId: '198.51.100.200',
      mtu: 1500,
      initiator: 'bi-directional',
      dpd: { action: 'hold', interval: 30, timeout: 120 },
    });
  });

  it('never answers the PSK back, and neither the log nor the read model holds it in clear', async () => {
    const fields = (await api.gql(t, `{ __type(name: "IpsecSiteConnection") { fields { name } } }`)).__type.fields.map(
      (f: { name: string }) => f.name,
    );
    expect(fields.filter((f: string) => /psk|secret/i.test(f))).toEqual([]);
    const [log] = await api.services.sql<{ n: string }[]>`select count(*)::text as n from nl_events where data::text like ${`%${PSK}%`}`;
    expect(log?.n).toBe('0');
    const [rm] = await api.services.sql<{ n: string }[]>`select count(*)::text as n from rm_resources where doc::text like ${`%${PSK}%`}`;
    expect(rm?.n).toBe('0');
    // The agent's topology part opens it with the key file.
    const key = secretKey(api.services);
    registerTopologyPart(
      'vpn',
      vpnTopologyPart((sealed) => openSecret(key, sealed)),
    );
    const { topology } = await buildTopology(api.services.sql);
    const c = topology.vpnConnections?.find((x) => x.id === conn.uuid);
    expect(c).toMatchObject({
      routerId: router.uuid,
      psk: PSK,
      localCidrs: ['10.41.0.0/24'],
      peerCidrs: ['10.42.0.0/24'],
      peerAddress: '198.51.100.200',
    });
  });

  it('keeps neutron-vpnaas validation and in-use rules', async () => {
    const base = {
      vpnServiceId: service.id,
      ikePolicyId: ike.id,
      ipsecPolicyId: ipsec.id,
      localEpGroupId: local.id,
      peerEpGroupId: peer.id,
      peerAddress: '198.51.100.201',
      psk: PSK,
    };
    expect((await api.mutate(t, 'createIpsecSiteConnection', { ...base, dpd: { interval: 60, timeout: 30 } })).code).toBe(
      'IPsecSiteConnectionDpdIntervalValueError',
    );
    expect((await api.mutate(t, 'createIpsecSiteConnection', { ...base, localEpGroupId: peer.id })).code).toBe('WrongEndpointGroupType');
    expect((await api.mutate(t, 'createIpsecSiteConnection', { ...base, psk: '' })).code).toBe('InvalidInput');
    const overlap = (
      await api.mutate(t, 'createEndpointGroup', { type: 'cidr', endpoints: ['10.41.0.128/25'] }, 'endpointGroup { id uuid }')
    ).endpointGroup;
    expect((await api.mutate(t, 'createIpsecSiteConnection', { ...base, peerEpGroupId: overlap.id })).code).toBe(
      'PeerCidrOverlapsLocalCidr',
    );
    // Another project sees none of it.
    const other = await api.token('vpn-site-other');
    expect((await api.mutate(other, 'createIpsecSiteConnection', base)).code).toBe('VPNServiceNotFound');
    expect((await api.mutate(other, 'createVpnService', { routerId: router.id })).code).toBe('RouterNotFound');
    expect((await api.mutate(t, 'deleteIkePolicy', { id: ike.id })).code).toBe('IKEPolicyInUse');
    expect((await api.mutate(t, 'deleteIpsecPolicy', { id: ipsec.id })).code).toBe('IPsecPolicyInUse');
    expect((await api.mutate(t, 'deleteEndpointGroup', { id: peer.id })).code).toBe('EndpointGroupInUse');
    expect((await api.mutate(t, 'deleteVpnService', { id: service.id })).code).toBe('VPNServiceInUse');
  });

  it('shows what the dataplane reports, reason included; a new PSK is accepted and stays unreadable', async () => {
    const out = await reportIpsecSiteConnectionStatus(api.services, conn.uuid, 'DOWN', 'received AUTHENTICATION_FAILED notify error', {
      actor: 'agent:test',
    });
    expect(out.ok).toBe(true);
    const seen = (
      await api.gql(t, `query($id: ID!) { node(id: $id) { ... on IpsecSiteConnection { status statusReason } } }`, { id: conn.id })
    ).node;
    expect(seen).toEqual({ status: 'DOWN', statusReason: 'received AUTHENTICATION_FAILED notify error' });
    expect(
      (await api.mutate(t, 'updateIpsecSiteConnection', { id: conn.id, psk: 'another-secret-5678' }, `ipsecSiteConnection { ${CONN} }`))
        .__typename,
    ).toBe('UpdateIpsecSiteConnectionSuccess');
    const [log] = await api.services.sql<
      { n: string }[]
    >`select count(*)::text as n from nl_events where data::text like '%another-secret-5678%'`;
    expect(log?.n).toBe('0');
    expect((await api.mutate(t, 'deleteIpsecSiteConnection', { id: conn.id })).__typename).toBe('DeleteIpsecSiteConnectionSuccess');
    expect((await api.mutate(t, 'deleteVpnService', { id: service.id })).__typename).toBe('DeleteVpnServiceSuccess');
    expect((await api.mutate(t, 'deleteIkePolicy', { id: ike.id })).__typename).toBe('DeleteIkePolicySuccess');
  });
});
