import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREATE_NETWORK, CREATE_SUBNET, startTestApi, type TestApi } from '../support/api.js';
import { MAX_FIXED_IPS_PER_PORT } from '../../src/domain/port/index.js';

/**
 * A member of one project (mallory) names another project's (alice's) resources, or ids that do
 * not exist, in every kind of reference a command carries. Each attempt must answer the
 * resource's NotFound exactly as for a missing id, and change nothing: no event is recorded
 * under mallory's project.
 */

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.close());

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

async function ok(token: string, name: string, input: Record<string, unknown>, select: string): Promise<any> {
  const r = await api.mutate(token, name, input, select);
  expect(r.__typename, JSON.stringify(r)).toBe(`${cap(name)}Success`);
  return r;
}

async function projectOf(token: string): Promise<string> {
  return (await api.gql(token, '{ viewer { project { uuid } } }')).viewer.project.uuid;
}

async function eventsOf(projectId: string): Promise<number> {
  const [row] = await api.services.sql<{ n: number }[]>`select count(*)::int as n from nl_events where metadata->>'project' = ${projectId}`;
  return row!.n;
}

async function networkWithSubnet(token: string, name: string, cidr: string, extra: Record<string, unknown> = {}) {
  const n = (await api.gql(token, CREATE_NETWORK, { input: { name, ...extra } })).createNetwork;
  expect(n.__typename).toBe('CreateNetworkSuccess');
  const s = (await api.gql(token, CREATE_SUBNET, { input: { networkId: n.network.id, ipVersion: 4, cidr } })).createSubnet;
  expect(s.__typename).toBe('CreateSubnetSuccess');
  return { network: n.network, subnet: s.subnet };
}

const PORT = 'port { id uuid revision securityGroupIds fixedIps { ipAddress } allowedAddressPairs { ipAddress macAddress } }';

