import { describe, expect, it } from 'vitest';
import {
  firewallGroupDecider,
  firewallPolicyDecider,
  firewallRuleDecider,
  type FirewallGroupEvent,
  type FirewallPolicyEvent,
  type FirewallRuleEvent,
  type FirewallPortFacts,
} from '../../src/domain/firewall/index.js';
import { spec } from '../support/spec.js';

const NOW = '2026-01-01T00:00:00.000Z';
const LATER = '2026-01-02T00:00:00.000Z';
const P = 'project-a';
const R1 = '11111111-1111-4111-8111-111111111111';
const R2 = '22222222-2222-4222-8222-222222222222';
const R3 = '33333333-3333-4333-8333-333333333333';
const POL = '44444444-4444-4444-8444-444444444444';
const G = '55555555-5555-4555-8555-555555555555';
const PORT = '66666666-6666-4666-8666-666666666666';

const ruleCreated = (
  id: string,
  extra: Partial<Extract<FirewallRuleEvent, { type: 'FirewallRuleCreated' }>['data']> = {},
): FirewallRuleEvent => ({
  type: 'FirewallRuleCreated',
  data: {
    id,
    project: P,
    name: '',
    description: '',
    tags: [],
    protocol: 'tcp',
    ipVersion: 4,
    sourceIpAddress: null,
    destinationIpAddress: null,
    sourcePort: null,
    destinationPort: '80',
    action: 'allow',
    enabled: true,
    shared: false,
    createdAt: NOW,
    ...extra,
  },
});

describe('firewall rule decider', () => {
  const create = { type: 'CreateFirewallRule' as const, id: R1, project: P, now: NOW };

  it('creates a rule normalised: action deny by default, bare IPs as host prefixes, N:N as N', () => {
    spec(firewallRuleDecider)
      .given([])
      .when({ ...create, protocol: 'TCP', destinationIpAddress: '10.0.0.5', destinationPort: '80:80' })
      .then([ruleCreated(R1, { destinationIpAddress: '10.0.0.5/32', action: 'deny' })]);
  });

  it('refuses ports without a protocol, ports with ICMP, bad ranges, unknown actions and mixed IP versions', () => {
    const s = spec(firewallRuleDecider).given([]);
    s.when({ ...create, destinationPort: '22' }).thenError('FirewallRuleWithPortWithoutProtocolInvalid');
    s.when({ ...create, protocol: 'icmp', destinationPort: '22' }).thenError('FirewallRuleInvalidICMPParameter');
    s.when({ ...create, protocol: 'tcp', destinationPort: '90:80' }).thenError('FirewallRuleInvalidPortValue');
    s.when({ ...create, protocol: 'tcp', sourcePort: '0' }).thenError('FirewallRuleInvalidPortValue');
    s.when({ ...create, action: 'permit' }).thenError('FirewallRuleInvalidAction');
    s.when({ ...create, ipVersion: 6, sourceIpAddress: '10.0.0.0/8' }).thenError('FirewallIpAddressConflict');
    s.when({ ...create, protocol: 'gre' }).thenError('InvalidInput');
  });

  it('re-creating the same rule is a no-op; a different one with the id is refused', () => {
    const given = spec(firewallRuleDecider).given([ruleCreated(R1)]);
    given.when({ ...create, protocol: 'tcp', destinationPort: '80', action: 'allow' }).thenNothing();
    given.when({ ...create, protocol: 'udp', action: 'allow' }).thenError('FirewallRuleAlreadyExists');
  });

  it('an update is validated against the whole rule', () => {
    const given = spec(firewallRuleDecider).given([ruleCreated(R1)]);
    given
      .when({ type: 'UpdateFirewallRule', id: R1, now: LATER, changes: { protocol: null } })
      .thenError('FirewallRuleWithPortWithoutProtocolInvalid');
    given.when({ type: 'UpdateFirewallRule', id: R1, now: LATER, changes: { destinationPort: '81' } }).then((events) => {
      expect(events[0]?.type).toBe('FirewallRuleUpdated');
    });
    given
      .when({ type: 'UpdateFirewallRule', id: R1, now: LATER, expectedRevision: 7, changes: {} })
      .thenError('RevisionNumberConstraintFailed');
  });

  it('a rule listed by a policy cannot be deleted; a deleted rule is not found', () => {
    spec(firewallRuleDecider)
      .given([ruleCreated(R1)])
      .when({ type: 'DeleteFirewallRule', id: R1, now: LATER, usedByPolicies: [POL] })
      .thenError('FirewallRuleInUse');
    spec(firewallRuleDecider)
      .given([ruleCreated(R1), { type: 'FirewallRuleDeleted', data: { id: R1, deletedAt: LATER } }])
      .when({ type: 'DeleteFirewallRule', id: R1, now: LATER, usedByPolicies: [] })
      .thenError('FirewallRuleNotFound');
  });
});

