import { describe, expect, it } from 'vitest';
import { isDomainError } from '../../src/domain/errors.js';
import {
  loadBalancerDecider as decider,
  loadBalancerEvents,
  rollUpStatuses,
  type LoadBalancerCommand,
  type LoadBalancerEvent,
  type LoadBalancerState,
} from '../../src/domain/loadbalancer/index.js';
import { loadBalancerRows } from '../../src/projections/kinds/loadbalancer-kind.js';
import { spec } from '../support/spec.js';

const u = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const LB = u(1);
const PROJECT = 'project-a';
const VIP = { portId: u(900), address: '10.0.0.10', subnetId: u(901), networkId: u(902) };
const L80 = u(10);
const L443 = u(11);
const POOL = u(20);
const POOL2 = u(21);
const HM = u(30);
const member = (n: number) => u(100 + n);
const now = '2025-01-01T00:00:00.000Z';
const later = '2025-01-01T00:05:00.000Z';

type Without<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Cmd = Without<LoadBalancerCommand, 'loadBalancerId'>;
const cmd = (c: Cmd): LoadBalancerCommand => ({ loadBalancerId: LB, ...c }) as LoadBalancerCommand;

const schemas = new Map(loadBalancerEvents.map((d) => [d.type, d.schema]));

/** Events of running the commands in order; every decided event must satisfy its schema. */
function history(...commands: Cmd[]): LoadBalancerEvent[] {
  let state = decider.initialState;
  const events: LoadBalancerEvent[] = [];
  for (const c of commands) {
    const result = decider.decide(cmd(c), state);
    if (isDomainError(result)) throw new Error(`${c.type}: ${result.code}: ${result.message}`);
    for (const e of result) {
      const parsed = schemas.get(e.type)!.safeParse(e.data);
      if (!parsed.success) throw new Error(`${e.type} does not match its schema: ${parsed.error.message}`);
      events.push(e);
      state = decider.evolve(state, e);
    }
  }
  return events;
}
const fold = (events: readonly LoadBalancerEvent[]): LoadBalancerState => events.reduce(decider.evolve, decider.initialState);

const createLb: Cmd = { type: 'CreateLoadBalancer', project: PROJECT, name: 'web', vip: VIP, now };
const httpListener: Cmd = { type: 'CreateListener', listenerId: L80, protocol: 'HTTP', protocolPort: 80, now };
const httpPool: Cmd = { type: 'CreatePool', poolId: POOL, listenerId: L80, protocol: 'HTTP', lbAlgorithm: 'ROUND_ROBIN', now };
const addMember = (n: number, extra: Partial<{ weight: number; adminStateUp: boolean }> = {}): Cmd => ({
  type: 'AddMember',
  poolId: POOL,
  memberId: member(n),
  subnetCidrs: {},
  address: `10.0.1.${n}`,
  protocolPort: 8080,
  ...extra,
  now,
});
const httpMonitor: Cmd = {
  type: 'CreateHealthMonitor',
  healthMonitorId: HM,
  poolId: POOL,
  monitorType: 'HTTP',
  delay: 10,
  timeout: 5,
  maxRetries: 3,
  now,
};
const base = () => history(createLb, httpListener, httpPool);
const when = (given: readonly LoadBalancerEvent[], c: Cmd) => spec(decider).given(given).when(cmd(c));

describe('load balancer', () => {
  it('is created with its VIP facts', () => {
    when([], createLb).then([
      {
        type: 'LoadBalancerCreated',
        data: {
          id: LB,
          project: PROJECT,
          name: 'web',
          description: '',
          tags: [],
          adminStateUp: true,
          provider: 'netledger',
          createdAt: now,
        },
      },
      { type: 'VipBound', data: { ...VIP, portOwned: true } },
    ]);
  });
  it('create is idempotent, and a different create with the same id conflicts', () => {
    const given = history(createLb);
    when(given, createLb).thenNothing();
    when(given, { ...createLb, name: 'other' } as Cmd).thenError('IDAlreadyExists');
  });
  it('only the fixed provider is accepted', () => {
    when([], { ...createLb, provider: 'amphora' } as Cmd).thenError('ProviderNotEnabled');
  });
  it('rejects an invalid VIP address', () => {
    when([], { ...createLb, vip: { ...VIP, address: '10.0.0' } } as Cmd).thenError('InputValidationError');
  });
  it('update emits only what changed and checks expectedRevision', () => {
    const given = history(createLb);
    when(given, { type: 'UpdateLoadBalancer', name: 'web', description: 'front', now: later }).then([
      { type: 'LoadBalancerUpdated', data: { changes: { description: 'front' }, updatedAt: later } },
    ]);
    when(given, { type: 'UpdateLoadBalancer', name: 'web', now: later }).thenNothing();
    when(given, { type: 'UpdateLoadBalancer', adminStateUp: false, expectedRevision: 1, now: later }).thenError(
      'RevisionNumberConstraintFailed',
      (e) => expect(e.message).toBe('Constrained to 1, but current revision is 2'),
    );
    when(given, { type: 'UpdateLoadBalancer', adminStateUp: false, expectedRevision: 2, now: later }).then((events) =>
      expect(events).toHaveLength(1),
    );
  });
  it('unknown and deleted load balancers answer LoadBalancerNotFound', () => {
    when([], { type: 'UpdateLoadBalancer', name: 'x', now }).thenError('LoadBalancerNotFound');
    const deleted = history(createLb, { type: 'DeleteLoadBalancer', now });
    when(deleted, { type: 'UpdateLoadBalancer', name: 'x', now }).thenError('LoadBalancerNotFound');
    when(deleted, httpListener).thenError('LoadBalancerNotFound');
    when(deleted, { type: 'DeleteLoadBalancer', now }).thenError('LoadBalancerNotFound');
  });
  it('refuses to delete a load balancer with children unless cascading', () => {
    when(base(), { type: 'DeleteLoadBalancer', now: later }).thenError('InvalidInput');
  });
  it('cascade delete lists everything it removed in one event', () => {
    const given = history(createLb, httpListener, httpPool, addMember(1), addMember(2), httpMonitor);
    when(given, { type: 'DeleteLoadBalancer', cascade: true, now: later }).then([
      {
        type: 'LoadBalancerDeleted',
        data: {
          id: LB,
          listenerIds: [L80],
          poolIds: [POOL],
          memberIds: [member(1), member(2)],
          healthMonitorIds: [HM],
          vipPortId: VIP.portId,
          vipPortOwned: true,
          deletedAt: later,
        },
      },
    ]);
  });
  it('a cascade-deleted tree is PENDING_DELETE until applied, then DELETED with its children gone', () => {
    const events = history(createLb, httpListener, httpPool, addMember(1), { type: 'DeleteLoadBalancer', cascade: true, now: later });
    const s = fold(events);
    expect(s.statuses.loadBalancer?.provisioningStatus).toBe('PENDING_DELETE');
    expect(s.statuses.members[member(1)]?.provisioningStatus).toBe('PENDING_DELETE');
    const after = decider.evolve(s, { type: 'LoadBalancerApplied', data: { generation: s.generation } });
    expect(after.statuses.loadBalancer?.provisioningStatus).toBe('DELETED');
    expect(after.members).toEqual({});
    expect(after.listeners).toEqual({});
  });
});

