import type { Command } from 'commander';

/**
 * Each command group lives in its own file and registers itself here, so adding a command is
 * adding a file and a line.
 */
const groups: ((program: Command) => void)[] = [];

export function registerCommands(program: Command): void {
  for (const g of groups) g(program);
}