describe('references a command carries are checked through the policy', () => {
  let alice: string;
  let mallory: string;
  let malloryProject: string;
  const a: Record<string, any> = {};
  const mm: Record<string, any> = {};

  beforeAll(async () => {
    alice = await api.token('ref-alice');
    mallory = await api.token('ref-mallory');
    malloryProject = await projectOf(mallory);
    a.net = await networkWithSubnet(alice, 'alice-net', '10.1.0.0/24');
    a.port = (await ok(alice, 'createPort', { networkId: a.net.network.id }, PORT)).port;
    a.group = (await ok(alice, 'createSecurityGroup', { name: 'alice-sg' }, 'securityGroup { id uuid }')).securityGroup;
    a.router = (await ok(alice, 'createRouter', { name: 'alice-r' }, 'router { id uuid }')).router;
    a.iface = (
      await ok(alice, 'addRouterInterface', { id: a.router.id, subnetId: a.net.subnet.id }, 'router { interfaces { portId } }')
    ).router.interfaces[0].portId;
    a.rule = (await ok(alice, 'createFirewallRule', { name: 'alice-rule', action: 'allow' }, 'firewallRule { id uuid }')).firewallRule;
    a.policy = (
      await ok(alice, 'createFirewallPolicy', { name: 'alice-policy', firewallRules: [a.rule.id] }, 'firewallPolicy { id uuid }')
    ).firewallPolicy;

    mm.ext = await networkWithSubnet(api.adminToken, 'ref-public', '203.0.113.0/24', { external: true });
    mm.net = await networkWithSubnet(mallory, 'mallory-net', '10.9.0.0/24');
    mm.port = (await ok(mallory, 'createPort', { networkId: mm.net.network.id }, PORT)).port;
    mm.group = (await ok(mallory, 'createSecurityGroup', { name: 'mallory-sg' }, 'securityGroup { id uuid rules { uuid } }')).securityGroup;
    mm.router = (await ok(mallory, 'createRouter', { name: 'mallory-r' }, 'router { id uuid }')).router;
    mm.lb = (
      await ok(mallory, 'createLoadBalancer', { name: 'mallory-lb', vipSubnetId: mm.net.subnet.id }, 'loadBalancer { id uuid }')
    ).loadBalancer;
    mm.listener = (
      await ok(mallory, 'createListener', { loadBalancerId: mm.lb.id, protocol: 'HTTP', protocolPort: 80 }, 'listener { id }')
    ).listener;
    mm.pool = (
      await ok(mallory, 'createPool', { listenerId: mm.listener.id, protocol: 'HTTP', lbAlgorithm: 'ROUND_ROBIN' }, 'pool { id }')
    ).pool;
    mm.fip = (await ok(mallory, 'createFloatingIp', { floatingNetworkId: mm.ext.network.id }, 'floatingIp { id }')).floatingIp;
  });

  /** The attack answers `code` and records nothing for mallory. */
  async function refused(attack: Promise<any>, code: string, field?: string): Promise<any> {
    const before = await eventsOf(malloryProject);
    const r = await attack;
    expect(r.code, JSON.stringify(r)).toBe(code);
    if (field) expect(r.message).toContain(field);
    expect(await eventsOf(malloryProject)).toBe(before);
    return r;
  }

  it("a port's security groups: another project's group or an unknown id is not found, on create and update", async () => {
    for (const sg of [a.group.id, a.group.uuid, randomUUID()]) {
      await refused(
        api.mutate(mallory, 'createPort', { networkId: mm.net.network.id, securityGroupIds: [sg] }, PORT),
        'SecurityGroupNotFound',
      );
      await refused(
        api.mutate(mallory, 'updatePort', { id: mm.port.id, securityGroupIds: [mm.group.id, sg] }, PORT),
        'SecurityGroupNotFound',
      );
    }
    const after = (
      await api.gql(mallory, 'query($id: ID!) { node(id: $id) { ... on Port { revision securityGroupIds } } }', { id: mm.port.id })
    ).node;
    expect(after.revision).toBe(mm.port.revision);
    // alice's group gained no member: no port anywhere carries it
    const carriers = await api.services.sql`select 1 from rm_resources where kind = 'port' and doc->'securityGroups' ? ${a.group.uuid}`;
    expect(carriers).toHaveLength(0);
    // the caller's own group is fine
    const own = await ok(mallory, 'updatePort', { id: mm.port.id, securityGroupIds: [mm.group.id] }, PORT);
    expect(own.port.securityGroupIds).toEqual([mm.group.uuid]);
  });

  it("a security group rule's remote group must be the group's project's own", async () => {
    for (const remote of [a.group.id, randomUUID()]) {
      await refused(
        api.mutate(mallory, 'createSecurityGroupRule', { securityGroupId: mm.group.id, direction: 'ingress', remoteGroupId: remote }),
        'SecurityGroupNotFound',
      );
    }
    const rules = (
      await api.gql(mallory, 'query($id: ID!) { node(id: $id) { ... on SecurityGroup { rules { uuid } } } }', { id: mm.group.id })
    ).node.rules;
    expect(rules).toHaveLength(mm.group.rules.length);
  });

  it("a load balancer's VIP subnet, network and port", async () => {
    await refused(api.mutate(mallory, 'createLoadBalancer', { vipSubnetId: a.net.subnet.id }), 'SubnetNotFound');
    await refused(api.mutate(mallory, 'createLoadBalancer', { vipNetworkId: a.net.network.id }), 'NetworkNotFound');
    await refused(api.mutate(mallory, 'createLoadBalancer', { vipPortId: a.port.id }), 'PortNotFound');
    await refused(api.mutate(mallory, 'createLoadBalancer', { vipSubnetId: randomUUID() }), 'SubnetNotFound');
  });

  it("a member's subnet: exists, visible, and holds the member's address", async () => {
    const add = (input: Record<string, unknown>) =>
      api.mutate(mallory, 'addMember', { poolId: mm.pool.id, protocolPort: 8080, ...input }, 'member { uuid subnetId }');
    await refused(add({ address: '10.1.0.5', subnetId: a.net.subnet.id }), 'SubnetNotFound');
    await refused(add({ address: '10.9.0.5', subnetId: randomUUID() }), 'SubnetNotFound');
    await refused(add({ address: '10.1.0.5', subnetId: mm.net.subnet.id }), 'ValidationException');
    await refused(
      api.mutate(mallory, 'replacePoolMembers', {
        poolId: mm.pool.id,
        members: [{ address: '10.1.0.5', protocolPort: 80, subnetId: a.net.subnet.uuid }],
      }),
      'SubnetNotFound',
    );
    const member = await add({ address: '10.9.0.50', subnetId: mm.net.subnet.id });
    expect(member.member.subnetId).toBe(mm.net.subnet.uuid);
  });

  it('router interfaces (subnet, port) and the router gateway network', async () => {
    await refused(api.mutate(mallory, 'addRouterInterface', { id: mm.router.id, subnetId: a.net.subnet.id }), 'SubnetNotFound');
    await refused(api.mutate(mallory, 'addRouterInterface', { id: mm.router.id, portId: a.port.id }), 'PortNotFound');
    await refused(api.mutate(mallory, 'setRouterGateway', { id: mm.router.id, networkId: a.net.network.id }), 'NetworkNotFound');
    await refused(api.mutate(mallory, 'setRouterGateway', { id: mm.router.id, networkId: randomUUID() }), 'NetworkNotFound');
  });

  it("floating IPs: the network, the port and its fixed IP; a member picks no address; nobody takes a gateway's", async () => {
    await refused(api.mutate(mallory, 'createFloatingIp', { floatingNetworkId: a.net.network.id }), 'NetworkNotFound');
    await refused(api.mutate(mallory, 'createFloatingIp', { floatingNetworkId: mm.ext.network.id, portId: a.port.id }), 'PortNotFound');
    await refused(api.mutate(mallory, 'associateFloatingIp', { id: mm.fip.id, portId: a.port.id }), 'PortNotFound');
    await refused(
      api.mutate(mallory, 'associateFloatingIp', { id: mm.fip.id, portId: mm.port.id, fixedIpAddress: a.port.fixedIps[0].ipAddress }),
      'BadRequest',
    );
    await refused(
      api.mutate(mallory, 'createFloatingIp', { floatingNetworkId: mm.ext.network.id, floatingIpAddress: '203.0.113.77' }),
      'PolicyNotAuthorized',
      'create_floatingip:floating_ip_address',
    );
    const gw = await api.mutate(api.adminToken, 'createFloatingIp', {
      floatingNetworkId: mm.ext.network.id,
      floatingIpAddress: mm.ext.subnet.gatewayIp,
    });
    expect(gw.code).toBe('BadRequest');
    const held = await api.services.sql`select 1 from rm_ip_allocations where host(ip_address) = ${mm.ext.subnet.gatewayIp}`;
    expect(held).toHaveLength(0);
  });

  it('firewall groups (ports, policies) and policies (rules)', async () => {
    await refused(api.mutate(mallory, 'createFirewallGroup', { name: 'g', portIds: [a.iface] }), 'PortNotFound');
    await refused(
      api.mutate(mallory, 'createFirewallGroup', { name: 'g', ingressFirewallPolicyId: a.policy.id }),
      'FirewallPolicyNotFound',
    );
    await refused(api.mutate(mallory, 'createFirewallPolicy', { name: 'p', firewallRules: [a.rule.id] }), 'FirewallRuleNotFound');
    const own = await ok(mallory, 'createFirewallPolicy', { name: 'own' }, 'firewallPolicy { id }');
    await refused(
      api.mutate(mallory, 'insertFirewallRule', { id: own.firewallPolicy.id, firewallRuleId: a.rule.id }),
      'FirewallRuleNotFound',
    );
  });
});

