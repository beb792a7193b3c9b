import { randomUUID } from 'node:crypto';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inlineProjections } from '../../src/app/bootstrap.js';
import { aggregateKinds } from '../../src/app/registry.js';
import { AggregateProjection } from '../../src/projections/aggregate-projection.js';
import { readModelChecksum, rebuildProjections } from '../../src/projections/rebuild.js';
import { readModelDrift, verifyReadModel } from '../../src/projections/verify.js';
import { CREATE_NETWORK, CREATE_PORT, CREATE_SUBNET, startTestApi, type TestApi } from '../support/api.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.close());

/** `netledger projections status --json` as an operator runs it, against this test's database. */
async function statusCli(...flags: string[]) {
  const r = await execa('npx', ['tsx', 'src/cli/main.ts', 'projections', 'status', '--json', ...flags], {
    env: { DATABASE_URL: api.db.url, LOG_LEVEL: 'warn' },
    reject: false,
  });
  return { exitCode: r.exitCode, inline: (JSON.parse(r.stdout) as { inline: Record<string, unknown> }).inline };
}

const replaying = () => inlineProjections(new AggregateProjection(aggregateKinds(), { replaying: true }));

/** One mutation answering its __typename and, on failure, its code. */
async function mutate(token: string, name: string, input: Record<string, unknown>): Promise<{ __typename: string; code?: string }> {
  const cap = name.charAt(0).toUpperCase() + name.slice(1);
  const r = await api.gql(token, `mutation($input: ${cap}Input!) { ${name}(input: $input) { __typename ... on Error { code message } } }`, {
    input,
  });
  return r[name];
}

async function eventCount(): Promise<number> {
  const [row] = await api.services.sql<{ n: bigint }[]>`select count(*) as n from nl_events`;
  return Number(row!.n);
}

async function rebuildKeepsChecksum(): Promise<void> {
  const before = await readModelChecksum(api.services.sql);
  await rebuildProjections(api.db.sql, api.services.store, replaying());
  const after = await readModelChecksum(api.services.sql);
  expect(after.tables).toEqual(before.tables);
}

async function networkAndSubnet(token: string, cidr: string) {
  const net = (await api.gql(token, CREATE_NETWORK, { input: { name: `n-${cidr}` } })).createNetwork.network;
  const subnet = (await api.gql(token, CREATE_SUBNET, { input: { networkId: net.id, ipVersion: 4, cidr } })).createSubnet.subnet;
  return { net, subnet };
}

