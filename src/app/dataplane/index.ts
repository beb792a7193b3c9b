export { DataplaneAgent, type DataplaneAgentOptions, type SyncStats } from './agent.js';
export { agentConfigFrom, localAgentWanted } from './config.js';
export { agentProgress, waitForApplied, logHead, type AgentProgress, type AppliedWait } from './applied.js';
export { registerAgentEvents, agentIdOf, AgentProjection } from './agents.js';
export { registerTopologyPart, buildTopology, type TopologyPart, type TopologySource, type TopologyFragment } from './topology.js';
export { plugPort, unplugPort } from './instances.js';
export { startLocalAgent } from './local.js';
