import type { AgentMode, IpsecMode } from './modes.js';

export interface Agent {
  readonly id: string;
  readonly host: string;
  readonly instanceId: string;
  readonly registeredAt: string;
  /** The last recorded heartbeat (or the registration). */
  readonly lastHeartbeatAt: string;
  readonly lastError: string | null;
  readonly stopped: boolean;
  /** Marked down (AgentMarkedDown) and not heard from since; absent in states folded before the event existed. */
  readonly down?: boolean;
  /** False: disabled by an admin, given nothing new by the scheduler. Absent: enabled. */
  readonly adminStateUp?: boolean;
  /** The host's VXLAN tunnel endpoint; null: the host takes no part in the overlay. */
  readonly underlayAddress: string | null;
  readonly agentMode: AgentMode;
  /** The host's DVR MAC (modes.ts); null only for hosts not registered since DVR existed. */
  readonly dvrHostMac: string | null;
  /** Neutron's availability_zone; absent in states folded before agents reported it (nova). */
  readonly availabilityZone?: string;
  /** Where the host does ESP for VPNaaS; null: not reported (registered before it was). */
  readonly ipsecMode?: IpsecMode | null;
}

export type AgentState = { readonly status: 'unknown' } | { readonly status: 'known'; readonly agent: Agent };

/** Neutron's default availability zone, of every agent that names none. */
export const DEFAULT_AVAILABILITY_ZONE = 'nova';

export const initialAgentState: AgentState = { status: 'unknown' };

/** Recorded heartbeats are this far apart at most while nothing else changes. */
export const HEARTBEAT_INTERVAL_MS = 30_000;
/** An agent whose last heartbeat is older than this is dead (three missed heartbeats). */
export const AGENT_DOWN_MS = 90_000;

/** Alive: started, not stopped, not marked down, and heard from within `downMs` (Neutron's agent_down_time) of `now`. */
export function isAgentAlive(agent: Agent, now: string, downMs = AGENT_DOWN_MS): boolean {
  return !agent.stopped && agent.down !== true && !isAgentSilent(agent, now, downMs);
}

/** Not heard from within `downMs` of `now`. */
export function isAgentSilent(agent: Agent, now: string, downMs = AGENT_DOWN_MS): boolean {
  return Date.parse(now) - Date.parse(agent.lastHeartbeatAt) > downMs;
}