describe('listeners', () => {
  it('are created with Octavia defaults', () => {
    when(history(createLb), httpListener).then([
      {
        type: 'ListenerCreated',
        data: {
          listenerId: L80,
          protocol: 'HTTP',
          protocolPort: 80,
          name: '',
          description: '',
          tags: [],
          adminStateUp: true,
          connectionLimit: -1,
          timeoutClientData: 50000,
          timeoutMemberConnect: 5000,
          timeoutMemberData: 50000,
          timeoutTcpInspect: 0,
          defaultPoolId: null,
          createdAt: now,
        },
      },
    ]);
  });
  it('protocol port is unique per load balancer', () => {
    when(history(createLb, httpListener), { type: 'CreateListener', listenerId: L443, protocol: 'TCP', protocolPort: 80, now }).thenError(
      'DuplicateListenerEntry',
    );
  });
  it('a deleted listener frees its port', () => {
    const given = history(createLb, httpListener, { type: 'DeleteListener', listenerId: L80, now });
    when(given, { type: 'CreateListener', listenerId: L443, protocol: 'TCP', protocolPort: 80, now }).then((e) =>
      expect(e).toHaveLength(1),
    );
    when(given, { type: 'UpdateListener', listenerId: L80, name: 'x', now }).thenError('ListenerNotFound');
  });
  it('create is idempotent; a reused id conflicts', () => {
    const given = history(createLb, httpListener);
    when(given, httpListener).thenNothing();
    when(given, { ...httpListener, protocolPort: 81 } as Cmd).thenError('IDAlreadyExists');
    when(given, { type: 'CreatePool', poolId: L80, protocol: 'HTTP', lbAlgorithm: 'ROUND_ROBIN', now }).thenError('IDAlreadyExists');
  });
  it.each([
    ['protocolPort', { protocolPort: 0 }],
    ['protocolPort', { protocolPort: 65536 }],
    ['connectionLimit', { connectionLimit: 0 }],
    ['connectionLimit', { connectionLimit: -2 }],
    ['timeoutClientData', { timeoutClientData: -1 }],
    ['timeoutMemberConnect', { timeoutMemberConnect: 86_400_001 }],
    ['timeoutMemberData', { timeoutMemberData: 1.5 }],
    ['timeoutTcpInspect', { timeoutTcpInspect: 86_400_001 }],
  ])('rejects an out-of-range %s', (field, extra) => {
    when(history(createLb), { ...httpListener, ...extra } as Cmd).thenError('InputValidationError', (e) =>
      expect(e.field).toEqual([field]),
    );
  });
  it('accepts the range edges', () => {
    when(history(createLb), {
      ...httpListener,
      protocolPort: 65535,
      connectionLimit: 1,
      timeoutClientData: 0,
      timeoutMemberData: 86_400_000,
    } as Cmd).then((e) => expect(e).toHaveLength(1));
  });
  it('default pool must exist in this load balancer and be protocol-compatible', () => {
    const given = history(createLb, { type: 'CreatePool', poolId: POOL, protocol: 'TCP', lbAlgorithm: 'ROUND_ROBIN', now });
    when(given, { ...httpListener, defaultPoolId: POOL2 } as Cmd).thenError('PoolNotFound');
    when(given, { ...httpListener, defaultPoolId: POOL } as Cmd).thenError('ListenerPoolProtocolMismatch');
    when(given, { type: 'CreateListener', listenerId: L443, protocol: 'HTTPS', protocolPort: 443, defaultPoolId: POOL, now }).then((e) =>
      expect(e[0]).toMatchObject({ type: 'ListenerCreated', data: { defaultPoolId: POOL } }),
    );
  });
  it('update sets and clears the default pool, with the same checks', () => {
    const given = history(createLb, httpListener, { type: 'CreatePool', poolId: POOL, protocol: 'HTTP', lbAlgorithm: 'ROUND_ROBIN', now });
    when(given, { type: 'UpdateListener', listenerId: L80, defaultPoolId: POOL, now: later }).then([
      { type: 'ListenerUpdated', data: { listenerId: L80, changes: { defaultPoolId: POOL }, updatedAt: later } },
    ]);
    const attached = history(createLb, httpListener, httpPool);
    when(attached, { type: 'UpdateListener', listenerId: L80, defaultPoolId: null, now: later }).then([
      { type: 'ListenerUpdated', data: { listenerId: L80, changes: { defaultPoolId: null }, updatedAt: later } },
    ]);
    when(attached, { type: 'UpdateListener', listenerId: L80, defaultPoolId: POOL, timeoutClientData: 50000, now: later }).thenNothing();
    when(attached, { type: 'UpdateListener', listenerId: L80, connectionLimit: 0, now: later }).thenError('InputValidationError');
  });
  it('child expectedRevision is the child revision', () => {
    const given = history(createLb, httpListener, { type: 'UpdateListener', listenerId: L80, name: 'a', now });
    when(given, { type: 'UpdateListener', listenerId: L80, name: 'b', expectedRevision: 1, now }).thenError(
      'RevisionNumberConstraintFailed',
    );
    when(given, { type: 'UpdateListener', listenerId: L80, name: 'b', expectedRevision: 2, now }).then((e) => expect(e).toHaveLength(1));
    when(given, { type: 'DeleteListener', listenerId: L80, expectedRevision: 1, now }).thenError('RevisionNumberConstraintFailed');
  });
});

