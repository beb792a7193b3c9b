import type { AgentMode, IpsecMode } from './modes.js';

export interface RegisterAgent {
  readonly type: 'RegisterAgent';
  readonly id: string;
  readonly host: string;
  readonly instanceId: string;
  readonly now: string;
  /** The host's tunnel endpoint (VXLAN source address) on the underlay; absent: no overlay. */
  readonly underlayAddress?: string | null;
  /** Default legacy. */
  readonly agentMode?: AgentMode;
  /** Neutron's availability_zone of the agent; default nova. */
  readonly availabilityZone?: string;
  /** Where this host does ESP; absent: not probed. */
  readonly ipsecMode?: IpsecMode;
  /** DVR MACs other hosts hold: a first registration draws one none of them has. */
  readonly takenDvrMacs?: ReadonlySet<string>;
}

export interface RecordHeartbeat {
  readonly type: 'RecordHeartbeat';
  readonly id: string;
  readonly instanceId: string;
  readonly lastError: string | null;
  readonly now: string;
  /** Default HEARTBEAT_INTERVAL_MS. */
  readonly intervalMs?: number;
}

export interface StopAgent {
  readonly type: 'StopAgent';
  readonly id: string;
  readonly instanceId: string;
  readonly now: string;
}

/**
 * A live agent saw that this one has been silent for longer than `downMs` (agent_down_time): the
 * silence becomes a fact in the log, which every agent reschedules from. Nothing when the agent
 * was heard from since, stopped on purpose, or is already marked down.
 */
export interface MarkAgentDown {
  readonly type: 'MarkAgentDown';
  readonly id: string;
  /** The host whose agent noticed. */
  readonly by: string;
  readonly downMs: number;
  readonly now: string;
}

/** An admin takes the agent out of scheduling (Neutron's agent admin_state_up): what it hosts stays. */
export interface SetAgentAdminState {
  readonly type: 'SetAgentAdminState';
  readonly id: string;
  readonly adminStateUp: boolean;
  readonly now: string;
}

export type AgentCommand = RegisterAgent | RecordHeartbeat | StopAgent | MarkAgentDown | SetAgentAdminState;
