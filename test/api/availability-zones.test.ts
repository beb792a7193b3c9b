import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentProgress } from '../../src/agent/applied.js';
import { registerAgent } from '../../src/agent/registration.js';
import { applyBindings } from '../../src/agent/reports.js';
import { planBindings } from '../../src/agent/scheduler.js';
import { zoneFactsOf } from '../../src/agent/zone-choice.js';
import { schedulingRecords } from '../../src/projections/topology/index.js';
import { CREATE_SUBNET, startTestApi, type TestApi } from '../support/api.js';

/** Neutron's availability zones through the real server: hints on create, the zone list, the zones serving a resource. */
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.close());

const CREATE_NETWORK = `mutation($input: CreateNetworkInput!) { createNetwork(input: $input) { __typename
  ... on CreateNetworkSuccess { network { id uuid availabilityZoneHints availabilityZones } } ... on Error { code message }
  ... on AvailabilityZoneNotFound { field } ... on InputValidationError { issues { path } } } }`;
const CREATE_ROUTER = `mutation($input: CreateRouterInput!) { createRouter(input: $input) { __typename
  ... on CreateRouterSuccess { router { id uuid availabilityZoneHints availabilityZones } } ... on Error { code message }
  ... on AvailabilityZoneNotFound { field } } }`;
const ZONES = '{ availabilityZones { name resource state } }';
const SET_ADMIN_STATE = `mutation($i: SetAgentAdminStateInput!) { setAgentAdminState(input: $i) { __typename } }`;

const HOSTS = ['az-host-a', 'az-host-b', 'az-host-n'];

async function counts(token: string): Promise<{ networks: number; routers: number }> {
  const r = await api.gql(token, '{ networks { totalCount } routers { totalCount } }');
  return { networks: r.networks.totalCount, routers: r.routers.totalCount };
}

/** One scheduling round as an agent makes it: zones from the registrations, hints from the read model. */
async function schedule(): Promise<void> {
  const agents = await agentProgress(api.services.sql);
  const rec = await schedulingRecords(api.services.sql, HOSTS[0]!);
  const live = agents.filter((a) => a.alive && a.adminStateUp).map((a) => a.host);
  await applyBindings(
    api.services,
    HOSTS[0]!,
    planBindings(rec.ports, rec.routers, live, new Set(), live, zoneFactsOf(agents, rec.networkHints)),
  );
}