describe('pools', () => {
  const tcpListener: Cmd = { type: 'CreateListener', listenerId: L80, protocol: 'TCP', protocolPort: 80, now };
  const httpsListener: Cmd = { type: 'CreateListener', listenerId: L80, protocol: 'HTTPS', protocolPort: 443, now };
  const poolOn = (protocol: 'TCP' | 'HTTP' | 'HTTPS'): Cmd => ({
    type: 'CreatePool',
    poolId: POOL,
    listenerId: L80,
    protocol,
    lbAlgorithm: 'ROUND_ROBIN',
    now,
  });
  it.each([
    ['HTTP', httpListener, 'HTTP', true],
    ['HTTP', httpListener, 'TCP', false],
    ['HTTP', httpListener, 'HTTPS', false],
    ['HTTPS', httpsListener, 'HTTPS', true],
    ['HTTPS', httpsListener, 'TCP', true],
    ['HTTPS', httpsListener, 'HTTP', false],
    ['TCP', tcpListener, 'TCP', true],
    ['TCP', tcpListener, 'HTTP', true],
    ['TCP', tcpListener, 'HTTPS', true],
  ] as const)('%s listener with a %s pool → %s', (_l, listenerCmd, poolProtocol, ok) => {
    const r = when(history(createLb, listenerCmd), poolOn(poolProtocol));
    if (ok) r.then((e) => expect(e[0]?.type).toBe('PoolCreated'));
    else r.thenError('ListenerPoolProtocolMismatch');
  });
  it('creating a pool on a listener makes it the default pool; a second one is refused', () => {
    const s = fold(base());
    expect(s.listeners[L80]?.defaultPoolId).toBe(POOL);
    when(base(), { type: 'CreatePool', poolId: POOL2, listenerId: L80, protocol: 'HTTP', lbAlgorithm: 'ROUND_ROBIN', now }).thenError(
      'DuplicatePoolEntry',
    );
    when(base(), { type: 'CreatePool', poolId: POOL2, listenerId: L443, protocol: 'HTTP', lbAlgorithm: 'ROUND_ROBIN', now }).thenError(
      'ListenerNotFound',
    );
  });
  it('standalone pools belong to the load balancer; create is idempotent', () => {
    const given = history(createLb, { type: 'CreatePool', poolId: POOL2, protocol: 'TCP', lbAlgorithm: 'SOURCE_IP', now });
    when(given, { type: 'CreatePool', poolId: POOL2, protocol: 'TCP', lbAlgorithm: 'SOURCE_IP', now }).thenNothing();
    when(given, { type: 'CreatePool', poolId: POOL2, protocol: 'TCP', lbAlgorithm: 'ROUND_ROBIN', now }).thenError('IDAlreadyExists');
    when(base(), httpPool).thenNothing();
  });
  it('session persistence: APP_COOKIE needs a cookie name, the others forbid it', () => {
    const sp = (sessionPersistence: unknown) => ({ ...httpPool, sessionPersistence }) as Cmd;
    const given = history(createLb, httpListener);
    when(given, sp({ type: 'APP_COOKIE' })).thenError('InputValidationError');
    when(given, sp({ type: 'HTTP_COOKIE', cookieName: 'x' })).thenError('InputValidationError');
    when(given, sp({ type: 'SOURCE_IP', cookieName: 'x' })).thenError('InputValidationError');
    when(given, sp({ type: 'APP_COOKIE', cookieName: 'bad name' })).thenError('InputValidationError');
    when(given, sp({ type: 'APP_COOKIE', cookieName: 'JSESSIONID' })).then((e) =>
      expect(e[0]).toMatchObject({ data: { sessionPersistence: { type: 'APP_COOKIE', cookieName: 'JSESSIONID' } } }),
    );
    when(given, sp({ type: 'HTTP_COOKIE' })).then((e) =>
      expect(e[0]).toMatchObject({ data: { sessionPersistence: { type: 'HTTP_COOKIE', cookieName: null } } }),
    );
  });
  it('cookie persistence needs an HTTP pool; TCP and HTTPS passthrough allow SOURCE_IP only', () => {
    const given = history(createLb, tcpListener);
    when(given, { ...poolOn('TCP'), sessionPersistence: { type: 'HTTP_COOKIE' } } as Cmd).thenError('InputValidationError');
    when(given, { ...poolOn('HTTPS'), sessionPersistence: { type: 'APP_COOKIE', cookieName: 'c' } } as Cmd).thenError(
      'InputValidationError',
    );
    when(given, { ...poolOn('TCP'), sessionPersistence: { type: 'SOURCE_IP' } } as Cmd).then((e) => expect(e).toHaveLength(1));
  });
  it('update changes algorithm and persistence, and can remove persistence', () => {
    const given = history(createLb, httpListener, { ...httpPool, sessionPersistence: { type: 'HTTP_COOKIE' } } as Cmd);
    when(given, { type: 'UpdatePool', poolId: POOL, lbAlgorithm: 'LEAST_CONNECTIONS', sessionPersistence: null, now: later }).then([
      {
        type: 'PoolUpdated',
        data: { poolId: POOL, changes: { lbAlgorithm: 'LEAST_CONNECTIONS', sessionPersistence: null }, updatedAt: later },
      },
    ]);
    when(given, { type: 'UpdatePool', poolId: POOL, sessionPersistence: { type: 'HTTP_COOKIE' }, now: later }).thenNothing();
    when(given, { type: 'UpdatePool', poolId: POOL, sessionPersistence: { type: 'APP_COOKIE' }, now: later }).thenError(
      'InputValidationError',
    );
    when(given, { type: 'UpdatePool', poolId: POOL2, name: 'x', now: later }).thenError('PoolNotFound');
  });
  it('deleting a default pool clears it on its listeners and takes members and monitor along', () => {
    const given = history(createLb, httpListener, httpPool, addMember(1), httpMonitor);
    const events = when(given, { type: 'DeletePool', poolId: POOL, now: later }).then([
      {
        type: 'PoolDeleted',
        data: { poolId: POOL, memberIds: [member(1)], healthMonitorId: HM, clearedDefaultPoolOfListenerIds: [L80], deletedAt: later },
      },
    ]);
    const s = fold([...given, ...events]);
    expect(s.listeners[L80]?.defaultPoolId).toBeNull();
    spec(decider)
      .given([...given, ...events])
      .when(cmd(addMember(2)))
      .thenError('PoolNotFound');
    spec(decider)
      .given([...given, ...events])
      .when(cmd({ type: 'DeleteHealthMonitor', healthMonitorId: HM, now }))
      .thenError('HealthMonitorNotFound');
  });
  it('a shared pool can be the default pool of several compatible listeners', () => {
    const given = history(createLb, httpListener, httpPool, {
      type: 'CreateListener',
      listenerId: L443,
      protocol: 'HTTP',
      protocolPort: 8080,
      now,
    });
    const events = when(given, { type: 'UpdateListener', listenerId: L443, defaultPoolId: POOL, now }).then((e) =>
      expect(e).toHaveLength(1),
    );
    when([...given, ...events], { type: 'DeletePool', poolId: POOL, now }).then((e) =>
      expect(e[0]).toMatchObject({ data: { clearedDefaultPoolOfListenerIds: [L80, L443] } }),
    );
  });
  it('deleting a listener keeps its pool', () => {
    const s = fold(history(createLb, httpListener, httpPool, { type: 'DeleteListener', listenerId: L80, now }));
    expect(s.pools[POOL]?.deletedGeneration).toBeNull();
  });
});

