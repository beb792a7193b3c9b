import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportStatuses } from '../../src/agent/reports.js';
import { buildTopology } from '../../src/projections/topology/index.js';
import { CREATE_NETWORK, CREATE_PORT, CREATE_SUBNET, startTestApi, type TestApi } from '../support/api.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.close());

const RULE = 'id uuid name protocol ipVersion sourceIpAddress destinationIpAddress sourcePort destinationPort action enabled revision';
const POLICY = `id uuid name audited revision firewallRuleIds firewallRules { uuid }`;
const GROUP =
  'id uuid name isDefault status portIds adminStateUp ingressFirewallPolicyId egressFirewallPolicyId revision ingressFirewallPolicy { name firewallRules { action ipVersion } } egressFirewallPolicy { name firewallRules { action ipVersion } }';

const rule = (t: string, input: Record<string, unknown>) => api.mutate(t, 'createFirewallRule', input, `firewallRule { ${RULE} }`);
const policy = (t: string, name: string, input: Record<string, unknown>) => api.mutate(t, name, input, `firewallPolicy { ${POLICY} }`);
const group = (t: string, name: string, input: Record<string, unknown>) => api.mutate(t, name, input, `firewallGroup { ${GROUP} }`);
const groups = async (t: string) =>
  (await api.gql(t, `query { firewallGroups { totalCount edges { node { ${GROUP} } } } }`)).firewallGroups;

async function routerInterface(t: string, cidr: string): Promise<string> {
  const n = (await api.gql(t, CREATE_NETWORK, { input: { name: 'fw-net' } })).createNetwork.network;
  const s = (await api.gql(t, CREATE_SUBNET, { input: { networkId: n.id, ipVersion: 4, cidr } })).createSubnet.subnet;
  const r = (await api.mutate(t, 'createRouter', { name: 'fw-router' }, 'router { id }')).router;
  const added = await api.mutate(t, 'addRouterInterface', { id: r.id, subnetId: s.id }, 'router { interfaces { portId } }');
  expect(added.__typename).toBe('AddRouterInterfaceSuccess');
  return added.router.interfaces[0].portId;
}

