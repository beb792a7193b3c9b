export { agentDecider, agentStreamId } from './decider.js';
export * from './events.js';
export type * from './commands.js';
export {
  initialAgentState,
  isAgentAlive,
  isAgentSilent,
  HEARTBEAT_INTERVAL_MS,
  AGENT_DOWN_MS,
  DEFAULT_AVAILABILITY_ZONE,
  type Agent,
  type AgentState,
} from './state.js';
export {
  agentModeSchema,
  allocateDvrHostMac,
  DEFAULT_AGENT_MODE,
  DVR_BASE_MAC,
  ipsecModeSchema,
  type AgentMode,
  type IpsecMode,
} from './modes.js';