describe('list rows', () => {
  it("carry what Octavia's list filters compare: parent ids, a pool's listeners, protocol, address and port, monitor type", () => {
    const given = history(createLb, httpListener, httpPool, addMember(1), httpMonitor);
    when(given, { type: 'CreateListener', listenerId: L443, protocol: 'TCP', protocolPort: 443, now }).then((events) => {
      const rows = loadBalancerRows(fold([...given, ...events]));
      const doc = (kind: string, id: string) => rows.find((r) => r.kind === kind && r.id === id)?.doc;
      expect(doc('listener', L443)).toMatchObject({ loadBalancerId: LB, protocol: 'TCP', protocolPort: 443, defaultPoolId: null });
      expect(doc('listener', L80)).toMatchObject({ loadBalancerId: LB, defaultPoolId: POOL });
      expect(doc('pool', POOL)).toMatchObject({ loadBalancerId: LB, listenerIds: [L80], protocol: 'HTTP', lbAlgorithm: 'ROUND_ROBIN' });
      expect(doc('member', member(1))).toMatchObject({
        loadBalancerId: LB,
        poolId: POOL,
        address: '10.0.1.1',
        protocolPort: 8080,
        project: PROJECT,
      });
      expect(doc('healthmonitor', HM)).toMatchObject({
        loadBalancerId: LB,
        poolId: POOL,
        monitorType: 'HTTP',
        provisioningStatus: 'PENDING_CREATE',
      });
      expect(rows.every((r) => r.project === PROJECT)).toBe(true);
    });
  });
});

