import type { AgentMode } from './modes.js';

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

export type AgentCommand = RegisterAgent | RecordHeartbeat | StopAgent;
