import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAgent } from '../../src/agent/registration.js';
import { applyBindings } from '../../src/agent/reports.js';
import { planBindings } from '../../src/agent/scheduler.js';
import { scheduleHaRouters } from '../../src/agent/ha-scheduler.js';
import { compileHostState } from '../../src/projections/desired-state/index.js';
import { buildHostTopology, buildTopology, schedulingRecords, type HostInterest } from '../../src/projections/topology/index.js';
import { agentModeSchema } from '../../src/domain/agent/modes.js';
import { needsRebuild, wakesHost } from '../../src/agent/interest.js';
import { wakeEvent } from '../../src/store/log-waker.js';
import type { CommandOutcome } from '../../src/app/command-runtime.js';
import { createPort, deletePort, updatePort } from '../../src/app/networking/ports.js';
import { CREATE_NETWORK, CREATE_PORT, CREATE_SUBNET, startTestApi, type TestApi } from '../support/api.js';

/**
 * Each host reads only its slice of the read model (issue 16, scale); what it compiles from the
 * slice must be what it would compile from everything. One deployment with most of what a host
 * can hold: VXLAN networks over three hosts, a legacy router with SNAT and a floating IP, an HA
 * router, a distributed router, a remote security group, a load balancer with an unbound VIP.
 */
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.close());

const HOSTS = ['h1', 'h2', 'h3', 'h4'];

function m(token: string, name: string, input: Record<string, unknown>, select: string): Promise<any> {
  return api.mutateOk(token, name, input, select);
}