describe('members', () => {
  it('take a subnet only when told its CIDR (a subnet the caller may use) and the address is on it', () => {
    const SUBNET = u(950);
    const add = (address: string, subnetCidrs: Record<string, string>) =>
      ({ type: 'AddMember', poolId: POOL, memberId: member(7), address, protocolPort: 80, subnetId: SUBNET, subnetCidrs, now }) as const;
    when(base(), add('10.0.5.7', {})).thenError('SubnetNotFound', (e) => expect(e.field).toEqual(['subnetId']));
    when(base(), add('10.0.6.7', { [SUBNET]: '10.0.5.0/24' })).thenError('ValidationException', (e) => {
      expect(e.field).toEqual(['address']);
      expect(e.message).toMatch(/^Validation failure: member address 10\.0\.6\.7 is not in subnet/);
    });
    when(base(), add('2001:db8::7', { [SUBNET]: '10.0.5.0/24' })).thenError('ValidationException', (e) =>
      expect(e.message).toMatch(/is IPv6 but subnet .* is IPv4/),
    );
    when(base(), add('2001:db8::7', { [SUBNET]: '2001:db8::/64' })).then((events) =>
      expect(events[0]).toMatchObject({ type: 'MemberAdded', data: { address: '2001:db8::7', subnetId: SUBNET } }),
    );
    when(base(), add('10.0.5.7', { [SUBNET]: '10.0.5.0/24' })).then((events) =>
      expect(events[0]).toMatchObject({ type: 'MemberAdded', data: { subnetId: SUBNET } }),
    );
    when(base(), {
      type: 'ReplacePoolMembers',
      poolId: POOL,
      members: [{ id: member(8), address: '10.0.6.8', protocolPort: 80, subnetId: SUBNET }],
      subnetCidrs: { [SUBNET]: '10.0.5.0/24' },
      now,
    }).thenError('ValidationException', (e) => expect(e.field).toEqual(['members', '0', 'address']));
  });
  it('are added with defaults and canonical addresses', () => {
    when(base(), {
      type: 'AddMember',
      poolId: POOL,
      memberId: member(1),
      address: '2001:DB8::0:1',
      protocolPort: 80,
      subnetCidrs: {},
      now,
    }).then([
      {
        type: 'MemberAdded',
        data: {
          poolId: POOL,
          memberId: member(1),
          address: '2001:db8::1',
          protocolPort: 80,
          subnetId: null,
          name: '',
          tags: [],
          adminStateUp: true,
          weight: 1,
          backup: false,
          monitorAddress: null,
          monitorPort: null,
          createdAt: now,
        },
      },
    ]);
  });
  it('address and port are unique per pool, not across pools', () => {
    const given = history(createLb, httpListener, httpPool, addMember(1), {
      type: 'CreatePool',
      poolId: POOL2,
      protocol: 'HTTP',
      lbAlgorithm: 'ROUND_ROBIN',
      now,
    });
    when(given, { ...addMember(1), memberId: member(2) } as Cmd).thenError('DuplicateMemberEntry');
    when(given, { ...addMember(1), memberId: member(2), poolId: POOL2 } as Cmd).then((e) => expect(e).toHaveLength(1));
    when(given, { ...addMember(1), memberId: member(2), protocolPort: 8081 } as Cmd).then((e) => expect(e).toHaveLength(1));
  });
  it('add is idempotent', () => {
    const given = history(createLb, httpListener, httpPool, addMember(1));
    when(given, addMember(1)).thenNothing();
    when(given, addMember(1, { weight: 5 })).thenError('IDAlreadyExists');
  });
  it.each([
    ['weight', { weight: 257 }],
    ['weight', { weight: -1 }],
    ['protocolPort', { protocolPort: 0 }],
    ['monitorPort', { monitorPort: 70000 }],
    ['address', { address: 'not-an-ip' }],
    ['monitorAddress', { monitorAddress: '10.0.0.300' }],
  ])('rejects an invalid %s', (field, extra) => {
    when(base(), { ...addMember(1), ...extra } as Cmd).thenError('InputValidationError', (e) => expect(e.field).toEqual([field]));
  });
  it('weight 0 and 256 are valid', () => {
    when(base(), addMember(1, { weight: 0 })).then((e) => expect(e).toHaveLength(1));
    when(base(), addMember(1, { weight: 256 })).then((e) => expect(e).toHaveLength(1));
  });
  it('update changes mutable fields only, and must name the right pool', () => {
    const given = history(createLb, httpListener, httpPool, addMember(1), {
      type: 'CreatePool',
      poolId: POOL2,
      protocol: 'HTTP',
      lbAlgorithm: 'ROUND_ROBIN',
      now,
    });
    when(given, {
      type: 'UpdateMember',
      poolId: POOL,
      memberId: member(1),
      weight: 3,
      backup: true,
      weight_ignored: 1,
      now: later,
    } as unknown as Cmd).then([
      { type: 'MemberUpdated', data: { poolId: POOL, memberId: member(1), changes: { weight: 3, backup: true }, updatedAt: later } },
    ]);
    when(given, { type: 'UpdateMember', poolId: POOL, memberId: member(1), weight: 1, now: later }).thenNothing();
    when(given, { type: 'UpdateMember', poolId: POOL, memberId: member(1), weight: 300, now: later }).thenError('InputValidationError');
    when(given, { type: 'UpdateMember', poolId: POOL2, memberId: member(1), weight: 3, now: later }).thenError('MemberNotFound');
  });
  it('monitor overrides can be set and cleared', () => {
    const given = history(createLb, httpListener, httpPool, addMember(1));
    const set = when(given, {
      type: 'UpdateMember',
      poolId: POOL,
      memberId: member(1),
      monitorAddress: '10.0.9.1',
      monitorPort: 9000,
      now,
    }).then((e) => expect(e[0]).toMatchObject({ data: { changes: { monitorAddress: '10.0.9.1', monitorPort: 9000 } } }));
    when([...given, ...set], {
      type: 'UpdateMember',
      poolId: POOL,
      memberId: member(1),
      monitorAddress: null,
      monitorPort: null,
      now,
    }).then((e) => expect(e[0]).toMatchObject({ data: { changes: { monitorAddress: null, monitorPort: null } } }));
  });
  it('remove, then the address can be added again under a new id', () => {
    const given = history(createLb, httpListener, httpPool, addMember(1));
    const removed = when(given, { type: 'RemoveMember', poolId: POOL, memberId: member(1), now }).then([
      { type: 'MemberRemoved', data: { poolId: POOL, memberId: member(1), removedAt: now } },
    ]);
    const after = [...given, ...removed];
    when(after, { type: 'RemoveMember', poolId: POOL, memberId: member(1), now }).thenError('MemberNotFound');
    when(after, { ...addMember(1), memberId: member(2) } as Cmd).then((e) => expect(e).toHaveLength(1));
    when(after, addMember(1)).thenError('IDAlreadyExists');
  });
});

