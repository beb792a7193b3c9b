import { visibleHead } from '../store/log-head.js';
import type { Queryable } from '../db/sql.js';
import { DEFAULT_AGENT_MODE, DEFAULT_AVAILABILITY_ZONE, isAgentAlive, type AgentMode, type IpsecMode } from '../domain/agent/index.js';
import { comparePositions, decodeCursor, encodeCursor, START, type LogPosition } from '../store/cursor.js';
import { listAgents } from '../projections/agents-projection.js';
import { WAKE_CHANNEL } from '../store/log-waker.js';

/**
 * How far each agent has applied the log. An agent writes its row directly after every pass that
 * left its host converged: it is progress (like a consumer checkpoint), rewritten many times a
 * minute, and nobody decides anything from its history, so it is not an event.
 */
export async function recordApplied(q: Queryable, host: string, position: LogPosition): Promise<void> {
  await q`insert into rm_agent_applied (host, cursor, applied_at) values (${host}, ${encodeCursor(position)}, now())
          on conflict (host) do update set cursor = excluded.cursor, applied_at = excluded.applied_at`;
}

/** The newest event a reader can see now (readAll's visibility rule), or START for an empty log. */
export async function logHead(q: Queryable): Promise<LogPosition> {
  return (await visibleHead(q)) ?? START;
}

export interface AgentProgress {
  readonly host: string;
  readonly alive: boolean;
  /** Marked down by a live agent (AgentMarkedDown) and not heard from since. */
  readonly down: boolean;
  /** Stopped on purpose (AgentStopped). */
  readonly stopped: boolean;
  /** False: disabled by an admin (no new routers or DHCP ports). */
  readonly adminStateUp: boolean;
  readonly registeredAt: string;
  readonly lastHeartbeatAt: string;
  readonly lastError: string | null;
  /** The host's VXLAN tunnel endpoint, as it registered it; null: not in the overlay. */
  readonly underlayAddress: string | null;
  /** Neutron's agent_mode: legacy, dvr (compute host) or dvr_snat (network node). */
  readonly agentMode: AgentMode;
  /** The host's DVR MAC: distributed routers' frames leave the host with it as their source. */
  readonly dvrHostMac: string | null;
  /** Neutron's availability_zone the agent registered in. */
  readonly availabilityZone: string;
  /** Where the host does ESP (kernel or charon's libipsec); null: not reported. */
  readonly ipsecMode: IpsecMode | null;
  readonly appliedCursor: string | null;
  readonly appliedAt: Date | null;
}

/** `downMs`: how long without a heartbeat before an agent counts as dead (Neutron's agent_down_time). */
export async function agentProgress(q: Queryable, now = new Date(), downMs?: number): Promise<AgentProgress[]> {
  const agents = await listAgents(q);
  const rows = await q<{ host: string; cursor: string; applied_at: Date }[]>`select host, cursor, applied_at from rm_agent_applied`;
  const applied = new Map(rows.map((r) => [r.host, r]));
  const iso = now.toISOString();
  return agents.map((a) => ({
    host: a.host,
    alive: isAgentAlive(a, iso, downMs),
    down: a.down === true,
    stopped: a.stopped,
    adminStateUp: a.adminStateUp !== false,
    registeredAt: a.registeredAt,
    lastHeartbeatAt: a.lastHeartbeatAt,
    lastError: a.lastError,
    underlayAddress: a.underlayAddress ?? null,
    agentMode: a.agentMode ?? DEFAULT_AGENT_MODE,
    dvrHostMac: a.dvrHostMac ?? null,
    ipsecMode: a.ipsecMode ?? null,
    availabilityZone: a.availabilityZone ?? DEFAULT_AVAILABILITY_ZONE,
    appliedCursor: applied.get(a.host)?.cursor ?? null,
    appliedAt: applied.get(a.host)?.applied_at ?? null,
  }));
}

export interface AppliedWait {
  /** Every live agent has applied the cursor (false when there is no live agent at all). */
  readonly applied: boolean;
  readonly timedOut: boolean;
  /** Live agents that have not applied it yet. */
  readonly pendingHosts: readonly string[];
  readonly agents: readonly AgentProgress[];
}

/** Pure: which live agents are still behind `target`. */
export function hostsBehind(agents: readonly AgentProgress[], target: LogPosition): string[] {
  return agents
    .filter((a) => a.alive && (a.appliedCursor === null || comparePositions(decodeCursor(a.appliedCursor), target) < 0))
    .map((a) => a.host);
}

/**
 * Resolves once every live agent's applied cursor is at or past `cursor`, or after `timeoutMs`.
 * With no live agent it answers at once (applied: false): nothing would ever apply it.
 * An agent reads a change that touches nothing of its host only lazily (at its idle poll), so
 * while some are behind a wake-up that says nothing of what was appended asks every agent to
 * read the log now: the cost of the wait is one read per agent, paid by the waiter, not by every
 * change.
 */
export async function waitForApplied(
  q: Queryable,
  cursor: string,
  timeoutMs: number,
  signal?: AbortSignal,
  downMs?: number,
): Promise<AppliedWait> {
  const target = decodeCursor(cursor);
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    const agents = await agentProgress(q, new Date(), downMs);
    const live = agents.filter((a) => a.alive);
    const pendingHosts = hostsBehind(agents, target);
    if (live.length === 0 || pendingHosts.length === 0) {
      return { applied: live.length > 0, timedOut: false, pendingHosts, agents };
    }
    const left = deadline - Date.now();
    if (left <= 0 || signal?.aborted) return { applied: false, timedOut: true, pendingHosts, agents };
    if (i === 0) await q`select pg_notify(${WAKE_CHANNEL}, '')`;
    await new Promise((r) => setTimeout(r, Math.min(left, 5 * 2 ** Math.min(i, 4))));
  }
}
