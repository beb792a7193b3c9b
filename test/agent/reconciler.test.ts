import { describe, expect, it } from 'vitest';
import type { Driver } from '../../src/agent/driver.js';
import { ReconcileLoop } from '../../src/agent/loop.js';
import { silentLogger } from '../../src/agent/logger.js';
import { Reconciler } from '../../src/agent/reconciler.js';
import { compileHostState, type UnitKey } from '../../src/projections/desired-state/index.js';
import { HOST, largeTopology } from './fixtures.js';

// The reconciler's bookkeeping with an in-memory driver: no host state is read or changed
// (the shared probe only finds that the made-up namespaces do not exist).
const config = {
  namespacePrefix: 'nlfake-',
  hostNamespace: 'nlfake-host',
  stateDir: '/nonexistent/nlfake',
  backoffBaseMs: 40,
  backoffMaxMs: 160,
};
const state = compileHostState(largeTopology(3).topology, HOST, config);

class FakeHost implements Driver<string | undefined, string> {
  readonly name = 'fake';
  readonly actual = new Map<UnitKey, string>();
  readonly failures = new Map<UnitKey, number>();
  applies: UnitKey[] = [];

  async observe(keys: readonly UnitKey[]): Promise<Map<UnitKey, string | undefined>> {
    return new Map(keys.map((k) => [k, this.actual.get(k)]));
  }

  diff(key: UnitKey, unit: Parameters<Driver['diff']>[1], observed: string | undefined): string[] {
    const want = unit ? JSON.stringify(unit).length.toString() : undefined;
    return want === observed ? [] : [want ?? 'remove'];
  }

  async apply(key: UnitKey, actions: readonly string[]): Promise<void> {
    this.applies.push(key);
    const left = this.failures.get(key) ?? 0;
    if (left > 0) {
      this.failures.set(key, left - 1);
      throw new Error(`injected failure for ${key}`);
    }
    const a = actions[0];
    if (a === 'remove') this.actual.delete(key);
    else if (a !== undefined) this.actual.set(key, a);
  }

  async discover(): Promise<UnitKey[]> {
    return [...this.actual.keys()];
  }
}

describe('Reconciler bookkeeping', () => {
  it('converges every key, then a pass does nothing', async () => {
    const fake = new FakeHost();
    const r = new Reconciler({ config, drivers: [fake] });
    r.setDesired(state);
    const first = await r.runPass();
    expect(first.keys.every((k) => k.status === 'repaired')).toBe(true);
    expect(first.keys[0]?.key).toBe('host');
    expect(r.pendingKeys).toEqual([]);
    await r.resync();
    const second = await r.runPass();
    expect(second.keys.every((k) => k.status === 'converged')).toBe(true);
    expect(second.mutations).toBe(0);
  });

  it('marks only changed units dirty and removes stale ones found on the host', async () => {
    const fake = new FakeHost();
    const r = new Reconciler({ config, drivers: [fake] });
    r.setDesired(state);
    await r.runPass();
    fake.actual.set('router:stale', 'x');
    r.setDesired(state);
    expect(r.pendingKeys).toEqual([]);
    const fewer = compileHostState({ ...largeTopology(0).topology }, HOST, config);
    r.setDesired(fewer);
    expect(r.pendingKeys.length).toBeGreaterThan(1);
    await r.runPass();
    await r.resync();
    await r.runPass();
    expect(fake.actual.has('router:stale')).toBe(false);
    expect([...fake.actual.keys()]).toEqual(['host']);
  });

  it('backs off a failing key exponentially (capped) without blocking the others', async () => {
    const fake = new FakeHost();
    const r = new Reconciler({ config: { ...config, backoffBaseMs: 200, backoffMaxMs: 800 }, drivers: [fake], random: () => 1 });
    r.setDesired(state);
    const bad = state.routers[0]?.key as UnitKey;
    fake.failures.set(bad, 4);
    const first = await r.runPass();
    expect(first.keys.find((k) => k.key === bad)?.status).toBe('failed');
    expect(first.keys.filter((k) => k.status === 'repaired')).toHaveLength(first.keys.length - 1);
    expect(r.pendingKeys).toEqual([bad]);

    // Not due yet: an immediate pass leaves it alone.
    expect((await r.runPass()).keys).toEqual([]);
    const started = Date.now();
    const reports = await r.converge(10);
    const elapsed = Date.now() - started;
    expect(r.pendingKeys).toEqual([]);
    expect(r.failures().size).toBe(0);
    // Waits of 200 (already partly elapsed), 400, 800, 800 (capped) ms.
    expect(elapsed).toBeGreaterThanOrEqual(400 + 800 + 800 - 50);
    expect(reports.at(-1)?.keys.find((k) => k.key === bad)?.status).toBe('repaired');
  });

  it('the background loop repairs drift found by its periodic resync, and stops', async () => {
    const fake = new FakeHost();
    const r = new Reconciler({ config: { ...config, resyncIntervalMs: 50, resyncJitter: 0.2 }, drivers: [fake] });
    r.setDesired(state);
    const loop = new ReconcileLoop({ reconciler: r, logger: silentLogger });
    loop.start();
    const waitUntil = async (cond: () => boolean): Promise<boolean> => {
      for (let i = 0; i < 100 && !cond(); i++) await new Promise((res) => setTimeout(res, 10));
      return cond();
    };
    expect(await waitUntil(() => fake.actual.size === 1 + state.networks.length + state.routers.length)).toBe(true);
    fake.actual.delete('host');
    expect(await waitUntil(() => fake.actual.has('host'))).toBe(true);
    await loop.stop();
    fake.actual.delete('host');
    await new Promise((res) => setTimeout(res, 150));
    expect(fake.actual.has('host')).toBe(false);
  });
});