describe('ReplacePoolMembers', () => {
  const entry = (n: number, extra: Record<string, unknown> = {}) => ({
    id: member(n),
    address: `10.0.1.${n}`,
    protocolPort: 8080,
    ...extra,
  });
  it('emits the minimal set: remove the missing, update the changed, add the new', () => {
    const given = history(createLb, httpListener, httpPool, addMember(1), addMember(2), addMember(3, { weight: 4 }));
    when(given, {
      type: 'ReplacePoolMembers',
      subnetCidrs: {},
      poolId: POOL,
      members: [entry(2), { ...entry(3), id: u(999) }, entry(4)],
      now: later,
    }).then([
      { type: 'MemberRemoved', data: { poolId: POOL, memberId: member(1), removedAt: later } },
      // the entry describes the member completely: an omitted weight is the default
      { type: 'MemberUpdated', data: { poolId: POOL, memberId: member(3), changes: { weight: 1 }, updatedAt: later } },
      expect.objectContaining({ type: 'MemberAdded', data: expect.objectContaining({ memberId: member(4), address: '10.0.1.4' }) }),
    ]);
  });
  it('the same list twice is nothing the second time', () => {
    const c: Cmd = { type: 'ReplacePoolMembers', subnetCidrs: {}, poolId: POOL, members: [entry(1), entry(2)], now };
    when(history(createLb, httpListener, httpPool, c), c).thenNothing();
  });
  it('an empty list removes every member', () => {
    const given = history(createLb, httpListener, httpPool, addMember(1), addMember(2));
    when(given, { type: 'ReplacePoolMembers', subnetCidrs: {}, poolId: POOL, members: [], now }).then((e) =>
      expect(e.map((x) => x.type)).toEqual(['MemberRemoved', 'MemberRemoved']),
    );
  });
  it('rejects duplicates within the list, invalid entries and ids used elsewhere', () => {
    const given = base();
    when(given, {
      type: 'ReplacePoolMembers',
      subnetCidrs: {},
      poolId: POOL,
      members: [entry(1), { ...entry(1), id: member(2) }],
      now,
    }).thenError('DuplicateMemberEntry');
    when(given, { type: 'ReplacePoolMembers', subnetCidrs: {}, poolId: POOL, members: [entry(1, { weight: 999 })], now }).thenError(
      'InputValidationError',
      (e) => expect(e.field).toEqual(['members', '0', 'weight']),
    );
    when(given, { type: 'ReplacePoolMembers', subnetCidrs: {}, poolId: POOL, members: [{ ...entry(1), id: L80 }], now }).thenError(
      'IDAlreadyExists',
    );
    when(given, { type: 'ReplacePoolMembers', subnetCidrs: {}, poolId: POOL2, members: [], now }).thenError('PoolNotFound');
  });
  it('20 successive member changes on one pool decide and evolve to exactly the final member set', () => {
    let events = base();
    const expected = new Map<string, { address: string; weight: number }>();
    for (let i = 1; i <= 20; i++) {
      let c: Cmd;
      if (i % 5 === 0) {
        // every fifth change is a batch keeping the even-numbered live members with a new weight, plus one new member
        const keep = [...expected.entries()].filter(([, m]) => Number(m.address.split('.')[3]) % 2 === 0);
        const members = [
          ...keep.map(([id, m]) => ({ id, address: m.address, protocolPort: 8080, weight: i })),
          { id: member(i), address: `10.0.1.${i}`, protocolPort: 8080, weight: i },
        ];
        c = { type: 'ReplacePoolMembers', subnetCidrs: {}, poolId: POOL, members, now };
        expected.clear();
        for (const m of members) expected.set(m.id, { address: m.address, weight: m.weight });
      } else if (i % 3 === 0 && expected.size > 0) {
        const [id] = [...expected.keys()];
        c = { type: 'RemoveMember', poolId: POOL, memberId: id!, now };
        expected.delete(id!);
      } else if (i % 4 === 0 && expected.size > 0) {
        const [id, m] = [...expected.entries()].at(-1)!;
        c = { type: 'UpdateMember', poolId: POOL, memberId: id, weight: 200 + i, now };
        expected.set(id, { ...m, weight: 200 + i });
      } else {
        c = addMember(i, { weight: i });
        expected.set(member(i), { address: `10.0.1.${i}`, weight: i });
      }
      const state = fold(events);
      const result = decider.decide(cmd(c), state);
      if (isDomainError(result)) throw new Error(`step ${i}: ${result.code} ${result.message}`);
      events = [...events, ...result];
    }
    const final = fold(events);
    const live = Object.values(final.members).filter((m) => m.deletedGeneration === null);
    expect(new Map(live.map((m) => [m.id, { address: m.address, weight: m.weight }]))).toEqual(expected);
    expect(Object.keys(final.statuses.members).sort()).toEqual(Object.keys(final.members).sort());
    // once applied, removed members are gone and the rest are ACTIVE
    const applied = decider.evolve(final, { type: 'LoadBalancerApplied', data: { generation: final.generation } });
    expect(Object.keys(applied.members).sort()).toEqual([...expected.keys()].sort());
    expect(Object.values(applied.statuses.members).every((s) => s.provisioningStatus === 'ACTIVE')).toBe(true);
  });
});

describe('health monitors', () => {
  it('HTTP monitors get Octavia defaults', () => {
    when(base(), httpMonitor).then([
      {
        type: 'HealthMonitorCreated',
        data: {
          healthMonitorId: HM,
          poolId: POOL,
          monitorType: 'HTTP',
          name: '',
          tags: [],
          adminStateUp: true,
          delay: 10,
          timeout: 5,
          maxRetries: 3,
          maxRetriesDown: 3,
          httpMethod: 'GET',
          urlPath: '/',
          expectedCodes: '200',
          createdAt: now,
        },
      },
    ]);
  });
  it('PING and TCP monitors have no HTTP fields and refuse them', () => {
    const tcp: Cmd = {
      type: 'CreateHealthMonitor',
      healthMonitorId: HM,
      poolId: POOL,
      monitorType: 'TCP',
      delay: 5,
      timeout: 5,
      maxRetries: 1,
      now,
    };
    when(base(), tcp).then((e) => expect(e[0]).toMatchObject({ data: { httpMethod: null, urlPath: null, expectedCodes: null } }));
    when(base(), { ...tcp, urlPath: '/' } as Cmd).thenError('InputValidationError', (e) => expect(e.field).toEqual(['urlPath']));
    when(base(), { ...tcp, monitorType: 'PING', httpMethod: 'GET' } as Cmd).thenError('InputValidationError');
    const given = history(createLb, httpListener, httpPool, tcp);
    when(given, { type: 'UpdateHealthMonitor', healthMonitorId: HM, expectedCodes: '200', now }).thenError('InputValidationError');
  });
  it('one per pool', () => {
    const given = history(createLb, httpListener, httpPool, httpMonitor);
    when(given, httpMonitor).thenNothing();
    when(given, { ...httpMonitor, healthMonitorId: u(31) } as Cmd).thenError('DuplicateHealthMonitor');
    when(given, { ...httpMonitor, poolId: POOL2 } as Cmd).thenError('PoolNotFound');
  });
  it.each([
    ['delay', { delay: 4, timeout: 5 }],
    ['maxRetries', { maxRetries: 0 }],
    ['maxRetries', { maxRetries: 11 }],
    ['maxRetriesDown', { maxRetriesDown: 0 }],
    ['maxRetriesDown', { maxRetriesDown: 11 }],
    ['timeout', { timeout: -1, delay: 1 }],
    ['urlPath', { urlPath: 'health' }],
    ['urlPath', { urlPath: '/a b' }],
    ['expectedCodes', { expectedCodes: '20' }],
    ['expectedCodes', { expectedCodes: '200,' }],
    ['expectedCodes', { expectedCodes: '204-200' }],
    ['expectedCodes', { expectedCodes: '200-204,206' }],
    ['expectedCodes', { expectedCodes: '600' }],
  ])('rejects an invalid %s', (field, extra) => {
    when(base(), { ...httpMonitor, ...extra } as Cmd).thenError('InputValidationError', (e) => expect(e.field).toEqual([field]));
  });
  it.each(['200', '200,202', '200, 202', '200-204'])('accepts expected codes %s', (expectedCodes) => {
    when(base(), { ...httpMonitor, expectedCodes } as Cmd).then((e) => expect(e).toHaveLength(1));
  });
  it('delay equal to timeout is fine; update checks the merged values', () => {
    const given = history(createLb, httpListener, httpPool, { ...httpMonitor, delay: 5, timeout: 5 } as Cmd);
    when(given, { type: 'UpdateHealthMonitor', healthMonitorId: HM, timeout: 6, now: later }).thenError('InputValidationError');
    when(given, { type: 'UpdateHealthMonitor', healthMonitorId: HM, timeout: 6, delay: 6, urlPath: '/healthz', now: later }).then([
      {
        type: 'HealthMonitorUpdated',
        data: { healthMonitorId: HM, changes: { delay: 6, timeout: 6, urlPath: '/healthz' }, updatedAt: later },
      },
    ]);
    when(given, { type: 'UpdateHealthMonitor', healthMonitorId: u(31), delay: 6, now: later }).thenError('HealthMonitorNotFound');
  });
  it('delete frees the pool for another monitor', () => {
    const given = history(createLb, httpListener, httpPool, httpMonitor, { type: 'DeleteHealthMonitor', healthMonitorId: HM, now });
    when(given, { ...httpMonitor, healthMonitorId: u(31) } as Cmd).then((e) => expect(e).toHaveLength(1));
  });
});

