import type { Decider } from '../decider.js';
import type { AgentCommand } from './commands.js';
import { decideAgent } from './decide.js';
import type { AgentEvent } from './events.js';
import { evolveAgent } from './evolve.js';
import { initialAgentState, type AgentState } from './state.js';

export const agentDecider: Decider<AgentCommand, AgentState, AgentEvent> = {
  initialState: initialAgentState,
  decide: decideAgent,
  evolve: evolveAgent,
};

export function agentStreamId(id: string): string {
  return `agent-${id}`;
}