const policyCreated = (rules: string[]): FirewallPolicyEvent => ({
  type: 'FirewallPolicyCreated',
  data: { id: POL, project: P, name: 'p', description: '', tags: [], firewallRules: rules, audited: false, shared: false, createdAt: NOW },
});

describe('firewall policy decider', () => {
  it('creates an ordered policy of visible rules only', () => {
    const create = { type: 'CreateFirewallPolicy' as const, id: POL, project: P, name: 'p', now: NOW };
    spec(firewallPolicyDecider)
      .given([])
      .when({ ...create, firewallRules: [R2, R1], visibleRuleIds: [R1, R2] })
      .then([policyCreated([R2, R1])]);
    spec(firewallPolicyDecider)
      .given([])
      .when({ ...create, firewallRules: [R1, R3], visibleRuleIds: [R1] })
      .thenError('FirewallRuleNotFound');
    spec(firewallPolicyDecider)
      .given([])
      .when({ ...create, firewallRules: [R1, R1], visibleRuleIds: [R1] })
      .thenError('FirewallRuleAlreadyAssociated');
  });

  it('inserts before or after a listed rule, at the top otherwise, and un-audits', () => {
    const given = spec(firewallPolicyDecider).given([policyCreated([R1, R2])]);
    const insert = { type: 'InsertFirewallRule' as const, id: POL, ruleId: R3, ruleVisible: true, now: LATER };
    const rulesAfter = (events: readonly FirewallPolicyEvent[]) =>
      events[0]?.type === 'FirewallPolicyUpdated' ? events[0].data.changes.firewallRules : undefined;
    given.when({ ...insert, insertAfter: R1 }).then((e) => expect(rulesAfter(e)).toEqual([R1, R3, R2]));
    given.when({ ...insert, insertBefore: R1 }).then((e) => expect(rulesAfter(e)).toEqual([R3, R1, R2]));
    given.when(insert).then((e) => expect(rulesAfter(e)).toEqual([R3, R1, R2]));
    given.when({ ...insert, ruleId: R1 }).thenError('FirewallRuleAlreadyAssociated');
    given.when({ ...insert, insertAfter: '77777777-7777-4777-8777-777777777777' }).thenError('FirewallRuleNotAssociatedWithPolicy');
    given.when({ type: 'RemoveFirewallRule', id: POL, ruleId: R3, now: LATER }).thenError('FirewallRuleNotAssociatedWithPolicy');
  });

  it('a policy used by a group cannot be deleted', () => {
    spec(firewallPolicyDecider)
      .given([policyCreated([])])
      .when({ type: 'DeleteFirewallPolicy', id: POL, now: LATER, usedByGroups: [G] })
      .thenError('FirewallPolicyInUse');
  });
});

