import { describe, expect, it } from 'vitest';
import type {
  SecurityGroupCommand,
  SecurityGroupEvent,
  SecurityGroupRule,
  SecurityGroupRuleInput,
} from '../../src/domain/security-group/index.js';
import { securityGroupDecider, securityGroupEvents } from '../../src/domain/security-group/index.js';
import { spec } from '../support/spec.js';

const id = (n: number) => `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;
const SG = id(1);
const OTHER_SG = id(2);
const R = [id(11), id(12), id(13), id(14)];
const NEW_RULE = id(20);
const T0 = '2025-01-01T00:00:00.000Z';
const T1 = '2025-01-01T00:01:00.000Z';

const given = (events: readonly SecurityGroupEvent[] = []) => spec(securityGroupDecider).given(events);

function valid(events: readonly SecurityGroupEvent[]): void {
  for (const e of events) {
    const def = securityGroupEvents.find((d) => d.type === e.type);
    expect(def, e.type).toBeDefined();
    expect(def!.schema.safeParse(e.data).success, `${e.type} ${JSON.stringify(e.data)}`).toBe(true);
  }
}

const anyRule = { protocol: null, portRangeMin: null, portRangeMax: null, remoteIpPrefix: null, description: '' };
const egress = (ruleId: string, ethertype: 'IPv4' | 'IPv6'): SecurityGroupRule => ({
  id: ruleId,
  direction: 'egress',
  ethertype,
  remoteGroupId: null,
  ...anyRule,
});
const ingressSelf = (ruleId: string, ethertype: 'IPv4' | 'IPv6'): SecurityGroupRule => ({
  id: ruleId,
  direction: 'ingress',
  ethertype,
  remoteGroupId: SG,
  ...anyRule,
});

const createCmd = (extra: Partial<Extract<SecurityGroupCommand, { type: 'CreateSecurityGroup' }>> = {}): SecurityGroupCommand => ({
  type: 'CreateSecurityGroup',
  id: SG,
  project: 'p1',
  name: 'web',
  defaultGroupExists: true,
  ruleIds: R,
  now: T0,
  ...extra,
});
const created: SecurityGroupEvent = {
  type: 'SecurityGroupCreated',
  data: {
    id: SG,
    project: 'p1',
    name: 'web',
    description: '',
    tags: [],
    stateful: true,
    isDefault: false,
    rules: [egress(R[0]!, 'IPv4'), egress(R[1]!, 'IPv6')],
    createdAt: T0,
  },
};
const defaultCreated: SecurityGroupEvent = {
  type: 'SecurityGroupCreated',
  data: {
    id: SG,
    project: 'p1',
    name: 'default',
    description: 'Default security group',
    tags: [],
    stateful: true,
    isDefault: true,
    rules: [ingressSelf(R[0]!, 'IPv4'), egress(R[1]!, 'IPv4'), ingressSelf(R[2]!, 'IPv6'), egress(R[3]!, 'IPv6')],
    createdAt: T0,
  },
};

const addRule = (
  rule: Partial<SecurityGroupRuleInput>,
  extra: Partial<Extract<SecurityGroupCommand, { type: 'AddSecurityGroupRule' }>> = {},
): SecurityGroupCommand => ({
  type: 'AddSecurityGroupRule',
  id: SG,
  rule: { id: NEW_RULE, direction: 'ingress', ...rule },
  now: T1,
  ...extra,
});
/** The stored rule the decider made of `input`. */
function stored(rule: Partial<SecurityGroupRuleInput>): SecurityGroupRule {
  const events = given([created]).when(addRule(rule)).then(valid);
  const [event] = events;
  if (event?.type !== 'SecurityGroupRuleAdded') throw new Error('no rule added');
  return event.data.rule;
}

describe('security group create', () => {
  it('gives a new group only the two egress rules', () => {
    valid(given().when(createCmd()).then([created]));
  });
  it("gives the project's default group ingress from itself as well", () => {
    valid(
      given()
        .when(createCmd({ name: 'default', defaultGroupExists: false }))
        .then([defaultCreated]),
    );
  });
  it('refuses a second default group', () => {
    given()
      .when(createCmd({ name: 'default', defaultGroupExists: true }))
      .thenError('SecurityGroupDefaultAlreadyExists');
  });
  it('is idempotent for a retried create', () => {
    given([created]).when(createCmd()).thenNothing();
    given([created])
      .when(createCmd({ name: 'db' }))
      .thenError('SecurityGroupAlreadyExists');
  });
  it('needs enough rule ids', () => {
    given()
      .when(createCmd({ ruleIds: [R[0]!] }))
      .thenError('InvalidInput');
  });
});

describe('security group update and delete', () => {
  it('updates the named attributes', () => {
    valid(
      given([created])
        .when({ type: 'UpdateSecurityGroup', id: SG, changes: { name: 'web2', stateful: false }, now: T1 })
        .then([{ type: 'SecurityGroupUpdated', data: { id: SG, changes: { name: 'web2', stateful: false }, updatedAt: T1 } }]),
    );
  });
  it('refuses changing stateful while ports use the group (SecurityGroupInUse), not other changes', () => {
    given([created])
      .when({ type: 'UpdateSecurityGroup', id: SG, changes: { stateful: false }, inUseByPorts: true, now: T1 })
      .thenError('SecurityGroupInUse');
    given([created])
      .when({ type: 'UpdateSecurityGroup', id: SG, changes: { stateful: true, name: 'web2' }, inUseByPorts: true, now: T1 })
      .then((e) => expect(e).toHaveLength(1));
    given([created])
      .when({ type: 'UpdateSecurityGroup', id: SG, changes: { stateful: false }, inUseByPorts: false, now: T1 })
      .then((e) => expect(e).toHaveLength(1));
  });
  it('refuses renaming the default group, or naming another one default', () => {
    given([defaultCreated])
      .when({ type: 'UpdateSecurityGroup', id: SG, changes: { name: 'x' }, now: T1 })
      .thenError('SecurityGroupCannotUpdateDefault');
    given([defaultCreated])
      .when({ type: 'UpdateSecurityGroup', id: SG, changes: { description: 'ok' }, now: T1 })
      .then((e) => expect(e).toHaveLength(1));
    given([created])
      .when({ type: 'UpdateSecurityGroup', id: SG, changes: { name: 'default' }, now: T1 })
      .thenError('SecurityGroupDefaultAlreadyExists');
  });
  it('checks the expected revision', () => {
    given([created])
      .when({ type: 'UpdateSecurityGroup', id: SG, changes: { name: 'x' }, expectedRevision: 2, now: T1 })
      .thenError('RevisionNumberConstraintFailed');
  });
  const del = (extra: Partial<Extract<SecurityGroupCommand, { type: 'DeleteSecurityGroup' }>> = {}): SecurityGroupCommand => ({
    type: 'DeleteSecurityGroup',
    id: SG,
    isAdmin: false,
    inUseByPorts: false,
    now: T1,
    ...extra,
  });
  it('deletes a group no port uses', () => {
    valid(
      given([created])
        .when(del())
        .then([{ type: 'SecurityGroupDeleted', data: { id: SG, project: 'p1', isDefault: false, deletedAt: T1 } }]),
    );
    given([created])
      .when(del({ inUseByPorts: true }))
      .thenError('SecurityGroupInUse');
  });
  it('keeps the default group from members, not from admins or project teardown', () => {
    given([defaultCreated]).when(del()).thenError('SecurityGroupCannotRemoveDefault');
    given([defaultCreated])
      .when(del({ isAdmin: true }))
      .then((e) => expect(e).toHaveLength(1));
    given([defaultCreated])
      .when(del({ projectTeardown: true }))
      .then((e) => expect(e).toHaveLength(1));
    given([defaultCreated])
      .when(del({ isAdmin: true, inUseByPorts: true }))
      .thenError('SecurityGroupInUse');
  });
  it('answers SecurityGroupNotFound after delete', () => {
    const deleted: SecurityGroupEvent = { type: 'SecurityGroupDeleted', data: { id: SG, project: 'p1', isDefault: false, deletedAt: T1 } };
    given([created, deleted]).when(del()).thenError('SecurityGroupNotFound');
    given([created, deleted])
      .when(addRule({ protocol: 'tcp' }))
      .thenError('SecurityGroupNotFound');
  });
});

describe('security group rules: protocols', () => {
  it('adds a tcp rule with a port range', () => {
    expect(stored({ protocol: 'TCP', portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: '192.0.2.0/24' })).toEqual({
      id: NEW_RULE,
      direction: 'ingress',
      ethertype: 'IPv4',
      protocol: 'tcp',
      portRangeMin: 22,
      portRangeMax: 22,
      remoteIpPrefix: '192.0.2.0/24',
      remoteGroupId: null,
      description: '',
    });
  });
  it('accepts numbers and treats "any" as all protocols', () => {
    expect(stored({ protocol: 6 }).protocol).toBe('6');
    expect(stored({ protocol: '132' }).protocol).toBe('132');
    expect(stored({ protocol: 'any' }).protocol).toBeNull();
  });
  it('refuses unknown protocols', () => {
    given([created])
      .when(addRule({ protocol: 'tcpp' }))
      .thenError('SecurityGroupRuleInvalidProtocol');
    given([created])
      .when(addRule({ protocol: 256 }))
      .thenError('SecurityGroupRuleInvalidProtocol');
    given([created])
      .when(addRule({ protocol: -1 }))
      .thenError('SecurityGroupRuleInvalidProtocol');
  });
  it('turns icmp over IPv6 into ipv6-icmp', () => {
    expect(stored({ ethertype: 'IPv6', protocol: 'icmp' }).protocol).toBe('ipv6-icmp');
    expect(stored({ ethertype: 'ipv6', protocol: 1 })).toMatchObject({ ethertype: 'IPv6', protocol: '58' });
    expect(stored({ ethertype: 'IPv6', protocol: 'icmpv6' }).protocol).toBe('ipv6-icmp');
  });
  it('refuses IPv6-only protocols on IPv4', () => {
    given([created])
      .when(addRule({ protocol: 'ipv6-icmp' }))
      .thenError('SecurityGroupEthertypeConflictWithProtocol');
    given([created])
      .when(addRule({ protocol: 58 }))
      .thenError('SecurityGroupEthertypeConflictWithProtocol');
  });
  it('refuses a bad direction or ethertype', () => {
    given([created])
      .when(addRule({ direction: 'inbound' }))
      .thenError('InputValidationError');
    given([created])
      .when(addRule({ ethertype: 'IPv5' }))
      .thenError('InputValidationError');
  });
});

describe('security group rules: ports', () => {
  it('allows ranges for the five port protocols and normalises 1-65535 to all ports', () => {
    for (const protocol of ['tcp', 'udp', 'sctp', 'udplite', 'dccp']) {
      expect(stored({ protocol, portRangeMin: 1000, portRangeMax: 2000 })).toMatchObject({ portRangeMin: 1000, portRangeMax: 2000 });
    }
    expect(stored({ protocol: 'tcp', portRangeMin: 1, portRangeMax: 65535 })).toMatchObject({ portRangeMin: null, portRangeMax: null });
  });
  it('refuses min > max, a half range, and port 0 or above 65535', () => {
    given([created])
      .when(addRule({ protocol: 'tcp', portRangeMin: 90, portRangeMax: 80 }))
      .thenError('SecurityGroupInvalidPortRange');
    given([created])
      .when(addRule({ protocol: 'udp', portRangeMin: 80 }))
      .thenError('SecurityGroupInvalidPortRange');
    given([created])
      .when(addRule({ protocol: 'tcp', portRangeMin: 0, portRangeMax: 80 }))
      .thenError('SecurityGroupInvalidPortValue');
    given([created])
      .when(addRule({ protocol: 'tcp', portRangeMin: 80, portRangeMax: 65536 }))
      .thenError('SecurityGroupInvalidPortValue');
    given([created])
      .when(addRule({ protocol: 'tcp', portRangeMin: 1.5, portRangeMax: 80 }))
      .thenError('InputValidationError');
  });
  it('refuses ports without a protocol or with a protocol that has none', () => {
    given([created])
      .when(addRule({ portRangeMin: 80, portRangeMax: 80 }))
      .thenError('SecurityGroupProtocolRequiredWithPorts');
    given([created])
      .when(addRule({ protocol: 'gre', portRangeMin: 80, portRangeMax: 80 }))
      .thenError('SecurityGroupInvalidProtocolForPort');
  });
  it('reads ICMP ports as type and code, each 0-255', () => {
    expect(stored({ protocol: 'icmp', portRangeMin: 8, portRangeMax: 0 })).toMatchObject({ portRangeMin: 8, portRangeMax: 0 });
    expect(stored({ protocol: 'icmp', portRangeMin: 8 })).toMatchObject({ portRangeMin: 8, portRangeMax: null });
    given([created])
      .when(addRule({ protocol: 'icmp', portRangeMin: 256 }))
      .thenError('SecurityGroupInvalidIcmpValue');
    given([created])
      .when(addRule({ protocol: 'icmp', portRangeMin: 8, portRangeMax: 300 }))
      .thenError('SecurityGroupInvalidIcmpValue');
    given([created])
      .when(addRule({ protocol: 'icmp', portRangeMax: 0 }))
      .thenError('SecurityGroupMissingIcmpType');
  });
});

describe('security group rules: remotes', () => {
  it('normalises the remote prefix', () => {
    expect(stored({ remoteIpPrefix: '10.0.0.5' }).remoteIpPrefix).toBe('10.0.0.5/32');
    expect(stored({ remoteIpPrefix: '10.0.0.5/24' }).remoteIpPrefix).toBe('10.0.0.0/24');
    expect(stored({ ethertype: 'IPv6', remoteIpPrefix: '2001:DB8::1' }).remoteIpPrefix).toBe('2001:db8::1/128');
  });
  it('refuses a prefix of the other family or a malformed one', () => {
    given([created])
      .when(addRule({ remoteIpPrefix: '2001:db8::/64' }))
      .thenError('SecurityGroupRuleParameterConflict');
    given([created])
      .when(addRule({ ethertype: 'IPv6', remoteIpPrefix: '10.0.0.0/8' }))
      .thenError('SecurityGroupRuleParameterConflict');
    given([created])
      .when(addRule({ remoteIpPrefix: '10.0.0.0/33' }))
      .thenError('InputValidationError');
  });
  it('takes a remote prefix or a remote group, not both', () => {
    given([created])
      .when(addRule({ remoteIpPrefix: '10.0.0.0/8', remoteGroupId: SG }))
      .thenError('SecurityGroupRemoteGroupAndRemoteIpPrefix');
  });
  it('needs the remote group to exist, unless it is the group itself', () => {
    expect(stored({ remoteGroupId: SG }).remoteGroupId).toBe(SG);
    given([created])
      .when(addRule({ remoteGroupId: OTHER_SG }))
      .thenError('SecurityGroupNotFound');
    given([created])
      .when(addRule({ remoteGroupId: OTHER_SG }, { remoteGroupExists: true }))
      .then((e) => expect(e).toHaveLength(1));
  });
});

describe('security group rules: duplicates and removal', () => {
  const ssh: SecurityGroupEvent = {
    type: 'SecurityGroupRuleAdded',
    data: {
      id: SG,
      rule: {
        ...anyRule,
        id: id(30),
        direction: 'ingress',
        ethertype: 'IPv4',
        protocol: 'tcp',
        portRangeMin: 22,
        portRangeMax: 22,
        remoteGroupId: null,
      },
      updatedAt: T1,
    },
  };
  it('refuses a rule that already exists, however it is spelled', () => {
    given([created, ssh])
      .when(addRule({ protocol: '6', portRangeMin: 22, portRangeMax: 22 }))
      .thenError('SecurityGroupRuleExists', (e) => expect(e.details).toEqual({ ruleId: id(30) }));
    given([created])
      .when(addRule({ direction: 'egress', remoteIpPrefix: '0.0.0.0/0' }))
      .thenError('SecurityGroupRuleExists');
    given([created, ssh])
      .when(addRule({ protocol: 'tcp', portRangeMin: 22, portRangeMax: 23 }))
      .then((e) => expect(e).toHaveLength(1));
  });
  it('is idempotent for the same rule id', () => {
    given([created, ssh])
      .when(addRule({ id: id(30), protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 }))
      .thenNothing();
    given([created, ssh])
      .when(addRule({ id: id(30), protocol: 'udp' }))
      .thenError('SecurityGroupRuleAlreadyExists');
  });
  it('removes a rule, carrying it for the dataplane', () => {
    valid(
      given([created, ssh])
        .when({ type: 'RemoveSecurityGroupRule', id: SG, ruleId: id(30), now: T1 })
        .then([
          { type: 'SecurityGroupRuleRemoved', data: { id: SG, rule: (ssh.data as { rule: SecurityGroupRule }).rule, updatedAt: T1 } },
        ]),
    );
    given([created])
      .when({ type: 'RemoveSecurityGroupRule', id: SG, ruleId: id(30), now: T1 })
      .thenError('SecurityGroupRuleNotFound');
  });
  it('allows the same rule again after removal', () => {
    const removed: SecurityGroupEvent = {
      type: 'SecurityGroupRuleRemoved',
      data: { id: SG, rule: (ssh.data as { rule: SecurityGroupRule }).rule, updatedAt: T1 },
    };
    given([created, ssh, removed])
      .when(addRule({ protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 }))
      .then((e) => expect(e).toHaveLength(1));
  });
});

describe('deleting a group cascades to the rules of other groups naming it as remote group (Neutron)', () => {
  const fromOther = (ruleId: string, ethertype: 'IPv4' | 'IPv6'): SecurityGroupRule => ({
    ...ingressSelf(ruleId, ethertype),
    remoteGroupId: OTHER_SG,
  });
  const withRemote: SecurityGroupEvent[] = [
    created,
    { type: 'SecurityGroupRuleAdded', data: { id: SG, rule: fromOther(id(30), 'IPv4'), updatedAt: T1 } },
    { type: 'SecurityGroupRuleAdded', data: { id: SG, rule: fromOther(id(31), 'IPv6'), updatedAt: T1 } },
  ];
  const cascade = (remoteGroupId: string): SecurityGroupCommand => ({ type: 'RemoveRulesForRemoteGroup', id: SG, remoteGroupId, now: T1 });

  it('given two rules naming the deleted group, then one SecurityGroupRuleRemoved each, saying why', () => {
    const events = given(withRemote)
      .when(cascade(OTHER_SG))
      .then([
        {
          type: 'SecurityGroupRuleRemoved',
          data: { id: SG, rule: fromOther(id(30), 'IPv4'), remoteGroupDeleted: OTHER_SG, updatedAt: T1 },
        },
        {
          type: 'SecurityGroupRuleRemoved',
          data: { id: SG, rule: fromOther(id(31), 'IPv6'), remoteGroupDeleted: OTHER_SG, updatedAt: T1 },
        },
      ]);
    valid(events);
    const after = given([...withRemote, ...events]).state;
    expect(after.status === 'live' && after.resource.rules.map((r) => r.id)).toEqual([R[0], R[1]]);
  });

  it('given no rule naming it, or the group itself, then nothing', () => {
    given([created]).when(cascade(OTHER_SG)).thenNothing();
    given([defaultCreated]).when(cascade(SG)).thenNothing();
  });
});