describe('statuses', () => {
  const applied = (events: readonly LoadBalancerEvent[]): LoadBalancerEvent[] => [
    ...events,
    { type: 'LoadBalancerApplied', data: { generation: fold(events).generation } },
  ];
  const observe = (n: number, status: 'ONLINE' | 'ERROR' | 'DRAINING' | 'NO_MONITOR'): LoadBalancerEvent => ({
    type: 'MemberHealthObserved',
    data: { memberId: member(n), status },
  });
  const withTwoMonitoredMembers = () => applied(history(createLb, httpListener, httpPool, addMember(1), addMember(2), httpMonitor));

  it('everything starts PENDING_CREATE / OFFLINE and turns ACTIVE when the dataplane applies it', () => {
    const events = history(createLb, httpListener, httpPool, addMember(1));
    const s = fold(events);
    expect(s.statuses.loadBalancer).toEqual({ provisioningStatus: 'PENDING_CREATE', operatingStatus: 'OFFLINE' });
    expect(s.statuses.members[member(1)]).toEqual({ provisioningStatus: 'PENDING_CREATE', operatingStatus: 'OFFLINE' });
    const a = fold(applied(events));
    expect(a.statuses.loadBalancer).toEqual({ provisioningStatus: 'ACTIVE', operatingStatus: 'ONLINE' });
    expect(a.statuses.listeners[L80]).toEqual({ provisioningStatus: 'ACTIVE', operatingStatus: 'ONLINE' });
    expect(a.statuses.pools[POOL]).toEqual({ provisioningStatus: 'ACTIVE', operatingStatus: 'ONLINE' });
    expect(a.statuses.members[member(1)]).toEqual({ provisioningStatus: 'ACTIVE', operatingStatus: 'NO_MONITOR' });
  });
  it('a change after the applied generation is PENDING_UPDATE on the object and its parents only', () => {
    const given = applied(
      history(createLb, httpListener, httpPool, addMember(1), {
        type: 'CreateListener',
        listenerId: L443,
        protocol: 'TCP',
        protocolPort: 443,
        now,
      }),
    );
    const s = fold([
      ...given,
      ...when(given, { type: 'UpdateMember', poolId: POOL, memberId: member(1), weight: 9, now }).then(() => undefined),
    ]);
    expect(s.statuses.members[member(1)]?.provisioningStatus).toBe('PENDING_UPDATE');
    expect(s.statuses.pools[POOL]?.provisioningStatus).toBe('PENDING_UPDATE');
    expect(s.statuses.listeners[L80]?.provisioningStatus).toBe('PENDING_UPDATE');
    expect(s.statuses.loadBalancer?.provisioningStatus).toBe('PENDING_UPDATE');
    expect(s.statuses.listeners[L443]?.provisioningStatus).toBe('ACTIVE');
  });
  it('changes are accepted while pending (no ImmutableObject)', () => {
    const given = history(createLb, httpListener);
    expect(fold(given).statuses.loadBalancer?.provisioningStatus).toBe('PENDING_CREATE');
    when(given, httpPool).then((e) => expect(e).toHaveLength(1));
  });
  it('a partial apply activates what it covered and leaves later changes pending', () => {
    const first = history(createLb, httpListener);
    const g = fold(first).generation;
    const events = [
      ...first,
      ...when(first, httpPool).then(() => undefined),
      { type: 'LoadBalancerApplied', data: { generation: g } } as LoadBalancerEvent,
    ];
    const s = fold(events);
    expect(s.statuses.pools[POOL]?.provisioningStatus).toBe('PENDING_CREATE');
    expect(s.statuses.listeners[L80]?.provisioningStatus).toBe('PENDING_UPDATE');
    expect(s.statuses.loadBalancer?.provisioningStatus).toBe('PENDING_UPDATE');
  });
  it('a failed apply puts what it covered in ERROR with the reason, until a later apply succeeds', () => {
    const given = history(createLb, httpListener);
    const g = fold(given).generation;
    const failed = [
      ...given,
      ...when(given, { type: 'RecordLoadBalancerApplyFailed', generation: g, reason: 'haproxy: bind failed' }).then(() => undefined),
    ];
    const s = fold(failed);
    expect(s.statuses.loadBalancer).toEqual({ provisioningStatus: 'ERROR', operatingStatus: 'OFFLINE', error: 'haproxy: bind failed' });
    expect(s.statuses.listeners[L80]?.provisioningStatus).toBe('ERROR');
    // a later change is pending again, not in error
    const more = [...failed, ...when(failed, httpPool).then(() => undefined)];
    expect(fold(more).statuses.pools[POOL]?.provisioningStatus).toBe('PENDING_CREATE');
    expect(fold(more).statuses.loadBalancer?.provisioningStatus).toBe('PENDING_CREATE');
    const fixed = fold(applied(more));
    expect(fixed.failure).toBeNull();
    expect(fixed.statuses.listeners[L80]?.provisioningStatus).toBe('ACTIVE');
    expect(fixed.statuses.loadBalancer?.error).toBeUndefined();
  });
  it('dataplane reports: stale or repeated ones change nothing, future generations are refused', () => {
    const given = applied(history(createLb));
    const g = fold(given).generation;
    when(given, { type: 'RecordLoadBalancerApplied', generation: g }).thenNothing();
    when(given, { type: 'RecordLoadBalancerApplied', generation: g + 1 }).thenError('InvalidInput');
    when(given, { type: 'RecordLoadBalancerApplyFailed', generation: g, reason: 'late' }).thenNothing();
    when([], { type: 'RecordLoadBalancerApplied', generation: 1 }).thenError('LoadBalancerNotFound');
  });
  it('member health is recorded only on change', () => {
    const given = withTwoMonitoredMembers();
    const e = when(given, { type: 'ObserveMemberHealth', memberId: member(1), status: 'ONLINE' }).then([observe(1, 'ONLINE')]);
    when([...given, ...e], { type: 'ObserveMemberHealth', memberId: member(1), status: 'ONLINE' }).thenNothing();
    when(given, { type: 'ObserveMemberHealth', memberId: u(555), status: 'ONLINE' }).thenError('MemberNotFound');
  });
  it('pool ONLINE when all members are ONLINE, DEGRADED when some are ERROR, ERROR when all are; listener and LB follow', () => {
    const given = withTwoMonitoredMembers();
    const before = fold(given);
    expect(before.statuses.members[member(1)]?.operatingStatus).toBe('OFFLINE');
    expect(before.statuses.healthMonitors[HM]).toEqual({ provisioningStatus: 'ACTIVE', operatingStatus: 'ONLINE' });
    const online = fold([...given, observe(1, 'ONLINE'), observe(2, 'ONLINE')]).statuses;
    expect([online.pools[POOL]?.operatingStatus, online.listeners[L80]?.operatingStatus, online.loadBalancer?.operatingStatus]).toEqual([
      'ONLINE',
      'ONLINE',
      'ONLINE',
    ]);
    const degraded = fold([...given, observe(1, 'ONLINE'), observe(2, 'ERROR')]).statuses;
    expect([
      degraded.members[member(2)]?.operatingStatus,
      degraded.pools[POOL]?.operatingStatus,
      degraded.listeners[L80]?.operatingStatus,
      degraded.loadBalancer?.operatingStatus,
    ]).toEqual(['ERROR', 'DEGRADED', 'DEGRADED', 'DEGRADED']);
    const down = fold([...given, observe(1, 'ERROR'), observe(2, 'ERROR')]).statuses;
    expect([down.pools[POOL]?.operatingStatus, down.listeners[L80]?.operatingStatus, down.loadBalancer?.operatingStatus]).toEqual([
      'ERROR',
      'ERROR',
      'ERROR',
    ]);
    const draining = fold([...given, observe(1, 'DRAINING'), observe(2, 'ONLINE')]).statuses;
    expect([draining.members[member(1)]?.operatingStatus, draining.pools[POOL]?.operatingStatus]).toEqual(['DRAINING', 'ONLINE']);
  });
  it('members of a pool without a monitor are NO_MONITOR; adding a monitor forgets old health', () => {
    const given = applied(history(createLb, httpListener, httpPool, addMember(1)));
    expect(fold(given).statuses.members[member(1)]?.operatingStatus).toBe('NO_MONITOR');
    const monitored = applied([...given, observe(1, 'NO_MONITOR'), ...when(given, httpMonitor).then(() => undefined)]);
    expect(fold(monitored).members[member(1)]?.observedHealth).toBeNull();
    expect(fold(monitored).statuses.members[member(1)]?.operatingStatus).toBe('OFFLINE');
  });
  it('admin-down objects are OFFLINE and do not count against their parent', () => {
    const given = withTwoMonitoredMembers();
    const events = [...given, observe(1, 'ONLINE'), observe(2, 'ERROR')];
    const memberDown = fold(
      applied([
        ...events,
        ...when(events, { type: 'UpdateMember', poolId: POOL, memberId: member(2), adminStateUp: false, now }).then(() => undefined),
      ]),
    ).statuses;
    expect(memberDown.members[member(2)]?.operatingStatus).toBe('OFFLINE');
    expect(memberDown.pools[POOL]?.operatingStatus).toBe('ONLINE');
    const lbDown = fold(
      applied([...events, ...when(events, { type: 'UpdateLoadBalancer', adminStateUp: false, now }).then(() => undefined)]),
    ).statuses;
    expect(lbDown.loadBalancer?.operatingStatus).toBe('OFFLINE');
    expect(lbDown.listeners[L80]?.operatingStatus).toBe('OFFLINE');
    expect(lbDown.members[member(1)]?.operatingStatus).toBe('OFFLINE');
  });
  it('an empty pool has no working server: ERROR, and its listener shows it', () => {
    const s = fold(applied(base())).statuses;
    expect(s.pools[POOL]?.operatingStatus).toBe('ERROR');
    expect(s.listeners[L80]?.operatingStatus).toBe('ERROR');
  });
  it('a removed member is PENDING_DELETE until applied, and no longer counts for its pool', () => {
    const given = [...withTwoMonitoredMembers(), observe(1, 'ONLINE'), observe(2, 'ERROR')];
    const removed = [...given, ...when(given, { type: 'RemoveMember', poolId: POOL, memberId: member(2), now }).then(() => undefined)];
    const s = fold(removed);
    expect(s.statuses.members[member(2)]).toEqual({ provisioningStatus: 'PENDING_DELETE', operatingStatus: 'OFFLINE' });
    expect(s.statuses.pools[POOL]?.operatingStatus).toBe('ONLINE');
    when(removed, { type: 'ObserveMemberHealth', memberId: member(2), status: 'ERROR' }).thenNothing();
    expect(fold(applied(removed)).statuses.members[member(2)]).toBeUndefined();
  });
  it('rollUpStatuses is what evolve stores', () => {
    const s = fold([...withTwoMonitoredMembers(), observe(1, 'ONLINE')]);
    expect(rollUpStatuses(s)).toEqual(s.statuses);
  });
  it('every event counts toward the stream revision', () => {
    const events = withTwoMonitoredMembers();
    expect(fold(events).revision).toBe(events.length);
  });
});
