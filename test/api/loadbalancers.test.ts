import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordApplied, recordApplyFailed, recordMemberHealth } from '../../src/app/loadbalancing/index.js';
import { CREATE_NETWORK, CREATE_PORT, CREATE_SUBNET, startTestApi, type TestApi } from '../support/api.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.close());

const STATUS = 'provisioningStatus operatingStatus';
const ERR = '... on Error { code message } ... on InputValidationError { issues { path message } }';
const LB_FIELDS = `id uuid name revision ${STATUS} statusError vipAddress vipSubnetId vipNetworkId generation appliedGeneration
  vipPort { uuid deviceOwner deviceId fixedIps { subnetId ipAddress } }`;

/** One mutation `name` answering `field` with `fields`, or a typed error. */
async function mutate(token: string, name: string, input: Record<string, unknown>, field?: string, fields = `id uuid ${STATUS}`) {
  const cap = name.charAt(0).toUpperCase() + name.slice(1);
  const success = field ? `... on ${cap}Success { ${field} { ${fields} } }` : `... on ${cap}Success { deleted { uuid } }`;
  const r = await api.gql(token, `mutation($input: ${cap}Input!) { ${name}(input: $input) { __typename ${success} ${ERR} } }`, { input });
  return r[name];
}

async function ok(token: string, name: string, input: Record<string, unknown>, field?: string, fields?: string) {
  const r = await mutate(token, name, input, field, fields);
  expect(r.__typename, JSON.stringify(r)).toBe(`${name.charAt(0).toUpperCase()}${name.slice(1)}Success`);
  return field ? r[field] : r.deleted;
}

async function subnetFor(token: string, cidr: string) {
  const net = (await api.gql(token, CREATE_NETWORK, { input: { name: `net-${cidr}` } })).createNetwork.network;
  const subnet = (await api.gql(token, CREATE_SUBNET, { input: { networkId: net.id, ipVersion: 4, cidr } })).createSubnet.subnet;
  return { net, subnet };
}

const TREE = `query($id: ID!) { node(id: $id) { ... on LoadBalancer { ${STATUS} generation appliedGeneration
  listeners { uuid protocolPort ${STATUS} defaultPool { uuid } }
  pools { uuid ${STATUS} members { uuid address protocolPort weight ${STATUS} } healthMonitor { uuid type ${STATUS} } } } } }`;

async function tree(token: string, lbId: string) {
  return (await api.gql(token, TREE, { id: lbId })).node;
}

/** Octavia's VIP ports: device owner Octavia, device id `lb-<load balancer id>`. */
async function vipPorts(token: string, lbUuid: string): Promise<number> {
  const r = await api.gql(token, `query($d: String) { ports(portFilter: { deviceId: $d, deviceOwner: "Octavia" }) { totalCount } }`, {
    d: `lb-${lbUuid}`,
  });
  return r.ports.totalCount;
}