const riPort = (extra: Partial<FirewallPortFacts> = {}): FirewallPortFacts => ({
  id: PORT,
  exists: true,
  project: P,
  deviceOwner: 'network:router_interface',
  usedByGroup: null,
  ...extra,
});
const groupCreate = {
  type: 'CreateFirewallGroup' as const,
  id: G,
  project: P,
  name: 'fw',
  isAdmin: false,
  visiblePolicyIds: [POL],
  portFacts: [riPort()],
  defaultGroupExists: true,
  now: NOW,
};
const groupCreated = (
  ports: string[],
  extra: Partial<Extract<FirewallGroupEvent, { type: 'FirewallGroupCreated' }>['data']> = {},
): FirewallGroupEvent => ({
  type: 'FirewallGroupCreated',
  data: {
    id: G,
    project: P,
    name: 'fw',
    description: '',
    tags: [],
    ingressFirewallPolicyId: POL,
    egressFirewallPolicyId: null,
    ports,
    adminStateUp: true,
    shared: false,
    isDefault: false,
    status: ports.length > 0 ? 'PENDING_CREATE' : 'INACTIVE',
    createdAt: NOW,
    ...extra,
  },
});

describe('firewall group decider', () => {
  it('is INACTIVE without ports and PENDING_CREATE with them, until the agent applies it', () => {
    spec(firewallGroupDecider)
      .given([])
      .when({ ...groupCreate, ingressFirewallPolicyId: POL })
      .then([groupCreated([])]);
    spec(firewallGroupDecider)
      .given([])
      .when({ ...groupCreate, ingressFirewallPolicyId: POL, ports: [PORT] })
      .then([groupCreated([PORT])]);
    spec(firewallGroupDecider)
      .given([groupCreated([])])
      .when({
        type: 'UpdateFirewallGroup',
        id: G,
        now: LATER,
        isAdmin: false,
        visiblePolicyIds: [],
        portFacts: [riPort()],
        changes: { ports: [PORT] },
      })
      .then((e) => expect(e[0]?.type === 'FirewallGroupUpdated' && e[0].data.changes.status).toBe('PENDING_UPDATE'));
  });

  it("goes ACTIVE on the agent's report for the revision it applied; a change of ports or policy makes it PENDING_UPDATE again", () => {
    const active: FirewallGroupEvent = { type: 'FirewallGroupStatusChanged', data: { id: G, status: 'ACTIVE', updatedAt: LATER } };
    spec(firewallGroupDecider)
      .given([groupCreated([PORT])])
      .when({ type: 'ReportFirewallGroupStatus', id: G, status: 'ACTIVE', expectedRevision: 1, now: LATER })
      .then([active]);
    const update = (changes: Record<string, unknown>) => ({
      type: 'UpdateFirewallGroup' as const,
      id: G,
      now: LATER,
      isAdmin: false,
      visiblePolicyIds: [POL],
      portFacts: [riPort()],
      changes,
    });
    const statusAfter = (changes: Record<string, unknown>) => {
      const r = spec(firewallGroupDecider)
        .given([groupCreated([PORT]), active])
        .when(update(changes)).result;
      const e = Array.isArray(r) ? r[0] : undefined;
      return e?.type === 'FirewallGroupUpdated' ? e.data.changes.status : r;
    };
    expect(statusAfter({ name: 'renamed' })).toBe('ACTIVE');
    expect(statusAfter({ ports: [PORT] })).toBe('ACTIVE');
    expect(statusAfter({ ingressFirewallPolicyId: null })).toBe('PENDING_UPDATE');
    expect(statusAfter({ adminStateUp: false })).toBe('DOWN');
    expect(statusAfter({ ports: [] })).toBe('INACTIVE');
    // Admin-down, then up again: the rules come back only when the agent says so.
    const down: FirewallGroupEvent = {
      type: 'FirewallGroupUpdated',
      data: { id: G, changes: { adminStateUp: false, status: 'DOWN' }, updatedAt: LATER },
    };
    const upAgain = spec(firewallGroupDecider)
      .given([groupCreated([PORT]), active, down])
      .when(update({ adminStateUp: true })).result;
    expect(Array.isArray(upAgain) && upAgain[0]?.type === 'FirewallGroupUpdated' && upAgain[0].data.changes.status).toBe('PENDING_UPDATE');
    // A report about a revision the group has moved past is refused: the agent reports again.
    spec(firewallGroupDecider)
      .given([
        groupCreated([PORT]),
        active,
        { type: 'FirewallGroupUpdated', data: { id: G, changes: { status: 'PENDING_UPDATE' }, updatedAt: LATER } },
      ])
      .when({ type: 'ReportFirewallGroupStatus', id: G, status: 'ACTIVE', expectedRevision: 2, now: LATER })
      .thenError('RevisionNumberConstraintFailed');
  });

  it('applies only to router interface ports of the project not held by another group', () => {
    const s = spec(firewallGroupDecider).given([]);
    s.when({ ...groupCreate, ports: [PORT], portFacts: [riPort({ deviceOwner: 'compute:nova' })] }).thenError('FirewallGroupPortInvalid');
    s.when({ ...groupCreate, ports: [PORT], portFacts: [riPort({ usedByGroup: '88888888-8888-4888-8888-888888888888' })] }).thenError(
      'FirewallGroupPortInUse',
    );
    s.when({ ...groupCreate, ports: [PORT], portFacts: [riPort({ project: 'other' })] }).thenError('FirewallGroupPortInvalidProject');
    s.when({ ...groupCreate, ports: [PORT], portFacts: [riPort({ exists: false })] }).thenError('PortNotFound');
    s.when({ ...groupCreate, ingressFirewallPolicyId: R3 }).thenError('FirewallPolicyNotFound');
  });

  it('a changed policy or rule makes an applied group PENDING_UPDATE; INACTIVE and DOWN groups stay', () => {
    const active: FirewallGroupEvent = { type: 'FirewallGroupStatusChanged', data: { id: G, status: 'ACTIVE', updatedAt: LATER } };
    spec(firewallGroupDecider)
      .given([groupCreated([PORT]), active])
      .when({ type: 'MarkFirewallGroupPending', id: G, now: LATER })
      .then([{ type: 'FirewallGroupStatusChanged', data: { id: G, status: 'PENDING_UPDATE', updatedAt: LATER } }]);
    spec(firewallGroupDecider)
      .given([groupCreated([])])
      .when({ type: 'MarkFirewallGroupPending', id: G, now: LATER })
      .thenNothing();
  });

  it('the dataplane reports ACTIVE or ERROR for an applied group only', () => {
    spec(firewallGroupDecider)
      .given([groupCreated([PORT])])
      .when({ type: 'ReportFirewallGroupStatus', id: G, status: 'ERROR', now: LATER })
      .then([{ type: 'FirewallGroupStatusChanged', data: { id: G, status: 'ERROR', updatedAt: LATER } }]);
    spec(firewallGroupDecider)
      .given([groupCreated([])])
      .when({ type: 'ReportFirewallGroupStatus', id: G, status: 'ACTIVE', now: LATER })
      .thenNothing();
  });

  it('the default group: one per project, renamed by nobody, deleted by admins only; a group with ports is in use', () => {
    spec(firewallGroupDecider)
      .given([])
      .when({ ...groupCreate, name: 'default', defaultGroupExists: true })
      .thenError('FirewallGroupDefaultAlreadyExists');
    const def = spec(firewallGroupDecider).given([groupCreated([], { name: 'default', isDefault: true })]);
    def
      .when({ type: 'UpdateFirewallGroup', id: G, now: LATER, isAdmin: false, visiblePolicyIds: [], portFacts: [], changes: { name: 'x' } })
      .thenError('FirewallDefaultObjectUpdateRestricted');
    def.when({ type: 'DeleteFirewallGroup', id: G, now: LATER, isAdmin: false }).thenError('FirewallGroupCannotRemoveDefault');
    def
      .when({ type: 'DeleteFirewallGroup', id: G, now: LATER, isAdmin: true })
      .then((e) => expect(e[0]?.type).toBe('FirewallGroupDeleted'));
    spec(firewallGroupDecider)
      .given([groupCreated([PORT])])
      .when({ type: 'DeleteFirewallGroup', id: G, now: LATER, isAdmin: false })
      .thenError('FirewallGroupInUse');
  });
});
