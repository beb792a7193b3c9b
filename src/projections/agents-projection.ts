import type { Queryable } from '../db/sql.js';
import { agentDecider, type Agent, type AgentEvent, type AgentState } from '../domain/agent/index.js';
import type { ProjectedEvent } from '../store/types.js';
import { decodeState, encodeState } from './json-state.js';
import type { Projection } from './projection.js';

/** rm_agents: the folded Agent aggregate, one row per host. */
export class AgentProjection implements Projection {
  readonly name = 'agents';

  async apply(q: Queryable, events: readonly ProjectedEvent[]): Promise<void> {
    const byStream = new Map<string, ProjectedEvent[]>();
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
  return row
    ? { state: decodeState<AgentState>(row.state), version: Number(row.version) }
    : { state: agentDecider.initialState, version: 0 };
}

/** Every registered agent, or those of `hosts` only (rm_agents' unique index on host). */
export async function listAgents(q: Queryable, hosts?: readonly string[]): Promise<Agent[]> {
  const rows = hosts
    ? await q<{ state: unknown }[]>`select state from rm_agents where host = any(${hosts as string[]}::text[]) order by host`
    : await q<{ state: unknown }[]>`select state from rm_agents order by host`;
  return rows.flatMap((r) => {
    const s = decodeState<AgentState>(r.state);
    return s.status === 'known' ? [s.agent] : [];
  });
}