describe('FWaaS v2 over GraphQL', () => {
  it("creates the project's default group on first listing: ingress deny, egress allow, INACTIVE", async () => {
    const t = await api.token('fw-default');
    const first = await groups(t);
    expect(first.totalCount).toBe(1);
    const d = first.edges[0].node;
    expect(d).toMatchObject({ name: 'default', isDefault: true, status: 'INACTIVE', portIds: [] });
    expect(d.ingressFirewallPolicy.firewallRules).toEqual([
      { action: 'deny', ipVersion: 4 },
      { action: 'deny', ipVersion: 6 },
    ]);
    expect(d.egressFirewallPolicy.firewallRules).toEqual([
      { action: 'allow', ipVersion: 4 },
      { action: 'allow', ipVersion: 6 },
    ]);
    await Promise.all([groups(t), groups(t)]);
    expect((await groups(t)).totalCount).toBe(1);
    expect((await api.mutate(t, 'deleteFirewallGroup', { id: d.id })).code).toBe('FirewallGroupCannotRemoveDefault');
    expect((await group(t, 'createFirewallGroup', { name: 'default' })).code).toBe('FirewallGroupDefaultAlreadyExists');
  });

  it('rules validate like neutron-fwaas; policies keep order; groups wait in PENDING_* on a router interface', async () => {
    const t = await api.token('fw-life');
    expect((await rule(t, { protocol: 'icmp', destinationPort: '22', action: 'allow' })).code).toBe('FirewallRuleInvalidICMPParameter');
    expect((await rule(t, { destinationPort: '22' })).code).toBe('FirewallRuleWithPortWithoutProtocolInvalid');
    expect((await rule(t, { ipVersion: 6, sourceIpAddress: '10.0.0.1' })).code).toBe('FirewallIpAddressConflict');
    expect((await rule(t, { action: 'maybe' })).code).toBe('FirewallRuleInvalidAction');
    const web = (
      await rule(t, { name: 'web', protocol: 'tcp', destinationPort: '80:80', destinationIpAddress: '10.60.0.5', action: 'allow' })
    ).firewallRule;
    expect(web).toMatchObject({
      action: 'allow',
      destinationPort: '80',
      destinationIpAddress: '10.60.0.5/32',
      enabled: true,
      ipVersion: 4,
    });
    const ssh = (await rule(t, { name: 'ssh', protocol: 'tcp', destinationPort: '22', action: 'reject' })).firewallRule;
    const icmp = (await rule(t, { name: 'icmp', protocol: 'icmp', action: 'allow' })).firewallRule;

    const p = (await policy(t, 'createFirewallPolicy', { name: 'in', firewallRules: [web.id, ssh.id] })).firewallPolicy;
    expect(p.firewallRuleIds).toEqual([web.uuid, ssh.uuid]);
    const inserted = (await policy(t, 'insertFirewallRule', { id: p.id, firewallRuleId: icmp.id, insertAfter: web.id })).firewallPolicy;
    expect(inserted.firewallRules.map((r: any) => r.uuid)).toEqual([web.uuid, icmp.uuid, ssh.uuid]);
    expect((await policy(t, 'insertFirewallRule', { id: p.id, firewallRuleId: icmp.id })).code).toBe('FirewallRuleAlreadyAssociated');
    expect((await api.mutate(t, 'deleteFirewallRule', { id: ssh.id })).code).toBe('FirewallRuleInUse');

    const port = await routerInterface(t, '10.60.0.0/24');
    const g = (await group(t, 'createFirewallGroup', { name: 'edge', ingressFirewallPolicyId: p.id })).firewallGroup;
    expect(g).toMatchObject({ status: 'INACTIVE', portIds: [], ingressFirewallPolicyId: p.uuid, egressFirewallPolicyId: null });
    const applied = (await group(t, 'updateFirewallGroup', { id: g.id, portIds: [port] })).firewallGroup;
    // No agent hosts the router here: the group waits for one to apply it.
    expect(applied).toMatchObject({ status: 'PENDING_UPDATE', portIds: [port] });
    expect((await group(t, 'createFirewallGroup', { name: 'second', portIds: [port] })).code).toBe('FirewallGroupPortInUse');
    expect((await api.mutate(t, 'deleteFirewallGroup', { id: g.id })).code).toBe('FirewallGroupInUse');
    expect((await api.mutate(t, 'deleteFirewallPolicy', { id: p.id })).code).toBe('FirewallPolicyInUse');

    // The dataplane sees the group with its policy's enabled rules, in order.
    await api.gql(t, 'query { securityGroups { totalCount } }');
    const { topology } = await buildTopology(api.services.sql);
    const fw = topology.firewallGroups?.find((x) => x.id === g.uuid);
    expect(fw?.portIds).toEqual([port]);
    expect(fw?.ingressRules?.map((r) => r.action)).toEqual(['allow', 'allow', 'reject']);
    expect(fw?.egressRules).toBeNull();
    expect(topology.securityGroups?.some((x) => x.rules.length === 4)).toBe(true);

    // An instance port is not a router interface.
    const netId = (await api.gql(t, `query { networks { edges { node { id } } } }`)).networks.edges[0].node.id;
    const vmPort = (await api.gql(t, CREATE_PORT, { input: { networkId: netId } })).createPort.port;
    expect((await group(t, 'updateFirewallGroup', { id: g.id, portIds: [vmPort.uuid] })).code).toBe('FirewallGroupPortInvalid');

    const detached = (await group(t, 'updateFirewallGroup', { id: g.id, portIds: [] })).firewallGroup;
    expect(detached.status).toBe('INACTIVE');
    expect((await api.mutate(t, 'deleteFirewallGroup', { id: g.id }, 'deleted { uuid }')).deleted.uuid).toBe(g.uuid);
    expect((await api.mutate(t, 'deleteFirewallPolicy', { id: p.id }, 'deleted { uuid }')).__typename).toBe('DeleteFirewallPolicySuccess');
    expect((await api.mutate(t, 'deleteFirewallRule', { id: ssh.id }, 'deleted { uuid }')).__typename).toBe('DeleteFirewallRuleSuccess');
  });

  it("goes ACTIVE only on the agent's report for the revision it applied, and back to PENDING_UPDATE on a change", async () => {
    const t = await api.token('fw-status');
    const allow = (await rule(t, { protocol: 'icmp', action: 'allow' })).firewallRule;
    const p = (await policy(t, 'createFirewallPolicy', { name: 'in', firewallRules: [allow.id] })).firewallPolicy;
    const port = await routerInterface(t, '10.61.0.0/24');
    const created = (await group(t, 'createFirewallGroup', { name: 'edge', ingressFirewallPolicyId: p.id, portIds: [port] })).firewallGroup;
    expect(created.status).toBe('PENDING_CREATE');
    const status = async () => (await groups(t)).edges.find((e: any) => e.node.uuid === created.uuid).node;
    // What the agent sends once the router key holding the group converged (agent/status.ts).
    const report = (revision: number, s: 'ACTIVE' | 'ERROR' = 'ACTIVE') =>
      reportStatuses(api.services, 'compute-1', [], [], [{ id: created.uuid, status: s, revision }]);
    expect(await report(created.revision + 1)).toBe(0);
    expect((await status()).status).toBe('PENDING_CREATE');
    expect(await report(created.revision)).toBe(1);
    const active = await status();
    expect(active.status).toBe('ACTIVE');
    // A rename changes nothing the agent applies.
    expect((await group(t, 'updateFirewallGroup', { id: created.id, name: 'edge2' })).firewallGroup.status).toBe('ACTIVE');
    const changed = (await group(t, 'updateFirewallGroup', { id: created.id, egressFirewallPolicyId: p.id })).firewallGroup;
    expect(changed.status).toBe('PENDING_UPDATE');
    // A report about the revision before the change is refused.
    expect(await report(active.revision)).toBe(0);
    expect(await report(changed.revision, 'ERROR')).toBe(1);
    expect((await status()).status).toBe('ERROR');
    // A change to a rule of its policies: the agent has to apply the group again (neutron-fwaas).
    expect(
      (await api.mutate(t, 'updateFirewallRule', { id: allow.id, action: 'deny' }, 'firewallRule { action }')).firewallRule.action,
    ).toBe('deny');
    expect((await status()).status).toBe('PENDING_UPDATE');
    expect(await report((await status()).revision)).toBe(1);
    expect((await policy(t, 'removeFirewallRule', { id: p.id, firewallRuleId: allow.id })).firewallPolicy.firewallRuleIds).toEqual([]);
    expect((await status()).status).toBe('PENDING_UPDATE');
    expect((await group(t, 'updateFirewallGroup', { id: created.id, adminStateUp: false })).firewallGroup.status).toBe('DOWN');
    expect((await group(t, 'updateFirewallGroup', { id: created.id, adminStateUp: true })).firewallGroup.status).toBe('PENDING_UPDATE');
    expect((await group(t, 'updateFirewallGroup', { id: created.id, portIds: [] })).firewallGroup.status).toBe('INACTIVE');
  });

  it("another project's rules, policies and groups are not found; quotas hold", async () => {
    const a = await api.token('fw-a');
    const b = await api.token('fw-b');
    const r = (await rule(a, { protocol: 'udp', action: 'allow' })).firewallRule;
    expect((await policy(b, 'createFirewallPolicy', { name: 'x', firewallRules: [r.id] })).code).toBe('FirewallRuleNotFound');
    expect((await api.mutate(b, 'deleteFirewallRule', { id: r.id })).code).toBe('FirewallRuleNotFound');
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => policy(b, 'createFirewallPolicy', { name: `p${i}` })));
    const ok = results.filter((x) => x.__typename === 'CreateFirewallPolicySuccess').length;
    expect(ok).toBe(10);
    expect(results.find((x) => x.code)?.code).toBe('OverQuota');
  });
});
