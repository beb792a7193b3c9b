import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setQuota } from '../../src/app/tenancy.js';
import { CREATE_NETWORK, CREATE_PORT, CREATE_SUBNET, startTestApi, type TestApi } from '../support/api.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.close());

const RULE = 'id uuid securityGroupId direction ethertype protocol portRangeMin portRangeMax remoteIpPrefix remoteGroupId description';
const GROUP = `id uuid name description isDefault stateful revision rules { ${RULE} }`;

const groupOp = (token: string, name: string, input: Record<string, unknown>) =>
  api.mutate(token, name, input, `securityGroup { ${GROUP} }`);
const addRule = (token: string, input: Record<string, unknown>) =>
  api.mutate(token, 'createSecurityGroupRule', input, `securityGroupRule { ${RULE} }`);

async function groups(token: string) {
  return (await api.gql(token, `query { securityGroups { totalCount edges { node { ${GROUP} } } } }`)).securityGroups;
}

/** The rule as direction/ethertype/remote, ignoring ids: the shape Neutron documents. */
const shape = (r: any) => `${r.direction} ${r.ethertype} ${r.remoteGroupId ? 'group' : 'any'}`;

describe('security groups over GraphQL', () => {
  it("creates the default group on a project's first request, once, with Neutron's four rules", async () => {
    const t = await api.token('sg-first');
    const first = await groups(t);
    expect(first.totalCount).toBe(1);
    const d = first.edges[0].node;
    expect(d).toMatchObject({ name: 'default', description: 'Default security group', isDefault: true, stateful: true });
    expect(d.rules.map(shape).sort()).toEqual(['egress IPv4 any', 'egress IPv6 any', 'ingress IPv4 group', 'ingress IPv6 group']);
    expect(d.rules.filter((r: any) => r.remoteGroupId).every((r: any) => r.remoteGroupId === d.uuid)).toBe(true);
    expect(d.rules.every((r: any) => r.protocol === null && r.portRangeMin === null && r.remoteIpPrefix === null)).toBe(true);
    expect((await groups(t)).totalCount).toBe(1);
    const rules = await api.gql(t, `query { securityGroupRules { totalCount } }`);
    expect(rules.securityGroupRules.totalCount).toBe(4);
  });

  it("creates one default group when a project's first requests race, and gives it to new ports", async () => {
    const t = await api.token('sg-race');
    const net = (await api.gql(t, CREATE_NETWORK, { input: { name: 'n' } })).createNetwork.network;
    await api.gql(t, CREATE_SUBNET, { input: { networkId: net.id, ipVersion: 4, cidr: '10.5.0.0/24' } });
    const ports = await Promise.all([0, 1, 2, 3].map(() => api.gql(t, CREATE_PORT, { input: { networkId: net.id } })));
    await Promise.all([groups(t), groups(t)]);
    const list = await groups(t);
    expect(list.totalCount).toBe(1);
    const defaultId = list.edges[0].node.uuid;
    for (const p of ports) {
      expect(p.createPort.__typename).toBe('CreatePortSuccess');
      const seen = await api.gql(t, `query($id: ID!) { node(id: $id) { ... on Port { securityGroupIds } } }`, { id: p.createPort.port.id });
      expect(seen.node.securityGroupIds).toEqual([defaultId]);
    }
    // Platform ports get none; a port may opt out with an empty list or name its own groups.
    const dhcp = await api.gql(
      t,
      `query($n: String) { ports(filter: { networkId: $n }, portFilter: { deviceOwner: "network:dhcp" }) { edges { node { securityGroupIds } } } }`,
      { n: net.uuid },
    );
    expect(dhcp.ports.edges[0].node.securityGroupIds).toEqual([]);
    const web = (await groupOp(t, 'createSecurityGroup', { name: 'web' })).securityGroup;
    const own = await api.gql(
      t,
      `mutation($i: CreatePortInput!) { createPort(input: $i) { ... on CreatePortSuccess { port { securityGroupIds } } } }`,
      { i: { networkId: net.id, securityGroupIds: [web.id] } },
    );
    expect(own.createPort.port.securityGroupIds).toEqual([web.uuid]);
  });

  it('guards the default group and groups in use', async () => {
    const t = await api.token('sg-guard');
    const d = (await groups(t)).edges[0].node;
    const web = await groupOp(t, 'createSecurityGroup', { name: 'web', description: 'front' });
    expect(web.securityGroup).toMatchObject({ name: 'web', description: 'front', isDefault: false });
    expect(web.securityGroup.rules.map(shape).sort()).toEqual(['egress IPv4 any', 'egress IPv6 any']);
    expect((await groupOp(t, 'createSecurityGroup', { name: 'default' })).code).toBe('SecurityGroupDefaultAlreadyExists');
    expect((await groupOp(t, 'updateSecurityGroup', { id: d.id, name: 'renamed' })).code).toBe('SecurityGroupCannotUpdateDefault');
    expect((await groupOp(t, 'updateSecurityGroup', { id: d.id, description: 'mine' })).securityGroup.description).toBe('mine');
    expect((await groupOp(t, 'updateSecurityGroup', { id: web.securityGroup.id, name: 'default' })).code).toBe(
      'SecurityGroupDefaultAlreadyExists',
    );
    expect((await api.mutate(t, 'deleteSecurityGroup', { id: d.id })).code).toBe('SecurityGroupCannotRemoveDefault');

    const net = (await api.gql(t, CREATE_NETWORK, { input: { name: 'n' } })).createNetwork.network;
    await api.gql(t, CREATE_SUBNET, { input: { networkId: net.id, ipVersion: 4, cidr: '10.6.0.0/24' } });
    const p = (await api.gql(t, CREATE_PORT, { input: { networkId: net.id } })).createPort.port;
    await api.gql(t, `mutation($i: UpdatePortInput!) { updatePort(input: $i) { __typename } }`, {
      i: { id: p.id, securityGroupIds: [web.securityGroup.id] },
    });
    expect((await api.mutate(t, 'deleteSecurityGroup', { id: web.securityGroup.id })).code).toBe('SecurityGroupInUse');
    expect((await api.mutate(t, 'deletePort', { id: p.id })).__typename).toBe('DeletePortSuccess');
    expect((await api.mutate(t, 'deleteSecurityGroup', { id: web.securityGroup.id })).__typename).toBe('DeleteSecurityGroupSuccess');
    expect((await api.mutate(t, 'deleteSecurityGroup', { id: web.securityGroup.id })).code).toBe('SecurityGroupNotFound');
    // Rules go with their group.
    expect((await api.gql(t, `query { securityGroupRules { totalCount } }`)).securityGroupRules.totalCount).toBe(4);

    // Other projects see nothing; an admin may remove a default group, and the next request brings it back.
    const other = await api.token('sg-guard-other');
    expect((await api.mutate(other, 'deleteSecurityGroup', { id: d.id })).code).toBe('SecurityGroupNotFound');
    expect((await addRule(other, { securityGroupId: d.id, direction: 'ingress' })).code).toBe('SecurityGroupNotFound');
    expect((await api.mutate(api.adminToken, 'deleteSecurityGroup', { id: d.id })).__typename).toBe('DeleteSecurityGroupSuccess');
    const back = await groups(t);
    expect(back.totalCount).toBe(1);
    expect(back.edges[0].node.uuid).not.toBe(d.uuid);
  });

  it('keeps a port all stateful or all stateless (SecurityGroupConflict), and stateful fixed while in use', async () => {
    const t = await api.token('sg-stateless');
    const net = (await api.gql(t, CREATE_NETWORK, { input: { name: 'n' } })).createNetwork.network;
    await api.gql(t, CREATE_SUBNET, { input: { networkId: net.id, ipVersion: 4, cidr: '10.7.0.0/24' } });
    const web = (await groupOp(t, 'createSecurityGroup', { name: 'web' })).securityGroup;
    const raw = (await groupOp(t, 'createSecurityGroup', { name: 'raw', stateful: false })).securityGroup;
    const raw2 = (await groupOp(t, 'createSecurityGroup', { name: 'raw2', stateful: false })).securityGroup;
    expect(raw.stateful).toBe(false);
    const createPort = (ids: string[]) => api.mutate(t, 'createPort', { networkId: net.id, securityGroupIds: ids }, 'port { id }');
    const mixed = await createPort([web.id, raw.id]);
    expect(mixed).toMatchObject({ __typename: 'SecurityGroupConflict', code: 'SecurityGroupConflict' });
    expect(mixed.message).toContain('Cannot apply both stateful and stateless security groups on the same port');
    const p = await createPort([raw.id, raw2.id]);
    expect(p.__typename).toBe('CreatePortSuccess');
    expect((await api.mutate(t, 'updatePort', { id: p.port.id, securityGroupIds: [raw.id, web.id] })).code).toBe('SecurityGroupConflict');
    expect((await api.mutate(t, 'updatePort', { id: p.port.id, securityGroupIds: [raw.id] })).__typename).toBe('UpdatePortSuccess');
    // A group ports use keeps its statefulness; other changes, and an unused group, may go on.
    expect((await groupOp(t, 'updateSecurityGroup', { id: raw.id, stateful: true })).code).toBe('SecurityGroupInUse');
    expect((await groupOp(t, 'updateSecurityGroup', { id: raw.id, stateful: false, description: 'x' })).securityGroup.stateful).toBe(false);
    expect((await groupOp(t, 'updateSecurityGroup', { id: raw2.id, stateful: true })).securityGroup.stateful).toBe(true);
  });

  it('validates and normalises rules as Neutron does', async () => {
    const t = await api.token('sg-rules');
    const g = (await groupOp(t, 'createSecurityGroup', { name: 'matrix' })).securityGroup;
    const other = (await groupOp(t, 'createSecurityGroup', { name: 'peer' })).securityGroup;
    const refused: [Record<string, unknown>, string][] = [
      [{ direction: 'sideways' }, 'InputValidationError'],
      [{ direction: 'ingress', ethertype: 'IPv5' }, 'InputValidationError'],
      [{ direction: 'ingress', protocol: 'foo' }, 'SecurityGroupRuleInvalidProtocol'],
      [{ direction: 'ingress', protocol: '256' }, 'SecurityGroupRuleInvalidProtocol'],
      [{ direction: 'ingress', portRangeMin: 22, portRangeMax: 22 }, 'SecurityGroupProtocolRequiredWithPorts'],
      [{ direction: 'ingress', protocol: 'tcp', portRangeMin: 0, portRangeMax: 10 }, 'SecurityGroupInvalidPortValue'],
      [{ direction: 'ingress', protocol: 'udp', portRangeMin: 1, portRangeMax: 70000 }, 'SecurityGroupInvalidPortValue'],
      [{ direction: 'ingress', protocol: 'tcp', portRangeMin: 100, portRangeMax: 10 }, 'SecurityGroupInvalidPortRange'],
      [{ direction: 'ingress', protocol: 'icmp', portRangeMin: 256 }, 'SecurityGroupInvalidIcmpValue'],
      [{ direction: 'ingress', protocol: 'icmp', portRangeMax: 0 }, 'SecurityGroupMissingIcmpType'],
      [{ direction: 'ingress', protocol: 'gre', portRangeMin: 1, portRangeMax: 2 }, 'SecurityGroupInvalidProtocolForPort'],
      [{ direction: 'ingress', protocol: 'ipv6-icmp' }, 'SecurityGroupEthertypeConflictWithProtocol'],
      [{ direction: 'ingress', ethertype: 'IPv6', remoteIpPrefix: '10.0.0.0/8' }, 'SecurityGroupRuleParameterConflict'],
      [{ direction: 'ingress', remoteIpPrefix: '10.0.0.0/8', remoteGroupId: other.id }, 'SecurityGroupRemoteGroupAndRemoteIpPrefix'],
      [{ direction: 'ingress', remoteIpPrefix: 'not-a-prefix' }, 'InputValidationError'],
      [{ direction: 'ingress', remoteGroupId: '7d1f7e5e-0000-4000-8000-000000000000' }, 'SecurityGroupNotFound'],
    ];
    for (const [input, code] of refused) {
      const r = await addRule(t, { securityGroupId: g.id, ...input });
      expect({ input, code: r.code }).toEqual({ input, code });
    }
    const accepted: [Record<string, unknown>, Record<string, unknown>][] = [
      [
        { direction: 'ingress', protocol: 'TCP', portRangeMin: 1, portRangeMax: 65535 },
        { protocol: 'tcp', portRangeMin: null, portRangeMax: null, ethertype: 'IPv4' },
      ],
      [
        { direction: 'ingress', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: '192.0.2.7' },
        { portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: '192.0.2.7/32' },
      ],
      [
        { direction: 'ingress', ethertype: 'ipv6', protocol: 'icmp', portRangeMin: 128 },
        { ethertype: 'IPv6', protocol: 'ipv6-icmp', portRangeMin: 128, portRangeMax: null },
      ],
      [
        { direction: 'ingress', protocol: '17', portRangeMin: 53, portRangeMax: 53, remoteGroupId: other.id },
        { protocol: '17', remoteGroupId: other.uuid },
      ],
      [
        { direction: 'egress', protocol: 'any', remoteIpPrefix: '10.0.0.1/8', description: 'lan' },
        { protocol: null, remoteIpPrefix: '10.0.0.0/8', description: 'lan' },
      ],
    ];
    for (const [input, expected] of accepted) {
      const r = await addRule(t, { securityGroupId: g.id, ...input });
      expect(r.__typename).toBe('CreateSecurityGroupRuleSuccess');
      expect(r.securityGroupRule).toMatchObject({ ...expected, securityGroupId: g.uuid });
    }
    // A rule equal to an existing one (by protocol number too) is refused.
    expect(
      (
        await addRule(t, {
          securityGroupId: g.id,
          direction: 'ingress',
          protocol: '6',
          portRangeMin: 22,
          portRangeMax: 22,
          remoteIpPrefix: '192.0.2.7/32',
        })
      ).code,
    ).toBe('SecurityGroupRuleExists');
    expect((await addRule(t, { securityGroupId: g.id, direction: 'egress', ethertype: 'IPv4' })).code).toBe('SecurityGroupRuleExists');

    const rules = await api.gql(
      t,
      `query($g: String) { securityGroupRules(ruleFilter: { securityGroupId: $g }) { totalCount edges { node { id } } } }`,
      { g: g.id },
    );
    expect(rules.securityGroupRules.totalCount).toBe(2 + accepted.length);
    const ruleId = (await addRule(t, { securityGroupId: g.id, direction: 'ingress', protocol: 'sctp' })).securityGroupRule.id;
    expect((await api.mutate(t, 'deleteSecurityGroupRule', { id: ruleId })).__typename).toBe('DeleteSecurityGroupRuleSuccess');
    expect((await api.mutate(t, 'deleteSecurityGroupRule', { id: ruleId })).code).toBe('SecurityGroupRuleNotFound');
    const after = await api.gql(t, `query($id: ID!) { node(id: $id) { ... on SecurityGroup { rules { id } revision } } }`, { id: g.id });
    expect(after.node.rules).toHaveLength(2 + accepted.length);
    expect(after.node.revision).toBe(1 + accepted.length + 2);
  });

  it('counts groups and rules against their quotas', async () => {
    const t = await api.token('sg-quota');
    const projectId = (await api.gql(t, '{ viewer { project { uuid } } }')).viewer.project.uuid;
    expect((await setQuota(api.services, projectId, 'security_group', 3)).ok).toBe(true);
    expect((await setQuota(api.services, projectId, 'security_group_rule', 9)).ok).toBe(true);
    // default (4 rules) + two groups (2 rules each) = 3 groups, 8 rules.
    const a = (await groupOp(t, 'createSecurityGroup', { name: 'a' })).securityGroup;
    expect((await groupOp(t, 'createSecurityGroup', { name: 'b' })).__typename).toBe('CreateSecurityGroupSuccess');
    expect((await groupOp(t, 'createSecurityGroup', { name: 'c' })).code).toBe('OverQuota');
    expect(
      (await addRule(t, { securityGroupId: a.id, direction: 'ingress', protocol: 'tcp', portRangeMin: 80, portRangeMax: 80 })).__typename,
    ).toBe('CreateSecurityGroupRuleSuccess');
    const over = await addRule(t, { securityGroupId: a.id, direction: 'ingress', protocol: 'tcp', portRangeMin: 443, portRangeMax: 443 });
    expect(over).toMatchObject({ code: 'OverQuota', message: "Quota exceeded for resources: ['security_group_rule']." });
    expect((await groups(t)).totalCount).toBe(3);
  });
});
