import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServices, type Running } from '../../src/app/bootstrap.js';
import type { CommandOutcome } from '../../src/app/command-runtime.js';
import { servicesSink } from '../../src/agent/lb-health.js';
import { buildTopology, topologyParts } from '../../src/projections/topology/index.js';
import {
  addMember,
  createHealthMonitor,
  createListener,
  createLoadBalancer,
  createPool,
  deleteLoadBalancer,
  updateMember,
} from '../../src/app/loadbalancing/index.js';
import { createNetwork } from '../../src/app/networking/networks.js';
import { createSubnet } from '../../src/app/networking/subnets.js';
import { ensureProject } from '../../src/app/tenancy.js';
import { loadConfig } from '../../src/config.js';
import type { LoadBalancerState } from '../../src/domain/loadbalancer/index.js';
import { createLogger } from '../../src/log.js';
import { compileHostState } from '../../src/projections/desired-state/index.js';
import { loadBalancerStreamId } from '../../src/projections/kinds/loadbalancer-kind.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

// The control-plane side of issue 7: the load balancer part of the topology read from the
// read model, and the agent's reports (applied, failed, member health, removal) as statuses.
const META = { actor: 'test' };
let db: TestDatabase;
let s: Running;

function ok<R>(o: CommandOutcome<R>): R {
  if (!o.ok) throw new Error(`${o.error.code}: ${o.error.message}`);
  return o.result;
}

beforeAll(async () => {
  db = await createTestDatabase();
  s = await startServices(
    loadConfig({ ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'warn' }),
    createLogger('warn', { pretty: false }),
    { poolSize: 5 },
  );
});

afterAll(async () => {
  await s?.stop();
  await db?.drop();
});

const state = async (id: string) => (await s.aggregates.load<LoadBalancerState>(s.sql, loadBalancerStreamId(id))).state;

describe('load balancers between the read model and the agent', () => {
  it('builds the topology part, and turns agent reports into statuses', async () => {
    expect(topologyParts().map(([n]) => n)).toContain('load-balancers');
    const project = ok(await ensureProject(s, 'lbapp'));
    const actor = { projectId: project, isAdmin: false };
    const net = ok(await createNetwork(s, actor, { name: 'n' }, META));
    const subnet = ok(await createSubnet(s, actor, { networkId: net, ipVersion: 4, cidr: '10.77.0.0/24' }, META));
    const lb = ok(await createLoadBalancer(s, actor, { name: 'lb', vipSubnetId: subnet }, META));
    const listener = ok(
      await createListener(s, actor, { loadBalancerId: lb, protocol: 'HTTP', protocolPort: 80, connectionLimit: 100 }, META),
    );
    const pool = ok(
      await createPool(
        s,
        actor,
        { listenerId: listener, protocol: 'HTTP', lbAlgorithm: 'LEAST_CONNECTIONS', sessionPersistence: { type: 'SOURCE_IP' } },
        META,
      ),
    );
    const a = ok(await addMember(s, actor, { poolId: pool, address: '10.77.0.11', protocolPort: 8080, weight: 3 }, META));
    const b = ok(
      await addMember(s, actor, { poolId: pool, address: '10.77.0.12', protocolPort: 8080, backup: true, adminStateUp: false }, META),
    );
    ok(
      await createHealthMonitor(
        s,
        actor,
        { poolId: pool, monitorType: 'HTTP', delay: 2, timeout: 1, maxRetries: 2, urlPath: '/health', expectedCodes: '200-201' },
        META,
      ),
    );

    const { topology } = await buildTopology(s.sql);
    const t = topology.loadBalancers?.find((x) => x.id === lb);
    const generation = (await state(lb)).generation;
    expect(t).toMatchObject({
      adminStateUp: true,
      generation,
      listeners: [{ id: listener, protocol: 'HTTP', protocolPort: 80, connectionLimit: 100, defaultPoolId: pool }],
    });
    expect(t?.pools[0]).toMatchObject({
      id: pool,
      lbAlgorithm: 'LEAST_CONNECTIONS',
      sessionPersistence: { type: 'SOURCE_IP', cookieName: null },
      healthMonitor: { type: 'HTTP', delay: 2, timeout: 1, maxRetries: 2, maxRetriesDown: 3, urlPath: '/health', expectedCodes: '200-201' },
    });
    expect(t?.pools[0]?.members.map((m) => [m.id, m.weight, m.backup, m.adminStateUp]).sort()).toEqual(
      [
        [a, 3, false, true],
        [b, 1, true, false],
      ].sort(),
    );
    // The VIP port is in the topology; bound to a host, the load balancer compiles there.
    const vip = topology.ports.find((p) => p.id === t?.vipPortId);
    expect(vip?.deviceOwner).toBe('Octavia');
    const bound = { ...topology, ports: topology.ports.map((p) => (p.id === vip?.id ? { ...p, bindingHost: 'lb-host' } : p)) };
    const unit = compileHostState(bound, 'lb-host', { namespacePrefix: 'x-', hostNamespace: 'x-host', stateDir: '/s' }).loadBalancers[0];
    expect(unit?.haproxy?.config).toContain(`bind ${t?.vipAddress}:80`);
    expect(unit?.haproxy?.config).toContain('balance leastconn');

    const sink = servicesSink(s);
    await sink.applied(lb, generation);
    await sink.memberHealth(lb, a, 'ONLINE');
    let st = (await state(lb)).statuses;
    expect(st.loadBalancer).toMatchObject({ provisioningStatus: 'ACTIVE', operatingStatus: 'ONLINE' });
    expect(st.members[a]).toMatchObject({ provisioningStatus: 'ACTIVE', operatingStatus: 'ONLINE' });
    expect(st.members[b]?.operatingStatus).toBe('OFFLINE'); // admin down: derived, never reported

    ok(await updateMember(s, actor, a, { weight: 5 }, undefined, META));
    const next = (await state(lb)).generation;
    await sink.applyFailed(lb, next, 'haproxy rejected the configuration: boom');
    st = (await state(lb)).statuses;
    expect(st.members[a]).toMatchObject({ provisioningStatus: 'ERROR', error: 'haproxy rejected the configuration: boom' });
    await sink.memberHealth(lb, a, 'ERROR');
    await sink.applied(lb, next);
    st = (await state(lb)).statuses;
    expect(st.members[a]).toMatchObject({ provisioningStatus: 'ACTIVE', operatingStatus: 'ERROR' });
    expect(st.pools[pool]?.operatingStatus).toBe('ERROR');

    // Deleted: gone from the topology; once the host has removed it, the row leaves the read model.
    ok(await deleteLoadBalancer(s, actor, lb, { cascade: true }, META));
    expect((await buildTopology(s.sql)).topology.loadBalancers?.some((x) => x.id === lb)).toBe(false);
    const [pending] = await s.sql<{ doc: { provisioningStatus: string } }[]>`select doc from rm_resources where id = ${lb}`;
    expect(pending?.doc.provisioningStatus).toBe('PENDING_DELETE');
    await sink.removed(lb);
    expect(await s.sql`select 1 from rm_resources where id = ${lb}`).toHaveLength(0);
    // Reports about a load balancer that is gone are not errors.
    await sink.memberHealth(lb, a, 'ONLINE');
  });
});
