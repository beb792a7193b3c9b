import type { Command } from 'commander';

/**
 * Each command group lives in its own file and is listed here, so adding a command is adding a
 * file and an entry. The word and description are all `--help` needs: a group's module (and the
 * agent, audit or database code it imports, seconds of loading) is imported only when its word is
 * the command being run. The description is the group's own (test/cli/help.test.ts keeps them equal).
 */
export interface Group {
  readonly word: string;
  readonly description: string;
  readonly load: () => Promise<(program: Command) => void>;
}

export const GROUPS: readonly Group[] = [
  {
    word: 'agent',
    description: 'the dataplane agent of this host (root: it builds network namespaces named NETLEDGER_NS_PREFIX…)',
    load: async () => (await import('./agent.js')).agentCommands,
  },
  {
    word: 'instance',
    description: 'lab instances for compute ports (root)',
    load: async () => (await import('./instance.js')).instanceCommands,
  },
  {
    word: 'events',
    description: 'read, export and import the event log',
    load: async () => (await import('./events.js')).eventsCommands,
  },
  {
    word: 'projections',
    description: 'the read model: rebuild it from the log, check it',
    load: async () => (await import('./projections.js')).projectionsCommands,
  },
  {
    word: 'audit',
    description: 'tamper evidence of the event log',
    load: async () => (await import('./audit.js')).auditCommands,
  },
  {
    word: 'replay',
    description: 'the desired host state as of a point of the log, and what the agent would run to build it on an empty host',
    load: async () => (await import('./replay.js')).replayCommands,
  },
];

/** The group `args` (the command line after the program) runs or asks help for, if any. */
function wantedGroup(args: readonly string[]): Group | undefined {
  const word = args[0] === 'help' ? args[1] : args[0];
  return GROUPS.find((g) => g.word === word);
}

/** Registers the group the command line names in full, and every other group as its help line. */
export async function registerCommands(program: Command, args: readonly string[]): Promise<void> {
  const wanted = wantedGroup(args);
  for (const g of GROUPS) {
    if (g === wanted) (await g.load())(program);
    else program.command(g.word).description(g.description);
  }
}