describe('load balancers over GraphQL', () => {
  it('runs the whole lifecycle: VIP port, tree, statuses from dataplane reports, cascade delete', async () => {
    const t = await api.token('lb-alpha');
    const { net, subnet } = await subnetFor(t, '10.20.0.0/24');
    const lb = await ok(t, 'createLoadBalancer', { name: 'web', vipSubnetId: subnet.id }, 'loadBalancer', LB_FIELDS);
    expect(lb).toMatchObject({
      name: 'web',
      provisioningStatus: 'PENDING_CREATE',
      operatingStatus: 'OFFLINE',
      vipSubnetId: subnet.uuid,
      vipNetworkId: net.uuid,
      appliedGeneration: 0,
    });
    expect(lb.vipAddress).toMatch(/^10\.20\.0\.\d+$/);
    expect(lb.vipPort).toEqual({
      uuid: expect.any(String),
      deviceOwner: 'Octavia',
      deviceId: `lb-${lb.uuid}`,
      fixedIps: [{ subnetId: subnet.uuid, ipAddress: lb.vipAddress }],
    });

    const listener = await ok(t, 'createListener', { loadBalancerId: lb.id, protocol: 'HTTP', protocolPort: 80 }, 'listener');
    const pool = await ok(
      t,
      'createPool',
      { listenerId: listener.id, protocol: 'HTTP', lbAlgorithm: 'ROUND_ROBIN' },
      'pool',
      `id uuid ${STATUS} listeners { uuid }`,
    );
    expect(pool.listeners).toEqual([{ uuid: listener.uuid }]);
    const m1 = await ok(t, 'addMember', { poolId: pool.id, address: '10.20.0.11', protocolPort: 8080 }, 'member');
    const m2 = await ok(t, 'addMember', { poolId: pool.uuid, address: '10.20.0.12', protocolPort: 8080, weight: 5 }, 'member');
    const hm = await ok(
      t,
      'createHealthMonitor',
      { poolId: pool.id, type: 'HTTP', delay: 5, timeout: 3, maxRetries: 3 },
      'healthMonitor',
      `id uuid ${STATUS} httpMethod urlPath expectedCodes maxRetriesDown`,
    );
    expect(hm).toMatchObject({
      httpMethod: 'GET',
      urlPath: '/',
      expectedCodes: '200',
      maxRetriesDown: 3,
      provisioningStatus: 'PENDING_CREATE',
    });

    let view = await tree(t, lb.id);
    expect(view).toMatchObject({ provisioningStatus: 'PENDING_CREATE', operatingStatus: 'OFFLINE', appliedGeneration: 0 });
    expect(view.listeners).toEqual([
      {
        uuid: listener.uuid,
        protocolPort: 80,
        provisioningStatus: 'PENDING_CREATE',
        operatingStatus: 'OFFLINE',
        defaultPool: { uuid: pool.uuid },
      },
    ]);
    expect(view.pools[0].members.map((m: any) => m.uuid)).toEqual([m1.uuid, m2.uuid]);
    expect(view.pools[0].healthMonitor).toMatchObject({ uuid: hm.uuid, type: 'HTTP', provisioningStatus: 'PENDING_CREATE' });

    // the dataplane applied everything: ACTIVE; monitored members not yet checked are OFFLINE
    const applied = await recordApplied(api.services, lb.uuid, view.generation);
    expect(applied.ok).toBe(true);
    view = await tree(t, lb.id);
    expect(view).toMatchObject({ provisioningStatus: 'ACTIVE', operatingStatus: 'DEGRADED', appliedGeneration: view.generation });
    expect(view.listeners[0]).toMatchObject({ provisioningStatus: 'ACTIVE', operatingStatus: 'DEGRADED' });
    expect(view.pools[0]).toMatchObject({ provisioningStatus: 'ACTIVE', operatingStatus: 'OFFLINE' });
    expect(view.pools[0].members.map((m: any) => m.provisioningStatus)).toEqual(['ACTIVE', 'ACTIVE']);
    expect(view.pools[0].healthMonitor).toMatchObject({ provisioningStatus: 'ACTIVE', operatingStatus: 'ONLINE' });

    // roll-up from observed member health
    expect((await recordMemberHealth(api.services, lb.uuid, m1.uuid, 'ONLINE')).ok).toBe(true);
    expect((await recordMemberHealth(api.services, lb.uuid, m2.uuid, 'ERROR')).ok).toBe(true);
    view = await tree(t, lb.id);
    expect(view.pools[0].members.map((m: any) => m.operatingStatus)).toEqual(['ONLINE', 'ERROR']);
    expect(view.pools[0].operatingStatus).toBe('DEGRADED');
    expect(view.listeners[0].operatingStatus).toBe('DEGRADED');
    expect(view.operatingStatus).toBe('DEGRADED');
    await recordMemberHealth(api.services, lb.uuid, m2.uuid, 'ONLINE');
    view = await tree(t, lb.id);
    expect([view.operatingStatus, view.listeners[0].operatingStatus, view.pools[0].operatingStatus]).toEqual([
      'ONLINE',
      'ONLINE',
      'ONLINE',
    ]);
    // a repeated observation records nothing
    const before = (await api.gql(t, `query($id: ID!) { node(id: $id) { ... on LoadBalancer { revision } } }`, { id: lb.id })).node
      .revision;
    const same = await recordMemberHealth(api.services, lb.uuid, m2.uuid, 'ONLINE');
    expect(same).toMatchObject({ ok: true, events: [] });
    expect((await api.gql(t, `query($id: ID!) { node(id: $id) { ... on LoadBalancer { revision } } }`, { id: lb.id })).node.revision).toBe(
      before,
    );

    // a change is pending again until applied; the parents show PENDING_UPDATE
    const renamed = await ok(
      t,
      'updateListener',
      { id: listener.id, name: 'front', connectionLimit: 1000 },
      'listener',
      `name connectionLimit ${STATUS}`,
    );
    expect(renamed).toMatchObject({ name: 'front', connectionLimit: 1000, provisioningStatus: 'PENDING_UPDATE' });
    view = await tree(t, lb.id);
    expect(view.provisioningStatus).toBe('PENDING_UPDATE');
    expect(view.pools[0].provisioningStatus).toBe('ACTIVE');
    const failed = await recordApplyFailed(api.services, lb.uuid, view.generation, 'haproxy did not start');
    expect(failed.ok).toBe(true);
    const errored = (
      await api.gql(t, `query($id: ID!) { node(id: $id) { ... on LoadBalancer { provisioningStatus statusError } } }`, { id: lb.id })
    ).node;
    expect(errored).toEqual({ provisioningStatus: 'ERROR', statusError: 'haproxy did not start' });
    await recordApplied(api.services, lb.uuid, view.generation);

    // children keep the delete from happening unless cascade is asked for
    const refused = await mutate(t, 'deleteLoadBalancer', { id: lb.id });
    expect(refused.code).toBe('InvalidInput');
    expect(await vipPorts(t, lb.uuid)).toBe(1);
    await ok(t, 'deleteLoadBalancer', { id: lb.id, cascade: true });
    expect(await vipPorts(t, lb.uuid)).toBe(0);
    view = await tree(t, lb.id);
    expect(view.provisioningStatus).toBe('PENDING_DELETE');
    expect(view.pools[0].members.map((m: any) => m.provisioningStatus)).toEqual(['PENDING_DELETE', 'PENDING_DELETE']);
    const again = await mutate(t, 'createListener', { loadBalancerId: lb.id, protocol: 'TCP', protocolPort: 81 }, 'listener');
    expect(again.code).toBe('LoadBalancerNotFound');
    // the VIP address is free again
    const reuse = await api.gql(t, CREATE_PORT, { input: { networkId: net.id, fixedIps: [{ ipAddress: lb.vipAddress }] } });
    expect(reuse.createPort.__typename).toBe('CreatePortSuccess');
    // once the dataplane has removed it, the load balancer is gone from the read model
    await recordApplied(api.services, lb.uuid, view.generation);
    expect(await tree(t, lb.id)).toBeNull();
    expect((await api.gql(t, `query($id: ID!) { node(id: $id) { id } }`, { id: m1.id })).node).toBeNull();
    expect((await api.gql(t, '{ loadBalancers { totalCount } }')).loadBalancers.totalCount).toBe(0);
  });

  it('places the VIP on a network, an explicit address, or an existing port; repeated creates allocate nothing', async () => {
    const t = await api.token('lb-vip');
    const { net, subnet } = await subnetFor(t, '10.30.0.0/24');
    const onNet = await ok(t, 'createLoadBalancer', { vipNetworkId: net.id, vipAddress: '10.30.0.50' }, 'loadBalancer', LB_FIELDS);
    expect(onNet).toMatchObject({ vipAddress: '10.30.0.50', vipSubnetId: subnet.uuid });
    const taken = await mutate(t, 'createLoadBalancer', { vipSubnetId: subnet.id, vipAddress: '10.30.0.50' }, 'loadBalancer');
    expect(taken.code).toBe('IpAddressAlreadyAllocated');

    const id = randomUUID();
    const first = await ok(t, 'createLoadBalancer', { id, name: 'same', vipSubnetId: subnet.uuid }, 'loadBalancer', LB_FIELDS);
    const second = await ok(t, 'createLoadBalancer', { id, name: 'same', vipSubnetId: subnet.uuid }, 'loadBalancer', LB_FIELDS);
    expect(second).toEqual(first);
    expect(await vipPorts(t, id)).toBe(1);
    const different = await mutate(t, 'createLoadBalancer', { id, name: 'other', vipSubnetId: subnet.uuid }, 'loadBalancer');
    expect(different.code).toBe('IDAlreadyExists');

    const port = (await api.gql(t, CREATE_PORT, { input: { networkId: net.id } })).createPort.port;
    const onPort = await ok(t, 'createLoadBalancer', { vipPortId: port.id }, 'loadBalancer', LB_FIELDS);
    expect(onPort).toMatchObject({ vipAddress: port.fixedIps[0].ipAddress, vipPort: { uuid: port.uuid, deviceOwner: '' } });
    await ok(t, 'deleteLoadBalancer', { id: onPort.id });
    // the user's port is left alone
    expect((await api.gql(t, `query($id: ID!) { node(id: $id) { id } }`, { id: port.id })).node).not.toBeNull();
  });

  it('answers typed errors for invalid trees and changes nothing', async () => {
    const t = await api.token('lb-alpha');
    const { subnet } = await subnetFor(t, '10.21.0.0/24');
    const lb = await ok(t, 'createLoadBalancer', { vipSubnetId: subnet.id }, 'loadBalancer');
    const l80 = await ok(t, 'createListener', { loadBalancerId: lb.id, protocol: 'HTTP', protocolPort: 80 }, 'listener');

    const dupListener = await mutate(t, 'createListener', { loadBalancerId: lb.id, protocol: 'TCP', protocolPort: 80 }, 'listener');
    expect(dupListener).toMatchObject({ __typename: 'DuplicateListenerEntry', code: 'DuplicateListenerEntry' });
    const mismatch = await mutate(t, 'createPool', { listenerId: l80.id, protocol: 'TCP', lbAlgorithm: 'ROUND_ROBIN' }, 'pool');
    expect(mismatch.__typename).toBe('ListenerPoolProtocolMismatch');
    const badProtocol = await mutate(t, 'createListener', { loadBalancerId: lb.id, protocol: 'UDP', protocolPort: 53 }, 'listener');
    expect(badProtocol.__typename).toBe('InputValidationError');
    expect(badProtocol.issues[0].path).toEqual(['protocol']);
    const badPort = await mutate(t, 'createListener', { loadBalancerId: lb.id, protocol: 'TCP', protocolPort: 70000 }, 'listener');
    expect(badPort).toMatchObject({ __typename: 'InputValidationError', issues: [{ path: ['protocolPort'] }] });

    const pool = await ok(t, 'createPool', { loadBalancerId: lb.id, protocol: 'HTTP', lbAlgorithm: 'LEAST_CONNECTIONS' }, 'pool');
    const noParent = await mutate(t, 'createPool', { protocol: 'HTTP', lbAlgorithm: 'ROUND_ROBIN' }, 'pool');
    expect(noParent.code).toBe('InvalidInput');
    const cookie = await mutate(
      t,
      'createPool',
      { loadBalancerId: lb.id, protocol: 'TCP', lbAlgorithm: 'ROUND_ROBIN', sessionPersistence: { type: 'HTTP_COOKIE' } },
      'pool',
    );
    expect(cookie.code).toBe('InputValidationError');

    const badDelay = await mutate(
      t,
      'createHealthMonitor',
      { poolId: pool.id, type: 'TCP', delay: 1, timeout: 5, maxRetries: 3 },
      'healthMonitor',
    );
    expect(badDelay).toMatchObject({
      __typename: 'InputValidationError',
      issues: [{ path: ['delay'], message: expect.stringMatching(/delay/) }],
    });
    const badRetries = await mutate(
      t,
      'createHealthMonitor',
      { poolId: pool.id, type: 'TCP', delay: 5, timeout: 5, maxRetries: 11 },
      'healthMonitor',
    );
    expect(badRetries.__typename).toBe('InputValidationError');
    const httpOnPing = await mutate(
      t,
      'createHealthMonitor',
      { poolId: pool.id, type: 'PING', delay: 5, timeout: 5, maxRetries: 3, urlPath: '/health' },
      'healthMonitor',
    );
    expect(httpOnPing.__typename).toBe('InputValidationError');
    const badCodes = await mutate(
      t,
      'createHealthMonitor',
      { poolId: pool.id, type: 'HTTP', delay: 5, timeout: 5, maxRetries: 3, expectedCodes: '700' },
      'healthMonitor',
    );
    expect(badCodes.__typename).toBe('InputValidationError');
    const hm = await ok(t, 'createHealthMonitor', { poolId: pool.id, type: 'HTTP', delay: 5, timeout: 5, maxRetries: 3 }, 'healthMonitor');
    const twoMonitors = await mutate(
      t,
      'createHealthMonitor',
      { poolId: pool.id, type: 'TCP', delay: 5, timeout: 5, maxRetries: 3 },
      'healthMonitor',
    );
    expect(twoMonitors.__typename).toBe('DuplicateHealthMonitor');
    const badUpdate = await mutate(t, 'updateHealthMonitor', { id: hm.id, timeout: 10 }, 'healthMonitor');
    expect(badUpdate.__typename).toBe('InputValidationError');

    await ok(t, 'addMember', { poolId: pool.id, address: '10.21.0.9', protocolPort: 80 }, 'member');
    const dupMember = await mutate(t, 'addMember', { poolId: pool.id, address: '10.21.0.9', protocolPort: 80 }, 'member');
    expect(dupMember.__typename).toBe('DuplicateMemberEntry');
    const badWeight = await mutate(t, 'addMember', { poolId: pool.id, address: '10.21.0.10', protocolPort: 80, weight: 300 }, 'member');
    expect(badWeight.__typename).toBe('InputValidationError');
    const badAddress = await mutate(t, 'addMember', { poolId: pool.id, address: 'not-an-ip', protocolPort: 80 }, 'member');
    expect(badAddress).toMatchObject({ __typename: 'InputValidationError', issues: [{ path: ['address'] }] });
    const stale = await mutate(t, 'updateListener', { id: l80.id, expectedRevision: 7, name: 'x' }, 'listener');
    expect(stale.__typename).toBe('RevisionNumberConstraintFailed');
    const missing = await mutate(t, 'deletePool', { id: randomUUID() });
    expect(missing.__typename).toBe('PoolNotFound');
    const noVip = await mutate(t, 'createLoadBalancer', { name: 'nowhere' }, 'loadBalancer');
    expect(noVip.__typename).toBe('InputValidationError');
    const provider = await mutate(t, 'createLoadBalancer', { vipSubnetId: subnet.id, provider: 'amphora' }, 'loadBalancer');
    expect(provider.__typename).toBe('ProviderNotEnabled');

    const view = await tree(t, lb.id);
    expect(view.listeners).toHaveLength(1);
    expect(view.pools).toHaveLength(1);
    expect(view.pools[0].members).toHaveLength(1);
    expect(view.pools[0].healthMonitor.uuid).toBe(hm.uuid);
    // the refused creates left no VIP port behind
    const ports = await api.gql(t, `query { ports(portFilter: { deviceOwner: "Octavia" }) { totalCount } }`);
    expect(ports.ports.totalCount).toBe((await api.gql(t, '{ loadBalancers { totalCount } }')).loadBalancers.totalCount);
  });

  it('records dataplane reports only for what exists', async () => {
    const t = await api.token('lb-alpha');
    const { subnet } = await subnetFor(t, '10.22.0.0/24');
    const lb = await ok(t, 'createLoadBalancer', { vipSubnetId: subnet.id }, 'loadBalancer', LB_FIELDS);
    const ahead = await recordApplied(api.services, lb.uuid, lb.generation + 1);
    expect(ahead).toMatchObject({ ok: false, error: { code: 'InvalidInput' } });
    expect(await recordMemberHealth(api.services, lb.uuid, randomUUID(), 'ONLINE')).toMatchObject({
      ok: false,
      error: { code: 'MemberNotFound' },
    });
    expect(await recordApplied(api.services, randomUUID(), 1)).toMatchObject({ ok: false, error: { code: 'LoadBalancerNotFound' } });
    expect((await recordApplied(api.services, lb.uuid, lb.generation)).ok).toBe(true);
    // a late report of an older generation changes nothing
    expect(await recordApplied(api.services, lb.uuid, 1)).toMatchObject({ ok: true, events: [] });
  });

  it("hides other projects' load balancers and their children", async () => {
    const a = await api.token('lb-alpha');
    const b = await api.token('lb-beta');
    const { subnet } = await subnetFor(a, '10.23.0.0/24');
    const lb = await ok(a, 'createLoadBalancer', { vipSubnetId: subnet.id }, 'loadBalancer');
    const listener = await ok(a, 'createListener', { loadBalancerId: lb.id, protocol: 'TCP', protocolPort: 22 }, 'listener');
    const pool = await ok(a, 'createPool', { listenerId: listener.id, protocol: 'TCP', lbAlgorithm: 'SOURCE_IP' }, 'pool');
    const member = await ok(a, 'addMember', { poolId: pool.id, address: '10.23.0.7', protocolPort: 22 }, 'member');

    expect((await api.gql(b, '{ loadBalancers { totalCount edges { node { id } } } }')).loadBalancers).toEqual({
      totalCount: 0,
      edges: [],
    });
    for (const x of [lb, listener, pool, member])
      expect((await api.gql(b, `query($id: ID!) { node(id: $id) { id } }`, { id: x.id })).node).toBeNull();
    expect((await mutate(b, 'createListener', { loadBalancerId: lb.id, protocol: 'TCP', protocolPort: 23 }, 'listener')).code).toBe(
      'LoadBalancerNotFound',
    );
    expect((await mutate(b, 'updateListener', { id: listener.id, name: 'mine' }, 'listener')).code).toBe('ListenerNotFound');
    expect((await mutate(b, 'addMember', { poolId: pool.id, address: '10.0.0.1', protocolPort: 1 }, 'member')).code).toBe('PoolNotFound');
    expect((await mutate(b, 'updateMember', { id: member.id, weight: 0 }, 'member')).code).toBe('MemberNotFound');
    expect((await mutate(b, 'deleteLoadBalancer', { id: lb.id, cascade: true })).code).toBe('LoadBalancerNotFound');
    expect((await mutate(b, 'createLoadBalancer', { vipSubnetId: subnet.id }, 'loadBalancer')).code).toBe('SubnetNotFound');
    // a client-chosen id cannot take over another project's object
    const own = (await subnetFor(b, '10.24.0.0/24')).subnet;
    const bLb = await ok(b, 'createLoadBalancer', { vipSubnetId: own.id }, 'loadBalancer');
    const hijack = await mutate(
      b,
      'createListener',
      { id: listener.uuid, loadBalancerId: bLb.id, protocol: 'TCP', protocolPort: 22 },
      'listener',
    );
    expect(hijack.code).toBe('ResourceIdInUse');
    expect((await api.gql(a, `query($id: ID!) { node(id: $id) { ... on Listener { protocolPort } } }`, { id: listener.id })).node).toEqual({
      protocolPort: 22,
    });
    // admins see everything
    expect((await api.gql(api.adminToken, `query($id: ID!) { node(id: $id) { id } }`, { id: lb.id })).node).toEqual({ id: lb.id });
  });

  it('counts load balancers against the project quota', async () => {
    const t = await api.token('lb-quota');
    const projectId = (await api.gql(t, '{ viewer { project { uuid } } }')).viewer.project.uuid;
    const set = await api.gql(
      api.adminToken,
      `mutation { setQuota(input: { projectId: "${projectId}", resource: "loadbalancer", limit: 1 }) { __typename } }`,
    );
    expect(set.setQuota.__typename).toBe('SetQuotaSuccess');
    const { subnet } = await subnetFor(t, '10.25.0.0/24');
    const first = await ok(t, 'createLoadBalancer', { vipSubnetId: subnet.id }, 'loadBalancer', LB_FIELDS);
    const over = await mutate(t, 'createLoadBalancer', { vipSubnetId: subnet.id }, 'loadBalancer');
    expect(over).toMatchObject({ __typename: 'OverQuota', code: 'OverQuota' });
    const quota = async () =>
      (await api.gql(t, '{ viewer { project { quotas { resource used limit } } } }')).viewer.project.quotas.find(
        (q: any) => q.resource === 'loadbalancer',
      );
    expect(await quota()).toEqual({ resource: 'loadbalancer', used: 1, limit: 1 });
    // the refused create allocated no VIP port
    expect((await api.gql(t, `query { ports(portFilter: { deviceOwner: "Octavia" }) { totalCount } }`)).ports.totalCount).toBe(1);
    // the quota is held until the dataplane has removed the load balancer, as in Octavia
    await ok(t, 'deleteLoadBalancer', { id: first.id });
    expect((await mutate(t, 'createLoadBalancer', { vipSubnetId: subnet.id }, 'loadBalancer')).code).toBe('OverQuota');
    await recordApplied(api.services, first.uuid, first.generation + 1);
    expect(await quota()).toEqual({ resource: 'loadbalancer', used: 0, limit: 1 });
    await ok(t, 'createLoadBalancer', { vipSubnetId: subnet.id }, 'loadBalancer');
  });

  it('accepts 20 concurrent member changes on one pool and ends with exactly the final member set', async () => {
    const t = await api.token('lb-busy');
    const { subnet } = await subnetFor(t, '10.26.0.0/24');
    const lb = await ok(t, 'createLoadBalancer', { vipSubnetId: subnet.id }, 'loadBalancer');
    const pool = await ok(t, 'createPool', { loadBalancerId: lb.id, protocol: 'TCP', lbAlgorithm: 'ROUND_ROBIN' }, 'pool');
    const initial = Array.from({ length: 8 }, (_, i) => ({ address: `10.26.1.${i + 1}`, protocolPort: 80 }));
    const replaced = await ok(t, 'replacePoolMembers', { poolId: pool.id, members: initial }, 'pool', 'members { uuid address }');
    expect(replaced.members).toHaveLength(8);
    const [toRemove, toUpdate] = [replaced.members.slice(0, 4), replaced.members.slice(4)];

    const added = Array.from({ length: 12 }, (_, i) => `10.26.2.${i + 1}`);
    const results = await Promise.all([
      ...added.map((address) => mutate(t, 'addMember', { poolId: pool.id, address, protocolPort: 80 }, 'member')),
      ...toRemove.map((m: any) => mutate(t, 'removeMember', { id: m.uuid })),
      ...toUpdate.map((m: any) => mutate(t, 'updateMember', { id: m.uuid, weight: 7 }, 'member')),
    ]);
    expect(results.map((r) => r.__typename).filter((n) => !n.endsWith('Success'))).toEqual([]);

    const expected = [...toUpdate.map((m: any) => `${m.address}/7`), ...added.map((a) => `${a}/1`)].sort();
    const members = async () =>
      (await tree(t, lb.id)).pools[0].members as { uuid: string; address: string; weight: number; provisioningStatus: string }[];
    const live = (await members()).filter((m) => m.provisioningStatus !== 'PENDING_DELETE');
    expect(live.map((m) => `${m.address}/${m.weight}`).sort()).toEqual(expected);
    const gen = (await tree(t, lb.id)).generation;
    await recordApplied(api.services, lb.uuid, gen);
    expect((await members()).map((m) => `${m.address}/${m.weight}`).sort()).toEqual(expected);
    const rows = await api.services.sql<
      { n: bigint }[]
    >`select count(*) as n from rm_resources where kind = 'member' and stream_id = ${`loadbalancer-${lb.uuid}`}`;
    expect(Number(rows[0]!.n)).toBe(16);

    // the batch call converges on a given set, keeping members it matches by address and port
    const keep = live.find((m) => m.address === '10.26.2.1')!;
    const batch = await ok(
      t,
      'replacePoolMembers',
      {
        poolId: pool.id,
        members: [
          { address: '10.26.2.1', protocolPort: 80, weight: 3 },
          { address: '10.26.3.1', protocolPort: 443 },
        ],
      },
      'pool',
      'members { uuid address weight provisioningStatus }',
    );
    const now = batch.members.filter((m: any) => m.provisioningStatus !== 'PENDING_DELETE');
    expect(now.map((m: any) => `${m.address}/${m.weight}`)).toEqual(['10.26.2.1/3', '10.26.3.1/1']);
    expect(now[0].uuid).toBe(keep.uuid);
  });

  it("lists listeners, pools, members and health monitors with Octavia's filters, each project its own", async () => {
    const a = await api.token('lb-lists-a');
    const b = await api.token('lb-lists-b');
    const { subnet } = await subnetFor(a, '10.27.0.0/24');
    const lb = await ok(a, 'createLoadBalancer', { vipSubnetId: subnet.id }, 'loadBalancer');
    const other = await ok(a, 'createLoadBalancer', { vipSubnetId: subnet.id }, 'loadBalancer');
    const http = await ok(a, 'createListener', { loadBalancerId: lb.id, protocol: 'HTTP', protocolPort: 80 }, 'listener');
    const tcp = await ok(a, 'createListener', { loadBalancerId: lb.id, protocol: 'TCP', protocolPort: 22 }, 'listener');
    await ok(a, 'createListener', { loadBalancerId: other.id, protocol: 'HTTP', protocolPort: 80 }, 'listener');
    const web = await ok(a, 'createPool', { listenerId: http.id, protocol: 'HTTP', lbAlgorithm: 'ROUND_ROBIN' }, 'pool');
    const ssh = await ok(a, 'createPool', { loadBalancerId: lb.id, protocol: 'TCP', lbAlgorithm: 'SOURCE_IP' }, 'pool');
    const m1 = await ok(a, 'addMember', { poolId: web.id, address: '10.27.0.11', protocolPort: 8080, subnetId: subnet.id }, 'member');
    await ok(a, 'addMember', { poolId: web.id, address: '10.27.0.12', protocolPort: 8080 }, 'member');
    const m3 = await ok(a, 'addMember', { poolId: web.id, address: '10.27.0.11', protocolPort: 8081 }, 'member');
    const v6 = await ok(a, 'addMember', { poolId: ssh.id, address: '2001:db8::7', protocolPort: 22 }, 'member');
    const hm = await ok(a, 'createHealthMonitor', { poolId: web.id, type: 'HTTP', delay: 5, timeout: 3, maxRetries: 3 }, 'healthMonitor');
    await ok(a, 'createHealthMonitor', { poolId: ssh.id, type: 'TCP', delay: 5, timeout: 3, maxRetries: 3 }, 'healthMonitor');

    const list = async (token: string, field: string, args: string) => {
      const r = await api.gql(token, `{ ${field}${args ? `(${args})` : ''} { totalCount edges { node { uuid } } } }`);
      return { total: r[field].totalCount as number, uuids: r[field].edges.map((e: any) => e.node.uuid).sort() as string[] };
    };
    const sorted = (...xs: { uuid: string }[]) => xs.map((x) => x.uuid).sort();

    expect((await list(a, 'listeners', '')).total).toBe(3);
    expect(await list(a, 'listeners', `listenerFilter: { loadBalancerId: "${lb.id}" }`)).toEqual({ total: 2, uuids: sorted(http, tcp) });
    expect(await list(a, 'listeners', `listenerFilter: { loadBalancerId: "${lb.uuid}", protocol: "TCP" }`)).toEqual({
      total: 1,
      uuids: [tcp.uuid],
    });
    expect((await list(a, 'listeners', `listenerFilter: { protocolPort: 80 }`)).total).toBe(2);
    expect(await list(a, 'listeners', `listenerFilter: { defaultPoolId: "${web.id}" }`)).toEqual({ total: 1, uuids: [http.uuid] });

    expect(await list(a, 'pools', `poolFilter: { loadBalancerId: "${lb.id}" }`)).toEqual({ total: 2, uuids: sorted(web, ssh) });
    expect(await list(a, 'pools', `poolFilter: { listenerId: "${http.id}" }`)).toEqual({ total: 1, uuids: [web.uuid] });
    expect(await list(a, 'pools', `poolFilter: { listenerId: "${tcp.uuid}" }`)).toEqual({ total: 0, uuids: [] });
    expect(await list(a, 'pools', `poolFilter: { lbAlgorithm: "SOURCE_IP" }`)).toEqual({ total: 1, uuids: [ssh.uuid] });

    expect((await list(a, 'members', `memberFilter: { poolId: "${web.id}" }`)).total).toBe(3);
    expect(await list(a, 'members', `memberFilter: { poolId: "${web.id}", address: "10.27.0.11" }`)).toEqual({
      total: 2,
      uuids: sorted(m1, m3),
    });
    expect(await list(a, 'members', `memberFilter: { address: "10.27.0.11", protocolPort: 8081 }`)).toEqual({ total: 1, uuids: [m3.uuid] });
    expect(await list(a, 'members', `memberFilter: { subnetId: "${subnet.id}" }`)).toEqual({ total: 1, uuids: [m1.uuid] });
    expect(await list(a, 'members', `memberFilter: { address: "2001:DB8:0::7" }`)).toEqual({ total: 1, uuids: [v6.uuid] });

    expect(await list(a, 'healthMonitors', `healthMonitorFilter: { poolId: "${web.id}" }`)).toEqual({ total: 1, uuids: [hm.uuid] });
    expect((await list(a, 'healthMonitors', `healthMonitorFilter: { type: "TCP" }`)).total).toBe(1);
    expect((await list(a, 'healthMonitors', `healthMonitorFilter: { provisioningStatus: "PENDING_CREATE" }`)).total).toBe(2);
    expect((await list(a, 'healthMonitors', `healthMonitorFilter: { provisioningStatus: "ACTIVE" }`)).total).toBe(0);

    // pages follow the connection convention: first/after, cursors in order, no overlap
    const page1 = await api.gql(a, `{ members(first: 2) { edges { cursor node { uuid } } pageInfo { hasNextPage endCursor } } }`);
    expect(page1.members.pageInfo.hasNextPage).toBe(true);
    const page2 = await api.gql(
      a,
      `query($c: String) { members(first: 2, after: $c) { edges { node { uuid } } pageInfo { hasNextPage } } }`,
      {
        c: page1.members.pageInfo.endCursor,
      },
    );
    const paged = [...page1.members.edges, ...page2.members.edges].map((e: any) => e.node.uuid);
    expect(new Set(paged).size).toBe(4);
    expect(page2.members.pageInfo.hasNextPage).toBe(false);

    // another project sees none of them, even when it names them; an admin sees all
    for (const field of ['listeners', 'pools', 'members', 'healthMonitors']) expect((await list(b, field, '')).total).toBe(0);
    expect((await list(b, 'members', `memberFilter: { poolId: "${web.id}" }`)).total).toBe(0);
    expect(await list(api.adminToken, 'pools', `poolFilter: { loadBalancerId: "${lb.id}" }`)).toEqual({
      total: 2,
      uuids: sorted(web, ssh),
    });
    expect((await list(api.adminToken, 'members', `memberFilter: { poolId: "${web.id}" }`)).total).toBe(3);
  });

  it("validates a member's subnet as Octavia does: visible to the caller, holding the address in its IP version", async () => {
    const a = await api.token('lb-members-a');
    const b = await api.token('lb-members-b');
    const { subnet } = await subnetFor(a, '10.28.0.0/24');
    const lb = await ok(a, 'createLoadBalancer', { vipSubnetId: subnet.id }, 'loadBalancer');
    const pool = await ok(a, 'createPool', { loadBalancerId: lb.id, protocol: 'TCP', lbAlgorithm: 'ROUND_ROBIN' }, 'pool');
    const add = (subnetId: string, address: string) =>
      mutate(a, 'addMember', { poolId: pool.id, address, protocolPort: 80, subnetId }, 'member');

    expect(await add(randomUUID(), '10.28.0.5')).toMatchObject({ __typename: 'SubnetNotFound', code: 'SubnetNotFound' });
    // another project's subnet answers like a missing one
    const hidden = (await subnetFor(b, '10.29.0.0/24')).subnet;
    expect((await add(hidden.id, '10.29.0.5')).code).toBe('SubnetNotFound');
    const outside = await add(subnet.id, '10.28.1.5');
    expect(outside).toMatchObject({ __typename: 'ValidationException', code: 'ValidationException' });
    expect(outside.message).toMatch(/^Validation failure: member address 10\.28\.1\.5 is not in subnet/);
    expect((await add(subnet.id, '2001:db8::5')).message).toMatch(/is IPv6 but subnet .* is IPv4/);
    const batch = await mutate(
      a,
      'replacePoolMembers',
      { poolId: pool.id, members: [{ address: '10.9.9.9', protocolPort: 80, subnetId: subnet.id }] },
      'pool',
    );
    expect(batch.code).toBe('ValidationException');
    expect((await tree(a, lb.id)).pools[0].members).toEqual([]);

    // a subnet of a shared network may be used by anyone, like any shared resource
    const shared = (await api.gql(api.adminToken, CREATE_NETWORK, { input: { name: 'lb-shared', shared: true } })).createNetwork.network;
    const sharedSubnet = (
      await api.gql(api.adminToken, CREATE_SUBNET, { input: { networkId: shared.id, ipVersion: 4, cidr: '10.30.5.0/24' } })
    ).createSubnet.subnet;
    await ok(a, 'addMember', { poolId: pool.id, address: '10.30.5.9', protocolPort: 80, subnetId: sharedSubnet.id }, 'member');
    await ok(a, 'addMember', { poolId: pool.id, address: '10.28.0.9', protocolPort: 80, subnetId: subnet.uuid }, 'member');
  });

  it('owns its VIP port: deletePort on it is ServicePortInUse, deleting the load balancer releases it', async () => {
    const t = await api.token('lb-vip-owner');
    const { net, subnet } = await subnetFor(t, '10.31.0.0/24');
    const lb = await ok(t, 'createLoadBalancer', { vipSubnetId: subnet.id }, 'loadBalancer', LB_FIELDS);
    expect(lb.vipPort).toMatchObject({ deviceOwner: 'Octavia', deviceId: `lb-${lb.uuid}` });
    const deletePort = `mutation($id: String!) { deletePort(input: { id: $id }) { __typename ... on Error { code message } } }`;
    const refused = (await api.gql(t, deletePort, { id: lb.vipPort.uuid })).deletePort;
    expect(refused).toMatchObject({ __typename: 'ServicePortInUse', code: 'ServicePortInUse' });
    expect(refused.message).toMatch(/has device owner Octavia/);
    // an admin cannot either: the port belongs to the load balancer, not to a project member
    expect((await api.gql(api.adminToken, deletePort, { id: lb.vipPort.uuid })).deletePort.code).toBe('ServicePortInUse');
    expect(await vipPorts(t, lb.uuid)).toBe(1);
    expect((await tree(t, lb.id)).provisioningStatus).toBe('PENDING_CREATE');

    await ok(t, 'deleteLoadBalancer', { id: lb.id });
    expect(await vipPorts(t, lb.uuid)).toBe(0);
    // the address is free for anyone on the network again
    const reuse = await api.gql(t, CREATE_PORT, { input: { networkId: net.id, fixedIps: [{ ipAddress: lb.vipAddress }] } });
    expect(reuse.createPort.__typename).toBe('CreatePortSuccess');
  });
});
