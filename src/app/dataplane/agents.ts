import { createHash } from 'node:crypto';
import type { Queryable } from '../../db/sql.js';
import {
  agentDecider, agentEvents, agentStreamId,
  type Agent, type AgentCommand, type AgentEvent, type AgentState,
} from '../../domain/agent/index.js';
import { isDomainError } from '../../domain/errors.js';
import type { EventDefinition } from '../../domain/event-definition.js';
import { decodeState, encodeState } from '../../projections/json-state.js';
import type { Projection } from '../../projections/projection.js';
import type { EventRegistry } from '../../store/event-registry.js';
import type { EventMetadata, RecordedEvent } from '../../store/types.js';
import { CommandRuntime, type CommandOutcome } from '../command-runtime.js';
import { decideAppend } from '../plan.js';
import type { Services } from '../services.js';
import type { Principal } from '../../domain/policy/index.js';

/** The agents speak for the platform: they see and report on every project's resources. */
export const AGENT_ACTOR: Principal = { projectId: '', isAdmin: true };

export const agentMetadata = (host: string): EventMetadata => ({ actor: `agent:${host}` });

/** One stream per host, whichever process runs there: a name-based (v5-style) uuid of the host. */
export function agentIdOf(host: string): string {
  const h = createHash('sha1').update(`netledger-agent:${host}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Makes the agent events known to a store's registry (idempotent). */
export function registerAgentEvents(registry: EventRegistry): void {
  for (const d of agentEvents) if (!registry.has(d.type)) registry.register(d as unknown as EventDefinition);
}

/** rm_agents: the folded Agent aggregate, one row per host. */
export class AgentProjection implements Projection {
  readonly name = 'agents';

  async apply(q: Queryable, events: readonly RecordedEvent[]): Promise<void> {
    const byStream = new Map<string, RecordedEvent[]>();
    for (const e of events) if (e.streamId.startsWith('agent-')) byStream.set(e.streamId, [...(byStream.get(e.streamId) ?? []), e]);
    for (const [streamId, list] of byStream) {
      const loaded = await loadAgentState(q, streamId.slice('agent-'.length));
      let state = loaded.state;
      for (const e of list) state = agentDecider.evolve(state, { type: e.type, data: e.data } as AgentEvent);
      if (state.status !== 'known') continue;
      const a = state.agent;
      await q`insert into rm_agents (id, host, version, last_heartbeat_at, stopped, state)
              values (${a.id}, ${a.host}, ${list[list.length - 1]!.streamVersion}, ${a.lastHeartbeatAt}, ${a.stopped}, ${q.json(encodeState(state) as never)})
              on conflict (id) do update set version = excluded.version, last_heartbeat_at = excluded.last_heartbeat_at,
                stopped = excluded.stopped, state = excluded.state`;
    }
  }

  async reset(q: Queryable): Promise<void> {
    await q`truncate rm_agents`;
  }
}

export async function loadAgentState(q: Queryable, id: string): Promise<{ state: AgentState; version: number }> {
  const [row] = await q<{ version: bigint; state: unknown }[]>`select version, state from rm_agents where id = ${id}`;
  return row ? { state: decodeState<AgentState>(row.state), version: Number(row.version) } : { state: agentDecider.initialState, version: 0 };
}

export async function listAgents(q: Queryable): Promise<Agent[]> {
  const rows = await q<{ state: unknown }[]>`select state from rm_agents order by host`;
  return rows.flatMap((r) => {
    const s = decodeState<AgentState>(r.state);
    return s.status === 'known' ? [s.agent] : [];
  });
}

// Agent commands run through a runtime of their own whose inline projection is rm_agents: the
// networking projections have nothing to do with agent streams.
const runtimes = new WeakMap<Services, CommandRuntime>();
function agentRuntime(s: Services): CommandRuntime {
  let r = runtimes.get(s);
  if (!r) {
    registerAgentEvents(s.store.registry);
    r = new CommandRuntime(s.sql, s.store, [new AgentProjection()], { log: s.log });
    runtimes.set(s, r);
  }
  return r;
}

function runAgentCommand(s: Services, host: string, command: AgentCommand): Promise<CommandOutcome<string>> {
  return agentRuntime(s).execute(agentMetadata(host), async (tx) => {
    const loaded = await loadAgentState(tx, command.id);
    const append = decideAppend(agentDecider, loaded, agentStreamId(command.id), command);
    return isDomainError(append) ? append : { appends: [append], result: command.id };
  });
}

export function registerAgent(s: Services, host: string, instanceId: string) {
  return runAgentCommand(s, host, { type: 'RegisterAgent', id: agentIdOf(host), host, instanceId, now: new Date().toISOString() });
}

export function recordHeartbeat(s: Services, host: string, instanceId: string, lastError: string | null, intervalMs?: number) {
  return runAgentCommand(s, host, {
    type: 'RecordHeartbeat', id: agentIdOf(host), instanceId, lastError, now: new Date().toISOString(), ...(intervalMs !== undefined ? { intervalMs } : {}),
  });
}

export function stopAgent(s: Services, host: string, instanceId: string) {
  return runAgentCommand(s, host, { type: 'StopAgent', id: agentIdOf(host), instanceId, now: new Date().toISOString() });
}