describe("a host's slice of the read model", () => {
  it('compiles to the same desired state as the whole read model, on every host and in every agent mode', async () => {
    const s = api.services;
    const admin = api.adminToken;
    for (const [i, h] of HOSTS.entries()) expect((await registerAgent(s, h, randomUUID(), `10.90.0.${i + 1}`)).ok).toBe(true);

    const ext = (
      await api.gql(admin, CREATE_NETWORK, {
        input: { name: 'public', external: true, provider: { networkType: 'flat', physicalNetwork: 'extnet' } },
      })
    ).createNetwork.network.uuid;
    await api.gql(admin, CREATE_SUBNET, { input: { networkId: ext, ipVersion: 4, cidr: '203.0.113.0/24', enableDhcp: false } });
    const nets: string[] = [];
    const subnets: string[] = [];
    for (let n = 0; n < 5; n++) {
      const net = (await api.gql(admin, CREATE_NETWORK, { input: { name: `n${n}` } })).createNetwork.network.uuid;
      nets.push(net);
      subnets.push(
        (await api.gql(admin, CREATE_SUBNET, { input: { networkId: net, ipVersion: 4, cidr: `10.7${n}.0.0/24` } })).createSubnet.subnet
          .uuid,
      );
    }
    // A group whose rules name another (remote) group: its members' addresses reach every host using it.
    const db = (await m(admin, 'createSecurityGroup', { name: 'db' }, 'securityGroup { uuid }')).securityGroup.uuid;
    const web = (await m(admin, 'createSecurityGroup', { name: 'web' }, 'securityGroup { uuid }')).securityGroup.uuid;
    await m(
      admin,
      'createSecurityGroupRule',
      { securityGroupId: web, direction: 'ingress', protocol: 'tcp', remoteGroupId: db },
      'securityGroupRule { id }',
    );
    const port = async (network: number, host: string, extra: Record<string, unknown> = {}) => {
      const r = await api.gql(admin, CREATE_PORT, {
        input: { networkId: nets[network], deviceOwner: 'compute:nova', deviceId: randomUUID(), bindingHost: host, ...extra },
      });
      expect(r.createPort.__typename, JSON.stringify(r.createPort)).toBe('CreatePortSuccess');
      return r.createPort.port.uuid as string;
    };
    await port(0, 'h1', { securityGroupIds: [web] });
    await port(0, 'h2');
    await port(1, 'h2');
    const dbPort = await port(2, 'h3', { securityGroupIds: [db] }); // on a network h1 does not hold
    await port(3, 'h3', { portSecurityEnabled: false, securityGroupIds: [] });
    await port(4, 'h1');

    const legacy = (await m(admin, 'createRouter', { name: 'legacy' }, 'router { uuid }')).router.uuid;
    await m(admin, 'setRouterGateway', { id: legacy, networkId: ext }, 'router { uuid }');
    await m(admin, 'addRouterInterface', { id: legacy, subnetId: subnets[0] }, 'router { uuid }');
    await m(admin, 'addRouterInterface', { id: legacy, subnetId: subnets[2] }, 'router { uuid }');
    await m(admin, 'createFloatingIp', { floatingNetworkId: ext, portId: dbPort }, 'floatingIp { uuid }');
    const dvr = (await m(admin, 'createRouter', { name: 'dvr', distributed: true }, 'router { uuid }')).router.uuid;
    await m(admin, 'setRouterGateway', { id: dvr, networkId: ext }, 'router { uuid }');
    await m(admin, 'addRouterInterface', { id: dvr, subnetId: subnets[4] }, 'router { uuid }');
    const ha = (await m(admin, 'createRouter', { name: 'ha', ha: true }, 'router { uuid }')).router.uuid;
    await m(admin, 'addRouterInterface', { id: ha, subnetId: subnets[1] }, 'router { uuid }');
    await m(admin, 'createLoadBalancer', { name: 'lb', vipSubnetId: subnets[3] }, 'loadBalancer { id }');

    // Placed as the agents place them: DHCP ports, the legacy router and the DVR SNAT, HA ports.
    const live = ['h1', 'h2', 'h3'];
    for (let round = 0; round < 3; round++) {
      const rec = await schedulingRecords(s.sql, 'h1');
      await applyBindings(s, 'h1', planBindings(rec.ports, rec.routers, live));
      await scheduleHaRouters(s, 'h1', rec.ports, rec.routers, live, s.log);
    }
    const all = await buildTopology(s.sql);
    expect(all.topology.ports.filter((p) => p.deviceOwner === 'network:router_ha_interface').length).toBeGreaterThan(1);

    for (const host of HOSTS) {
      const slice = await buildHostTopology(s.sql, host);
      for (const agentMode of agentModeSchema.options) {
        const options = { underlayAddress: `10.90.0.${HOSTS.indexOf(host) + 1}`, agentMode, physicalInterfaces: { extnet: 'eth1' } };
        const want = compileHostState(all.topology, host, options);
        expect(JSON.stringify(compileHostState(slice.topology, host, options)), `${host} ${agentMode}`).toBe(JSON.stringify(want));
      }
      // Every port bound here is in the slice (status reports read them from it).
      const bound = all.records.ports.filter((p) => p.doc.bindingHost === host).map((p) => p.id);
      expect(bound.every((id) => slice.interest.ports.has(id))).toBe(true);
    }
    // h4 holds nothing and reads nothing of the networks; h1 reads db's member, and its network
    // only when it has a bridge there (the legacy router may be h1's).
    const h4 = await buildHostTopology(s.sql, 'h4');
    expect(h4.topology.ports).toEqual([]);
    expect(h4.topology.networks).toEqual([]);
    const h1 = await buildHostTopology(s.sql, 'h1');
    expect(h1.topology.ports.map((p) => p.id)).toContain(dbPort);
    const bridged = compileHostState(all.topology, 'h1').networks.map((n) => n.networkId);
    expect(h1.interest.networks.has(nets[2]!)).toBe(bridged.includes(nets[2]!));
    expect(h1.interest.remoteGroups.has(db)).toBe(true);
    expect(bridged.every((n) => h1.interest.networks.has(n))).toBe(true);

    // Changes: every host whose desired state a change alters must be woken by it; h4 never is.
    const actor = { projectId: (await buildTopology(s.sql)).records.ports[0]!.doc.project, isAdmin: true };
    const meta = { actor: 'test' };
    const changes: (() => Promise<CommandOutcome<string>>)[] = [
      () => createPort(s, actor, { networkId: nets[1]!, deviceOwner: 'compute:nova', deviceId: randomUUID(), bindingHost: 'h3' }, meta),
      () =>
        createPort(
          s,
          actor,
          { networkId: nets[2]!, deviceOwner: 'compute:nova', deviceId: randomUUID(), bindingHost: 'h2', securityGroups: [db] },
          meta,
        ),
      () => updatePort(s, actor, dbPort, { bindingHost: 'h2' }, undefined, meta),
      () => deletePort(s, actor, dbPort, undefined, meta),
    ];
    for (const change of changes) {
      const before = new Map<string, { interest: HostInterest; state: string }>();
      for (const host of HOSTS) {
        const slice = await buildHostTopology(s.sql, host);
        before.set(host, {
          interest: slice.interest,
          state: JSON.stringify(compileHostState(slice.topology, host, { underlayAddress: '10.90.0.9' })),
        });
      }
      const out = await change();
      expect(out.ok, out.ok ? '' : out.error.code).toBe(true);
      const after = await buildTopology(s.sql);
      for (const host of HOSTS) {
        const b = before.get(host)!;
        const changed = JSON.stringify(compileHostState(after.topology, host, { underlayAddress: '10.90.0.9' })) !== b.state;
        const woken = out.ok && out.events.some((e) => needsRebuild(e, b.interest, host, false));
        // The notification's summary of the events judges as the events do (the agent reads the log only then).
        if (out.ok) expect(wakesHost(out.events.map(wakeEvent), b.interest, host, false)).toBe(woken);
        if (changed) expect(woken, `${host} after ${out.ok ? out.events.map((e) => e.type).join() : ''}`).toBe(true);
        // (A floating IP's change wakes every host: only port, network and subnet changes are judged.)
        const judged = out.ok && out.events.every((e) => e.type.startsWith('Port') || e.type === 'FixedIpsChanged');
        if (host === 'h4' && judged) expect(woken).toBe(false);
      }
    }
  });
});