describe('bad input is refused before it reaches the log', () => {
  const NET = 'network { uuid name description tags }';

  async function issues(token: string, name: string, input: Record<string, unknown>) {
    const r = await api.mutate(token, name, input);
    expect(r.__typename, JSON.stringify(r)).toBe('InputValidationError');
    return r.issues.map((i: { path: string[] }) => i.path.join('.'));
  }

  it('NUL bytes, control characters and lone surrogates in any text field name the field', async () => {
    const t = await api.token('bad-text');
    const before = await eventsOf(await projectOf(t));
    expect(await issues(t, 'createNetwork', { name: 'a\u0000b' })).toEqual(['name']);
    expect(await issues(t, 'createNetwork', { name: 'bell\u0007' })).toEqual(['name']);
    expect(await issues(t, 'createNetwork', { description: 'half \ud800 pair' })).toEqual(['description']);
    expect(await issues(t, 'createNetwork', { tags: ['fine', 'esc\u001b'] })).toEqual(['tags.1']);
    expect(await issues(t, 'createNetwork', { name: 'c1\u0085' })).toEqual(['name']);
    expect(await issues(t, 'createSecurityGroup', { name: 'x', description: 'lone \udc00' })).toEqual(['description']);
    expect(await eventsOf(await projectOf(t))).toBe(before);
    // lines and whole surrogate pairs are text
    const fine = await ok(t, 'createNetwork', { name: 'emoji 😀', description: 'two\nlines\ttabbed' }, NET);
    expect(fine.network).toMatchObject({ name: 'emoji 😀', description: 'two\nlines\ttabbed' });
  });

  it('lists are bounded', async () => {
    const t = await api.token('bad-lists');
    const net = await networkWithSubnet(t, 'lists', '10.7.0.0/24');
    expect(await issues(t, 'createNetwork', { tags: Array.from({ length: 51 }, (_, i) => `t${i}`) })).toEqual(['tags']);
    expect(await ok(t, 'createNetwork', { tags: Array.from({ length: 50 }, (_, i) => `t${i}`) }, NET)).toBeTruthy();
    const tooMany = Array.from({ length: MAX_FIXED_IPS_PER_PORT + 1 }, (_, i) => ({ ipAddress: `10.7.${2 + (i >> 8)}.${i & 255}` }));
    expect(await issues(t, 'createPort', { networkId: net.network.id, fixedIps: tooMany })).toEqual(['fixedIps']);
    expect(
      await issues(t, 'createPort', { networkId: net.network.id, securityGroupIds: Array.from({ length: 51 }, () => randomUUID()) }),
    ).toEqual(['securityGroupIds']);
    const pairs = await api.mutate(t, 'createPort', {
      networkId: net.network.id,
      allowedAddressPairs: Array.from({ length: 11 }, (_, i) => ({ ipAddress: `10.7.1.${i}` })),
    });
    expect(pairs.code).toBe('AllowedAddressPairExhausted');
  });

  it('CIDRs with host bits are stored as their network, in every CIDR field', async () => {
    const t = await api.token('host-bits');
    const net = await networkWithSubnet(t, 'bits', '10.6.0.1/24');
    expect(net.subnet.cidr).toBe('10.6.0.0/24');
    const group = (await ok(t, 'createSecurityGroup', { name: 'bits' }, 'securityGroup { id }')).securityGroup;
    const rule = await ok(
      t,
      'createSecurityGroupRule',
      { securityGroupId: group.id, direction: 'ingress', remoteIpPrefix: '192.0.2.77/24' },
      'securityGroupRule { remoteIpPrefix }',
    );
    expect(rule.securityGroupRule.remoteIpPrefix).toBe('192.0.2.0/24');
    const fw = await ok(
      t,
      'createFirewallRule',
      { action: 'allow', sourceIpAddress: '198.51.100.9/28', destinationIpAddress: '203.0.113.200/25' },
      'firewallRule { sourceIpAddress destinationIpAddress }',
    );
    expect(fw.firewallRule).toEqual({ sourceIpAddress: '198.51.100.0/28', destinationIpAddress: '203.0.113.128/25' });
    const fw6 = await ok(
      t,
      'createFirewallRule',
      { action: 'allow', ipVersion: 6, sourceIpAddress: '2001:db8::1/64' },
      'firewallRule { sourceIpAddress }',
    );
    expect(fw6.firewallRule.sourceIpAddress).toBe('2001:db8::/64');
    const port = await ok(t, 'createPort', { networkId: net.network.id, allowedAddressPairs: [{ ipAddress: '10.6.0.77/28' }] }, PORT);
    expect(port.port.allowedAddressPairs[0].ipAddress).toBe('10.6.0.64/28');
  });
});