describe('identity of resources', () => {
  it("refuses a port that takes another project's network id: typed conflict, nothing changed, rebuild equal", async () => {
    const a = await api.token('identity-a');
    const b = await api.token('identity-b');
    const { net: victim } = await networkAndSubnet(a, '10.61.0.0/24');
    const { net: own } = await networkAndSubnet(b, '10.62.0.0/24');
    const events = await eventCount();
    const before = await readModelChecksum(api.services.sql);

    const attack = (await api.gql(b, CREATE_PORT, { input: { id: victim.uuid, networkId: own.id } })).createPort;
    expect(attack).toMatchObject({ __typename: 'ResourceIdInUse', code: 'ResourceIdInUse' });
    // A generic conflict: neither the holder's kind nor its project.
    expect(attack.message).not.toMatch(/network|identity-a/i);
    expect(await eventCount()).toBe(events);
    expect((await readModelChecksum(api.services.sql)).digest).toBe(before.digest);

    const seen = await api.gql(a, `query($id: ID!) { node(id: $id) { __typename ... on Network { uuid name } } }`, { id: victim.id });
    expect(seen.node).toEqual({ __typename: 'Network', uuid: victim.uuid, name: victim.name });
    expect((await api.gql(b, `query($id: ID!) { node(id: $id) { id } }`, { id: victim.id })).node).toBeNull();
    expect(await readModelDrift(api.services.sql, aggregateKinds())).toEqual({ streamsOutOfStep: 0, rowsOutOfStep: 0 });
    await rebuildKeepsChecksum();
    expect((await verifyReadModel(api.services.sql, api.services.store, replaying())).differing).toEqual([]);
  });

  it('covers every kind, nested objects, deleted resources and case variants; same-kind retries stay idempotent', async () => {
    const a = await api.token('identity-c');
    const b = await api.token('identity-d');
    const { net, subnet } = await networkAndSubnet(a, '10.63.0.0/24');
    const { net: bNet, subnet: bSubnet } = await networkAndSubnet(b, '10.64.0.0/24');
    const port = (await api.gql(a, CREATE_PORT, { input: { networkId: net.id } })).createPort.port;
    const group = await api.gql(
      b,
      `mutation { createSecurityGroup(input: { name: "g" }) { ... on CreateSecurityGroupSuccess { securityGroup { id uuid } } } }`,
    );
    const sg = group.createSecurityGroup.securityGroup;
    const events = await eventCount();

    const taken = [net.uuid, subnet.uuid, port.uuid, net.uuid.toUpperCase()];
    for (const id of taken) {
      const attempts = [
        mutate(b, 'createNetwork', { id }),
        mutate(b, 'createSubnet', { id, networkId: bNet.id, ipVersion: 4, cidr: '10.65.0.0/24' }),
        mutate(b, 'createPort', { id, networkId: bNet.id }),
        mutate(b, 'createRouter', { id }),
        mutate(b, 'createSecurityGroup', { id }),
        mutate(b, 'createSecurityGroupRule', {
          id,
          securityGroupId: sg.id,
          direction: 'ingress',
          protocol: 'tcp',
          portRangeMin: 22,
          portRangeMax: 22,
        }),
        mutate(b, 'createLoadBalancer', { id, vipSubnetId: bSubnet.id }),
        mutate(b, 'createFirewallRule', { id, action: 'allow' }),
      ];
      for (const r of await Promise.all(attempts)) {
        // A same-kind create in another project meets the aggregate itself (Neutron's XAlreadyExists).
        expect(['ResourceIdInUse', 'NetworkAlreadyExists', 'SubnetAlreadyExists', 'PortAlreadyExists']).toContain(r.code ?? r.__typename);
      }
    }
    const lb = await api.gql(
      b,
      `mutation($s: String!) { createLoadBalancer(input: { vipSubnetId: $s }) { ... on CreateLoadBalancerSuccess { loadBalancer { id } } } }`,
      { s: bSubnet.id },
    );
    expect(
      (
        await mutate(b, 'createListener', {
          id: port.uuid,
          loadBalancerId: lb.createLoadBalancer.loadBalancer.id,
          protocol: 'TCP',
          protocolPort: 80,
        })
      ).code,
    ).toBe('ResourceIdInUse');
    expect(await eventCount()).toBeGreaterThan(events); // only the load balancer above

    // A deleted resource keeps its id: another kind may not take it; its own kind answers not found.
    const gone = randomUUID();
    expect((await mutate(a, 'createRouter', { id: gone })).__typename).toBe('CreateRouterSuccess');
    expect((await mutate(a, 'deleteRouter', { id: gone })).__typename).toBe('DeleteRouterSuccess');
    expect((await mutate(b, 'createSecurityGroup', { id: gone })).code).toBe('ResourceIdInUse');
    expect((await mutate(a, 'createRouter', { id: gone })).code).toBe('RouterNotFound');

    // The owner's identical retry is still idempotent, and creates nothing.
    const n = await eventCount();
    expect((await mutate(a, 'createNetwork', { id: net.uuid, name: net.name })).__typename).toBe('CreateNetworkSuccess');
    expect(await eventCount()).toBe(n);

    // Racing creates of one id as two kinds: exactly one wins.
    const race = randomUUID();
    const raced = await Promise.all([
      mutate(a, 'createRouter', { id: race }),
      mutate(b, 'createSecurityGroup', { id: race }),
      mutate(b, 'createNetwork', { id: race }),
    ]);
    expect(raced.filter((r) => r.__typename.endsWith('Success'))).toHaveLength(1);
    expect(raced.filter((r) => r.code === 'ResourceIdInUse')).toHaveLength(2);
    await rebuildKeepsChecksum();
  });

  it('an id chosen in upper case is stored in the one spelling that updates and deletes use', async () => {
    const a = await api.token('identity-upper');
    const upper = randomUUID().toUpperCase();
    expect((await mutate(a, 'createRouter', { id: upper, name: 'r' })).__typename).toBe('CreateRouterSuccess');
    expect((await mutate(a, 'updateRouter', { id: upper, name: 'r2' })).__typename).toBe('UpdateRouterSuccess');
    expect((await mutate(a, 'updateRouter', { id: upper.toLowerCase(), name: 'r3' })).__typename).toBe('UpdateRouterSuccess');
    expect((await mutate(a, 'deleteRouter', { id: upper })).__typename).toBe('DeleteRouterSuccess');
    const [row] = await api.services.sql<{ n: bigint }[]>`select count(*) as n from nl_streams where stream_id = ${`router-${upper}`}`;
    expect(Number(row!.n)).toBe(0);
  });

  // Starts the CLI twice (tsx, services): generous on a busy machine.
  it(
    'rebuilds a log written before the registry, where two kinds share an id: each keeps its own row; status names the drift',
    { timeout: 240_000 },
    async () => {
      const a = await api.token('identity-e');
      const b = await api.token('identity-f');
      const { net: victim } = await networkAndSubnet(a, '10.66.0.0/24');
      const { net: own } = await networkAndSubnet(b, '10.67.0.0/24');
      const port = (await api.gql(b, CREATE_PORT, { input: { networkId: own.id } })).createPort.port;
      // What the old code let through: B's port under A's network id, appended without the read model.
      const [created] = (await api.services.store.readStream(`port-${port.uuid}`)).filter((e) => e.type === 'PortCreated');
      const data = { ...(created!.data as Record<string, unknown>), id: victim.uuid, macAddress: 'fa:16:3e:00:00:01', fixedIps: [] };
      await api.services.store.append(`port-${victim.uuid}`, 'no_stream', [{ type: 'PortCreated', data }]);

      expect((await readModelDrift(api.services.sql, aggregateKinds())).streamsOutOfStep).toBe(1);
      const status = await statusCli('--verify');
      expect(status.exitCode).toBe(1);
      expect(status.inline).toMatchObject({ streamsOutOfStep: 1, verified: { tablesDiffering: expect.arrayContaining(['rm_resources']) } });
      const verified = await verifyReadModel(api.services.sql, api.services.store, replaying());
      expect(verified.differing).toEqual(expect.arrayContaining(['rm_aggregates', 'rm_resources']));

      await rebuildProjections(api.db.sql, api.services.store, replaying());
      const rows = await api.services.sql<
        { kind: string; project_id: string }[]
      >`select kind, project_id from rm_resources where id = ${victim.uuid} order by kind`;
      expect(rows.map((r) => r.kind)).toEqual(['network', 'port']);
      const seen = await api.gql(a, `query($id: ID!) { node(id: $id) { __typename ... on Network { uuid } } }`, { id: victim.id });
      expect(seen.node).toEqual({ __typename: 'Network', uuid: victim.uuid });
      expect(await readModelDrift(api.services.sql, aggregateKinds())).toEqual({ streamsOutOfStep: 0, rowsOutOfStep: 0 });
      expect((await verifyReadModel(api.services.sql, api.services.store, replaying())).differing).toEqual([]);
      expect(await statusCli('--verify')).toMatchObject({
        exitCode: 0,
        inline: { streamsOutOfStep: 0, rowsOutOfStep: 0, verified: { tablesDiffering: [] } },
      });
      await rebuildKeepsChecksum();
    },
  );

  it("status notices a read-model row edited behind the log's back", { timeout: 240_000 }, async () => {
    const a = await api.token('identity-g');
    const { net } = await networkAndSubnet(a, '10.68.0.0/24');
    await api.services.sql`update rm_resources set project_id = 'someone-else' where id = ${net.uuid} and kind = 'network'`;
    expect(await readModelDrift(api.services.sql, aggregateKinds())).toMatchObject({ streamsOutOfStep: 0, rowsOutOfStep: 1 });
    expect(await statusCli()).toMatchObject({ exitCode: 1, inline: { streamsOutOfStep: 0, rowsOutOfStep: 1 } });
    expect((await verifyReadModel(api.services.sql, api.services.store, replaying())).differing).toEqual(['rm_resources']);
    await rebuildProjections(api.db.sql, api.services.store, replaying());
    expect(await readModelDrift(api.services.sql, aggregateKinds())).toEqual({ streamsOutOfStep: 0, rowsOutOfStep: 0 });
  });
});
