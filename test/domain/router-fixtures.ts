import { expect } from 'vitest';
import { routerEvents, type RouterEvent } from '../../src/domain/router/index.js';

type RouterCreatedData = Extract<RouterEvent, { type: 'RouterCreated' }>['data'];

/**
 * A legacy router (not HA, not distributed, up) as its first event records it, with `data` over
 * it: each spec names its own id and time.
 */
export const routerCreated = (data: Pick<RouterCreatedData, 'id' | 'createdAt'> & Partial<RouterCreatedData>): RouterEvent => ({
  type: 'RouterCreated',
  data: { project: 'p1', name: 'r1', description: '', tags: [], adminStateUp: true, ha: false, distributed: false, ...data },
});

/** Everything a router decider emits must pass the schema the store validates appends with. */
export function expectValidRouterEvents(events: readonly RouterEvent[]): void {
  for (const e of events) {
    const def = routerEvents.find((d) => d.type === e.type);
    expect(def, e.type).toBeDefined();
    expect(def!.schema.safeParse(e.data).success, `${e.type} ${JSON.stringify(e.data)}`).toBe(true);
  }
}