describe('availability zones', () => {
  it('refuses hints while no agent is in the zone, and creates nothing', async () => {
    const member = await api.token('az-early');
    expect((await api.gql(member, ZONES)).availabilityZones).toEqual([]);
    const refused = (await api.gql(member, CREATE_NETWORK, { input: { name: 'early', availabilityZoneHints: ['nova'] } })).createNetwork;
    expect(refused).toEqual({
      __typename: 'AvailabilityZoneNotFound',
      code: 'AvailabilityZoneNotFound',
      message: 'AvailabilityZone nova could not be found.',
      field: ['availabilityZoneHints'],
    });
    expect(await counts(member)).toEqual({ networks: 0, routers: 0 });
  });

  it('lists the zones agents registered in, for networks and routers, available while a live enabled agent is there', async () => {
    for (const [host, zone] of [
      ['az-host-a', 'az-1'],
      ['az-host-b', 'az-2'],
      ['az-host-n', null],
    ] as const) {
      expect((await registerAgent(api.services, host, randomUUID(), null, 'legacy', null, zone)).ok).toBe(true);
    }
    const member = await api.token('az-reader');
    const all = (state: Record<string, string>) =>
      ['az-1', 'az-2', 'nova'].flatMap((name) =>
        ['network', 'router'].map((resource) => ({ name, resource, state: state[name] ?? 'available' })),
      );
    expect((await api.gql(member, ZONES)).availabilityZones).toEqual(all({}));
    // A disabled agent takes its zone out of service (it is given nothing new); enabled again, back.
    const set = (adminStateUp: boolean) => api.gql(api.adminToken, SET_ADMIN_STATE, { i: { host: 'az-host-b', adminStateUp } });
    expect((await set(false)).setAgentAdminState.__typename).toBe('SetAgentAdminStateSuccess');
    expect((await api.gql(member, ZONES)).availabilityZones).toEqual(all({ 'az-2': 'unavailable' }));
    // Neutron's filters: name, resource, state.
    const filtered = await api.gql(member, '{ availabilityZones(resource: "router", state: "unavailable") { name resource state } }');
    expect(filtered.availabilityZones).toEqual([{ name: 'az-2', resource: 'router', state: 'unavailable' }]);
    expect((await api.gql(member, '{ availabilityZones(name: "az-1") { name resource } }')).availabilityZones).toEqual([
      { name: 'az-1', resource: 'network' },
      { name: 'az-1', resource: 'router' },
    ]);
    await set(true);
    expect((await api.gql(member, ZONES)).availabilityZones).toEqual(all({}));
  });

  it('refuses a network or router hinting an unknown zone with AvailabilityZoneNotFound and creates nothing', async () => {
    const member = await api.token('az-refused');
    const net = (await api.gql(member, CREATE_NETWORK, { input: { name: 'n', availabilityZoneHints: ['az-1', 'az-9'] } })).createNetwork;
    expect(net).toMatchObject({ __typename: 'AvailabilityZoneNotFound', message: 'AvailabilityZone az-9 could not be found.' });
    const router = (await api.gql(member, CREATE_ROUTER, { input: { name: 'r', availabilityZoneHints: ['elsewhere'] } })).createRouter;
    expect(router).toMatchObject({ __typename: 'AvailabilityZoneNotFound', message: 'AvailabilityZone elsewhere could not be found.' });
    const twice = (await api.gql(member, CREATE_NETWORK, { input: { name: 'n', availabilityZoneHints: ['az-1', 'az-1'] } })).createNetwork;
    expect(twice).toMatchObject({ __typename: 'InputValidationError', issues: [{ path: ['availabilityZoneHints'] }] });
    expect(await counts(member)).toEqual({ networks: 0, routers: 0 });
  });

  it("schedules a hinted network's DHCP and a hinted router into their zones, and shows the zones serving them", async () => {
    const member = await api.token('az-user');
    const created = (await api.gql(member, CREATE_NETWORK, { input: { name: 'in-az-2', availabilityZoneHints: ['az-2'] } })).createNetwork;
    expect(created).toMatchObject({
      __typename: 'CreateNetworkSuccess',
      network: { availabilityZoneHints: ['az-2'], availabilityZones: [] },
    });
    const networkId = created.network.uuid as string;
    const subnet = (await api.gql(member, CREATE_SUBNET, { input: { networkId, ipVersion: 4, cidr: '10.90.0.0/24' } })).createSubnet;
    expect(subnet.__typename).toBe('CreateSubnetSuccess');
    const plain = (await api.gql(member, CREATE_NETWORK, { input: { name: 'anywhere' } })).createNetwork.network;
    expect(plain).toMatchObject({ availabilityZoneHints: [], availabilityZones: [] });

    const router = (await api.gql(member, CREATE_ROUTER, { input: { name: 'in-nova', availabilityZoneHints: ['nova'] } })).createRouter;
    expect(router).toMatchObject({ __typename: 'CreateRouterSuccess', router: { availabilityZoneHints: ['nova'], availabilityZones: [] } });
    const attached = await api.gql(
      member,
      `mutation($id: String!, $s: String!) { addRouterInterface(input: { id: $id, subnetId: $s }) { __typename } }`,
      { id: router.router.uuid, s: subnet.subnet.uuid },
    );
    expect(attached.addRouterInterface.__typename).toBe('AddRouterInterfaceSuccess');

    await schedule();
    const shown = await api.gql(
      member,
      `query($n: ID!, $r: ID!) { n: node(id: $n) { ... on Network { availabilityZoneHints availabilityZones } }
                                r: node(id: $r) { ... on Router { availabilityZoneHints availabilityZones } } }`,
      { n: created.network.id, r: router.router.id },
    );
    expect(shown).toEqual({
      n: { availabilityZoneHints: ['az-2'], availabilityZones: ['az-2'] },
      r: { availabilityZoneHints: ['nova'], availabilityZones: ['nova'] },
    });
    // The agents say the same. Without hints both would have gone to az-host-a (least loaded, first by name).
    const agents = (await api.gql(api.adminToken, '{ agents { host routerIds dhcpNetworkIds } }')).agents as {
      host: string;
      routerIds: string[];
      dhcpNetworkIds: string[];
    }[];
    expect(agents.find((a) => a.host === 'az-host-b')?.dhcpNetworkIds).toContain(networkId);
    expect(agents.find((a) => a.host === 'az-host-n')?.routerIds).toContain(router.router.uuid);
    expect(agents.find((a) => a.host === 'az-host-a')).toMatchObject({ routerIds: [], dhcpNetworkIds: [] });
  });
});
