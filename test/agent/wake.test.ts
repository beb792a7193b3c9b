import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wakesHost } from '../../src/agent/interest.js';
import { registerAgent } from '../../src/agent/registration.js';
import { waitForApplied } from '../../src/agent/applied.js';
import { createPort } from '../../src/app/networking/ports.js';
import { connect, type Sql } from '../../src/db/sql.js';
import { buildHostTopology, type HostInterest } from '../../src/projections/topology/index.js';
import { decodeWake, encodeWake, LogWaker, wakeEvent } from '../../src/store/log-waker.js';
import type { EventStore } from '../../src/store/event-store.js';
import { subscribe } from '../../src/store/subscribe.js';
import type { RecordedEvent } from '../../src/store/types.js';
import { logHead } from '../../src/agent/applied.js';
import { issueToken } from '../../src/app/tenancy.js';
import { createNetwork } from '../../src/app/networking/networks.js';
import { createSubnet } from '../../src/app/networking/subnets.js';
import { createSecurityGroup } from '../../src/app/security/security-groups.js';
import { startTestApi, type TestApi } from '../support/api.js';

/**
 * Issue 16, scale: a change wakes the hosts it touches, not every host. The notification of a
 * commit says what it appended; a follower of another process (its own LISTEN connection, as an
 * agent on another host) reads the log only for a change that may touch its host.
 */
let api: TestApi;
let listener: Sql;
let waker: LogWaker;
beforeAll(async () => {
  api = await startTestApi();
  listener = connect(api.db.url, { max: 2 });
  waker = new LogWaker(listener);
  await waker.listen();
});
afterAll(async () => {
  await waker?.close();
  await listener?.end({ timeout: 5 });
  await api?.close();
});

const deadline = (ms: number) => AbortSignal.timeout(ms);

describe('waking agents from what a notification says was appended', () => {
  it('a summary carries what the host judgement reads, and an unknown or oversized one counts as unknown', () => {
    const e = {
      type: 'PortUpdated',
      data: { id: 'p', name: 'web', changes: { bindingHost: 'h2', name: 'x' }, networkId: 'n', fixedIps: [{ ipAddress: '10.0.0.5' }] },
    };
    expect(wakeEvent(e)).toEqual({ type: 'PortUpdated', data: { id: 'p', networkId: 'n', changes: { bindingHost: 'h2' } } });
    expect(decodeWake(encodeWake([wakeEvent(e)]))).toEqual([wakeEvent(e)]);
    expect(decodeWake('')).toBeNull();
    expect(decodeWake('not json')).toBeNull();
    expect(decodeWake('probe')).toEqual([]);
    const many = Array.from({ length: 200 }, (_, i) => wakeEvent({ type: 'PortCreated', data: { id: `${i}`.repeat(36), networkId: 'n' } }));
    expect(encodeWake(many)).toBe('');
    expect(encodeWake(null)).toBe('');
  });

  it('a change on a network the host has no port on does not make it read the log; one on its network does; a nudge makes it catch up', async () => {
    const s = api.services;
    for (const [i, h] of ['w1', 'w2'].entries()) expect((await registerAgent(s, h, randomUUID(), `10.91.0.${i + 1}`)).ok).toBe(true);
    const tok = await issueToken(s, { project: 'wake', role: 'member' });
    if (!tok.ok) throw new Error(tok.error.message);
    const actor = { projectId: tok.projectId, isAdmin: false };
    const meta = { actor: 'test' };
    // A group without remote-group rules: the default group's would make every member's change every member host's.
    const group = await createSecurityGroup(s, actor, { name: 'plain' }, meta);
    if (!group.ok) throw new Error(group.error.message);
    const nets: string[] = [];
    for (let n = 0; n < 2; n++) {
      const net = await createNetwork(s, actor, { name: `wake${n}` }, meta);
      if (!net.ok) throw new Error(net.error.message);
      const sub = await createSubnet(s, actor, { networkId: net.result, ipVersion: 4, cidr: `10.8${n}.0.0/24` }, meta);
      if (!sub.ok) throw new Error(sub.error.message);
      nets.push(net.result);
    }
    const port = async (network: string, host: string) => {
      const out = await createPort(
        s,
        actor,
        { networkId: network, deviceOwner: 'compute:nova', deviceId: randomUUID(), bindingHost: host, securityGroups: [group.result] },
        meta,
      );
      if (!out.ok) throw new Error(out.error.message);
      return out;
    };
    await port(nets[0]!, 'w1');
    await port(nets[1]!, 'w2');

    // w1 holds a port of network 0 only.
    const interest: HostInterest = (await buildHostTopology(s.sql, 'w1')).interest;
    expect(interest.networks.has(nets[0]!)).toBe(true);
    expect(interest.networks.has(nets[1]!)).toBe(false);

    let reads = 0;
    const store = Object.create(s.store) as EventStore;
    store.readAll = (...args: Parameters<EventStore['readAll']>) => {
      reads += 1;
      return s.store.readAll(...args);
    };
    const seen: RecordedEvent[] = [];
    let arrived: () => void = () => {};
    const abort = new AbortController();
    // Polls that never come within the test: only wake-ups make it read.
    const following = (async () => {
      const options = {
        after: await logHead(s.sql),
        signal: abort.signal,
        pollMs: 600_000,
        idlePollMs: 600_000,
        wakesFor: (events: Parameters<typeof wakesHost>[0]) => wakesHost(events, interest, 'w1', false),
      };
      for await (const e of subscribe(store, waker, options)) {
        seen.push(e);
        arrived();
      }
    })();
    const until = async (done: () => boolean, signal: AbortSignal) => {
      while (!done()) {
        if (signal.aborted) throw new Error('timed out');
        await new Promise<void>((r) => {
          arrived = r;
          setTimeout(r, 50);
        });
      }
    };
    await until(() => reads >= 1, deadline(10_000));
    const readsAtStart = reads;

    // A port of network 1 on w2: none of w1's business. Once its notification is heard (the
    // subscription's listener came first and would have started a read at once), nothing was read.
    const heard: string[] = [];
    const off = waker.onWake((events) => heard.push(...(events ?? []).map((e) => String(e.data.id))));
    const elsewhere = await port(nets[1]!, 'w2');
    expect(wakesHost(elsewhere.events.map(wakeEvent), interest, 'w1', false)).toBe(false);
    await until(() => heard.includes(String((elsewhere.events[0]!.data as { id: string }).id)), deadline(20_000));
    await new Promise((r) => setTimeout(r, 20));
    expect(reads).toBe(readsAtStart);
    expect(seen).toEqual([]);

    // A port of network 0 on w2: w1's network gains a remote port. It wakes w1, whose read finds both.
    const mine = await port(nets[0]!, 'w2');
    expect(wakesHost(mine.events.map(wakeEvent), interest, 'w1', false)).toBe(true);
    const ids = (out: { events: readonly RecordedEvent[] }) => out.events.map((e) => e.id);
    await until(() => ids(mine).every((id) => seen.some((e) => e.id === id)), deadline(20_000));
    expect(ids(elsewhere).every((id) => seen.some((e) => e.id === id))).toBe(true);
    expect(reads).toBeGreaterThan(readsAtStart);

    // Another change elsewhere stays unread until someone waits for it: waitForApplied's nudge.
    const later = await port(nets[1]!, 'w2');
    await waitForApplied(s.sql, later.cursor!, 50);
    await until(() => ids(later).every((id) => seen.some((e) => e.id === id)), deadline(20_000));
    off();

    abort.abort();
    await following;
  });
});
