import type { Command } from 'commander';
import { agentCommands } from './agent.js';
import { instanceCommands } from './instance.js';
import { eventsCommands } from './events.js';
import { projectionsCommands } from './projections.js';
import { auditCommands } from './audit.js';
import { replayCommands } from './replay.js';

/**
 * Each command group lives in its own file and registers itself here, so adding a command is
 * adding a file and a line.
 */
const groups: ((program: Command) => void)[] = [
  agentCommands,
  instanceCommands,
  eventsCommands,
  projectionsCommands,
  auditCommands,
  replayCommands,
];

export function registerCommands(program: Command): void {
  for (const g of groups) g(program);
}
