import type { Logger } from 'pino';
import type { Services } from '../app/services.js';
import type { DomainEvent } from '../domain/decider.js';
import { agentConfig, type AgentConfig } from '../agent/config.js';
import type { Driver, DriverContext } from '../agent/driver.js';
import { DEFAULT_DRIVERS } from '../agent/reconciler.js';
import type { NamespaceObservation } from '../agent/probe.js';
import {
  mergeFragments,
  topologyParts,
  type ResourceDoc,
  type TopologyFragment,
  type TopologySource,
} from '../projections/topology/index.js';
import {
  compileHostState,
  hostStateUnits,
  compareKeys,
  type HostState,
  type Topology,
  type UnitKey,
} from '../projections/desired-state/index.js';
import { dhcpDir, dhcpNamespace, routerNamespace } from '../projections/desired-state/names.js';
import type { ResourceRow } from '../projections/aggregate-kind.js';
import { comparePositions, encodeCursor, START, type LogPosition } from '../store/cursor.js';
import type { AsOf } from './history.js';

type Deps = Pick<Services, 'sql' | 'store' | 'aggregates'>;

/**
 * The read model as of a point of the log, folded in memory from the log with each aggregate's
 * own evolve (the read model's own fold), without touching the live read model.
 */
export async function readModelAsOf(
  s: Deps,
  until: AsOf,
  batch = 5000,
): Promise<{ rows: ResourceRow[]; events: number; last: string | null }> {
  const states = new Map<string, { state: unknown; version: number }>();
  let position: LogPosition = START;
  let events = 0;
  let last: string | null = null;
  for (;;) {
    const page = await s.store.readAll(position, batch);
    if (page.length === 0) break;
    for (const e of page) {
      position = e.position;
      if ('position' in until ? comparePositions(e.position, until.position) > 0 : e.recordedAt.getTime() > until.time.getTime()) continue;
      const kind = s.aggregates.kindOf(e.streamId);
      if (!kind) continue;
      const cur = states.get(e.streamId) ?? { state: kind.initialState, version: 0 };
      states.set(e.streamId, { state: kind.evolve(cur.state, { type: e.type, data: e.data } as DomainEvent), version: e.streamVersion });
      events++;
      last = e.cursor;
    }
    // Positions only grow; once past a cursor nothing later can be wanted.
    if ('position' in until && comparePositions(position, until.position) > 0) break;
  }
  const rows: ResourceRow[] = [];
  for (const [streamId, { state, version }] of states) rows.push(...s.aggregates.kindOf(streamId)!.resources(state, version));
  return { rows, events, last: last ?? (events === 0 ? null : encodeCursor(position)) };
}

/** The topology parts the agent uses, over in-memory rows instead of the read-model tables. */
export async function topologyOf(s: Deps, rows: readonly ResourceRow[]): Promise<Topology> {
  const byKind = new Map<string, ResourceDoc<unknown>[]>();
  for (const r of rows) byKind.set(r.kind, [...(byKind.get(r.kind) ?? []), { id: r.id, revision: r.revision, doc: r.doc }]);
  const source: TopologySource = { q: s.sql, docs: async <D>(kind: string) => (byKind.get(kind) ?? []) as ResourceDoc<D>[] };
  const fragments: TopologyFragment[] = [];
  for (const [, part] of topologyParts()) fragments.push(await part(source));
  return mergeFragments(fragments);
}

const absent = (name: string): NamespaceObservation => ({
  name,
  exists: false,
  broken: false,
  links: new Map(),
  routes: [],
  sysctls: new Map(),
  nft: null,
});

/**
 * What each driver observes on a host where nothing of ours exists yet. Drivers not listed here
 * are left out of the plan (and named in it).
 */
const EMPTY_OBSERVATION: Readonly<Record<string, (key: UnitKey, config: AgentConfig) => unknown>> = {
  links: (key, config) => ({
    host: absent(config.hostNamespace),
    own:
      key === 'host'
        ? null
        : absent(key.startsWith('router:') ? routerNamespace(config, key.slice(7)) : dhcpNamespace(config, key.slice(8))),
  }),
  nat: (key, config) => ({
    namespace: key.startsWith('router:') ? routerNamespace(config, key.slice(7)) : '',
    namespaceExists: false,
    chains: null,
    floatingIps: [],
  }),
  dhcp: (key, config) => ({
    namespace: dhcpNamespace(config, key.slice(8)),
    dir: dhcpDir(config, key.slice(8)),
    dirExists: false,
    files: new Map(),
    process: null,
  }),
  firewall: () => ({ known: true, bridge: null, inet: null, bridgeNf: [] }),
};

export interface PlannedStep {
  readonly key: UnitKey;
  readonly driver: string;
  readonly actions: readonly string[];
}

export interface ReplayPlan {
  readonly host: string;
  readonly events: number;
  readonly cursor: string | null;
  readonly hostState: HostState;
  readonly steps: readonly PlannedStep[];
  readonly skippedDrivers: readonly string[];
}

/**
 * The desired state of `host` as of `until`, and the driver actions that take an empty host there:
 * each driver's own pure `diff` against an empty observation, in the agent's key order. Nothing
 * is run.
 */
export async function replayPlan(s: Deps, until: AsOf, host: string, config: Partial<AgentConfig> = {}, log?: Logger): Promise<ReplayPlan> {
  const { rows, events, last } = await readModelAsOf(s, until);
  const agent = agentConfig(config);
  const hostState = compileHostState(await topologyOf(s, rows), host, agent);
  const units = hostStateUnits(hostState);
  // Diffs are pure, but a driver may key its own memo on the runner: hand one that runs nothing.
  const refuse = new Proxy(
    {},
    {
      get: () => () => {
        throw new Error('replay --plan runs nothing');
      },
    },
  );
  const ctx = { config: agent, exec: refuse as never, logger: log ?? (refuse as never) } satisfies DriverContext;
  const steps: PlannedStep[] = [];
  const drivers = DEFAULT_DRIVERS as readonly Driver[];
  for (const key of [...units.keys()].sort(compareKeys)) {
    for (const d of drivers) {
      const empty = EMPTY_OBSERVATION[d.name];
      if (!empty) continue;
      const actions = d.diff(key, units.get(key), empty(key, agent), ctx);
      if (actions.length > 0) steps.push({ key, driver: d.name, actions: actions.map((a) => d.describe?.(a) ?? JSON.stringify(a)) });
    }
  }
  return {
    host,
    events,
    cursor: last,
    hostState,
    steps,
    skippedDrivers: drivers.filter((d) => !EMPTY_OBSERVATION[d.name]).map((d) => d.name),
  };
}
