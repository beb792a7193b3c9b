import { describe, expect, it } from 'vitest';
import { agentDecider, allocateDvrHostMac, isAgentAlive, type AgentEvent } from '../../src/domain/agent/index.js';
import { spec } from '../support/spec.js';

const id = '6f1c0d2e-3b4a-5c6d-8e7f-0a1b2c3d4e5f';
const i1 = '11111111-1111-4111-8111-111111111111';
const i2 = '22222222-2222-4222-8222-222222222222';
const t0 = '2026-01-01T00:00:00.000Z';
const at = (s: number) => new Date(Date.parse(t0) + s * 1000).toISOString();
// As recorded before DVR: no agent mode, no DVR MAC.
const registered: AgentEvent = { type: 'AgentRegistered', data: { id, host: 'compute-1', instanceId: i1, registeredAt: t0 } };
const mac = allocateDvrHostMac('compute-1', new Set());
const dvr = { agentMode: 'legacy', dvrHostMac: mac } as const;

describe('agent decider', () => {
  it('registers a host once per process start', () => {
    spec(agentDecider)
      .given([])
      .when({ type: 'RegisterAgent', id, host: 'compute-1', instanceId: i1, now: t0 })
      .then([{ ...registered, data: { ...registered.data, ...dvr } } as AgentEvent]);
    spec(agentDecider)
      .given([registered])
      .when({ type: 'RegisterAgent', id, host: 'compute-1', instanceId: i1, now: at(5) })
      .thenNothing();
    spec(agentDecider)
      .given([registered])
      .when({ type: 'RegisterAgent', id, host: 'compute-1', instanceId: i2, now: at(5) })
      .then([{ type: 'AgentRegistered', data: { id, host: 'compute-1', instanceId: i2, registeredAt: at(5), ...dvr } }]);
    spec(agentDecider)
      .given([])
      .when({ type: 'RegisterAgent', id, host: 'bad host; rm -rf', instanceId: i1, now: t0 })
      .thenError('InvalidInput');
  });

  it('records the availability zone the agent names (Neutron: nova when it names none)', () => {
    const withZone = { type: 'AgentRegistered', data: { ...registered.data, availabilityZone: 'az-2', ...dvr } } as AgentEvent;
    spec(agentDecider)
      .given([])
      .when({ type: 'RegisterAgent', id, host: 'compute-1', instanceId: i1, now: t0, availabilityZone: 'az-2' })
      .then([withZone]);
    const fold = (events: AgentEvent[]) => events.reduce(agentDecider.evolve, agentDecider.initialState);
    const zoneOf = (events: AgentEvent[]) => {
      const s = fold(events);
      return s.status === 'known' ? s.agent.availabilityZone : undefined;
    };
    expect(zoneOf([withZone])).toBe('az-2');
    expect(zoneOf([registered])).toBe('nova');
  });

  it("records the host's underlay address, and refuses one that cannot be a tunnel endpoint", () => {
    spec(agentDecider)
      .given([])
      .when({ type: 'RegisterAgent', id, host: 'compute-1', instanceId: i1, now: t0, underlayAddress: '192.168.100.1' })
      .then([{ type: 'AgentRegistered', data: { ...registered.data, underlayAddress: '192.168.100.1', ...dvr } } as AgentEvent]);
    for (const bad of ['224.0.0.1', '127.0.0.1', '0.0.0.0', 'fe80::1', 'x']) {
      spec(agentDecider)
        .given([])
        .when({ type: 'RegisterAgent', id, host: 'compute-1', instanceId: i1, now: t0, underlayAddress: bad })
        .thenError('InvalidInput');
    }
    const s = spec(agentDecider).given([
      { type: 'AgentRegistered', data: { ...registered.data, underlayAddress: '192.168.100.1' } } as AgentEvent,
    ]).state;
    expect(s.status === 'known' && s.agent.underlayAddress).toBe('192.168.100.1');
    // Registered before the overlay existed: no address.
    const old = spec(agentDecider).given([registered]).state;
    expect(old.status === 'known' && old.agent.underlayAddress).toBe(null);
  });

  it('records the agent mode, and gives each host a DVR MAC it keeps across restarts and no other host holds', () => {
    const first = spec(agentDecider)
      .given([])
      .when({ type: 'RegisterAgent', id, host: 'compute-1', instanceId: i1, now: t0, agentMode: 'dvr' });
    first.then([{ type: 'AgentRegistered', data: { ...registered.data, agentMode: 'dvr', dvrHostMac: mac } }]);
    expect(mac).toMatch(/^fa:16:3f(:[0-9a-f]{2}){3}$/);
    // Another host already holds this host's first pick: the next one.
    const next = allocateDvrHostMac('compute-1', new Set([mac]));
    expect(next).not.toBe(mac);
    spec(agentDecider)
      .given([])
      .when({ type: 'RegisterAgent', id, host: 'compute-1', instanceId: i1, now: t0, agentMode: 'dvr_snat', takenDvrMacs: new Set([mac]) })
      .then([{ type: 'AgentRegistered', data: { ...registered.data, agentMode: 'dvr_snat', dvrHostMac: next } }]);
    // A restart keeps the MAC, whatever else was taken meanwhile; the mode follows the configuration.
    spec(agentDecider)
      .given([{ type: 'AgentRegistered', data: { ...registered.data, agentMode: 'dvr', dvrHostMac: next } }])
      .when({ type: 'RegisterAgent', id, host: 'compute-1', instanceId: i2, now: at(5), agentMode: 'legacy', takenDvrMacs: new Set([mac]) })
      .then([
        {
          type: 'AgentRegistered',
          data: { ...registered.data, instanceId: i2, registeredAt: at(5), agentMode: 'legacy', dvrHostMac: next },
        },
      ]);
    const old = spec(agentDecider).given([registered]).state;
    expect(old.status === 'known' && [old.agent.agentMode, old.agent.dvrHostMac]).toEqual(['legacy', null]);
  });

  it('records where the host does ESP, and a registration that did not probe says nothing', () => {
    const withEsp = spec(agentDecider)
      .given([])
      .when({ type: 'RegisterAgent', id, host: 'compute-1', instanceId: i1, now: t0, ipsecMode: 'libipsec' });
    withEsp.then([{ type: 'AgentRegistered', data: { ...registered.data, ...dvr, ipsecMode: 'libipsec' } }]);
    const known = spec(agentDecider).given([{ type: 'AgentRegistered', data: { ...registered.data, ...dvr, ipsecMode: 'kernel' } }]).state;
    expect(known.status === 'known' && known.agent.ipsecMode).toBe('kernel');
    const old = spec(agentDecider).given([registered]).state;
    expect(old.status === 'known' && old.agent.ipsecMode).toBeNull();
  });

  it('records a heartbeat only every interval, or at once when the error changes', () => {
    const hb = (s: number, lastError: string | null = null) => ({
      type: 'RecordHeartbeat' as const,
      id,
      instanceId: i1,
      lastError,
      now: at(s),
    });
    spec(agentDecider).given([registered]).when(hb(10)).thenNothing();
    spec(agentDecider)
      .given([registered])
      .when(hb(30))
      .then([{ type: 'AgentHeartbeat', data: { id, instanceId: i1, lastError: null, at: at(30) } }]);
    spec(agentDecider)
      .given([registered])
      .when(hb(1, 'router:x: boom'))
      .then([{ type: 'AgentHeartbeat', data: { id, instanceId: i1, lastError: 'router:x: boom', at: at(1) } }]);
    const failing: AgentEvent = { type: 'AgentHeartbeat', data: { id, instanceId: i1, lastError: 'boom', at: at(1) } };
    spec(agentDecider).given([registered, failing]).when(hb(2, 'boom')).thenNothing();
    spec(agentDecider)
      .given([registered, failing])
      .when(hb(2))
      .then((events) => expect(events[0]?.data).toMatchObject({ lastError: null }));
    // A newer process of the same host took over: the old one may not speak for it.
    spec(agentDecider)
      .given([registered])
      .when({ ...hb(40), instanceId: i2 })
      .thenError('AgentConflict');
    spec(agentDecider).given([]).when(hb(40)).thenError('AgentNotFound');
  });

  it('stops, and is alive only while heard from within 90 s', () => {
    const stopped: AgentEvent = { type: 'AgentStopped', data: { id, instanceId: i1, at: at(3) } };
    spec(agentDecider)
      .given([registered])
      .when({ type: 'StopAgent', id, instanceId: i1, now: at(3) })
      .then([stopped]);
    spec(agentDecider)
      .given([registered, stopped])
      .when({ type: 'StopAgent', id, instanceId: i1, now: at(4) })
      .thenNothing();
    const live = spec(agentDecider).given([registered]).state;
    const gone = spec(agentDecider).given([registered, stopped]).state;
    if (live.status !== 'known' || gone.status !== 'known') throw new Error('not registered');
    expect(isAgentAlive(live.agent, at(90))).toBe(true);
    expect(isAgentAlive(live.agent, at(91))).toBe(false);
    expect(isAgentAlive(gone.agent, at(3))).toBe(false);
    // agent_down_time is configurable.
    expect(isAgentAlive(live.agent, at(4), 3000)).toBe(false);
  });

  it('is marked down once, by the first live agent to see it silent past agent_down_time, and is back with its next heartbeat', () => {
    const mark = (s: number, by = 'compute-2') => ({ type: 'MarkAgentDown' as const, id, by, downMs: 10_000, now: at(s) });
    const down: AgentEvent = { type: 'AgentMarkedDown', data: { id, instanceId: i1, lastHeartbeatAt: t0, by: 'compute-2', at: at(11) } };
    // Heard from within agent_down_time: nothing to record.
    spec(agentDecider).given([registered]).when(mark(10)).thenNothing();
    spec(agentDecider).given([registered]).when(mark(11)).then([down]);
    // A second observer, or the same one again: already recorded.
    spec(agentDecider).given([registered, down]).when(mark(12, 'compute-3')).thenNothing();
    // A heartbeat that raced the observer's read wins.
    const beat: AgentEvent = { type: 'AgentHeartbeat', data: { id, instanceId: i1, lastError: null, at: at(9) } };
    spec(agentDecider).given([registered, beat]).when(mark(11)).thenNothing();
    // Stopped on purpose is not down.
    spec(agentDecider)
      .given([registered, { type: 'AgentStopped', data: { id, instanceId: i1, at: at(1) } }])
      .when(mark(30))
      .thenNothing();
    spec(agentDecider).given([]).when(mark(30)).thenError('AgentNotFound');

    const marked = spec(agentDecider).given([registered, down]).state;
    if (marked.status !== 'known') throw new Error('not registered');
    expect(marked.agent.down).toBe(true);
    // Down until heard from again, even within agent_down_time of its last heartbeat.
    expect(isAgentAlive(marked.agent, at(11), 60_000)).toBe(false);
    // The agent's next heartbeat is recorded at once, whatever the interval, and brings it back.
    const back: AgentEvent = { type: 'AgentHeartbeat', data: { id, instanceId: i1, lastError: null, at: at(12) } };
    spec(agentDecider)
      .given([registered, down])
      .when({ type: 'RecordHeartbeat', id, instanceId: i1, lastError: null, now: at(12) })
      .then([back]);
    const revived = spec(agentDecider).given([registered, down, back]).state;
    expect(revived.status === 'known' && isAgentAlive(revived.agent, at(13))).toBe(true);
    // So does a new start of the host.
    const again = spec(agentDecider).given([
      registered,
      down,
      { ...registered, data: { ...registered.data, instanceId: i2, registeredAt: at(20) } },
    ]).state;
    expect(again.status === 'known' && again.agent.down).toBe(false);
  });

  it('is disabled and enabled by an admin, once each, and stays disabled across a restart', () => {
    const off: AgentEvent = { type: 'AgentAdminStateChanged', data: { id, adminStateUp: false, at: at(1) } };
    const set = (adminStateUp: boolean) => ({ type: 'SetAgentAdminState' as const, id, adminStateUp, now: at(1) });
    spec(agentDecider).given([registered]).when(set(true)).thenNothing();
    spec(agentDecider).given([registered]).when(set(false)).then([off]);
    spec(agentDecider).given([registered, off]).when(set(false)).thenNothing();
    spec(agentDecider).given([]).when(set(false)).thenError('AgentNotFound');
    const restarted = spec(agentDecider).given([
      registered,
      off,
      { ...registered, data: { ...registered.data, instanceId: i2, registeredAt: at(5) } },
    ]).state;
    expect(restarted.status === 'known' && restarted.agent.adminStateUp).toBe(false);
  });
});
