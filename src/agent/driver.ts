import type { Logger } from 'pino';
import type { HostUnit, UnitKey } from '../projections/desired-state/index.js';
import type { AgentConfig } from './config.js';
import type { CommandRunner } from './exec.js';
import type { Snapshot } from './probe.js';

export interface DriverContext {
  readonly config: AgentConfig;
  readonly exec: CommandRunner;
  readonly logger: Logger;
}

/**
 * One mechanism (links, NAT, dnsmasq, later haproxy/keepalived). The reconciler calls, per key:
 * observe → diff → apply (only when diff is non-empty) → observe → diff (must be empty).
 * `diff` is pure; `apply` does exactly what the actions say. A driver with nothing to do for a
 * key returns an empty action list.
 */
export interface Driver<Observed = unknown, Action = unknown> {
  readonly name: string;
  /** Sysctl keys the shared namespace probe should read for this driver. */
  readonly probeSysctls?: readonly string[];
  /** Read the host for these keys. `snapshot` is the shared probe of the keys' namespaces. */
  observe(keys: readonly UnitKey[], snapshot: Snapshot, ctx: DriverContext): Promise<Map<UnitKey, Observed>>;
  /** Actions that take the observed state to the desired one; `unit` undefined means "remove". */
  diff(key: UnitKey, unit: HostUnit | undefined, observed: Observed, ctx: DriverContext): Action[];
  apply(key: UnitKey, actions: readonly Action[], ctx: DriverContext): Promise<void>;
  /** Keys that exist on the host (so stale ones get removed even after a restart). */
  discover?(ctx: DriverContext): Promise<UnitKey[]>;
  /** Short text per action for logs and error messages. */
  describe?(action: Action): string;
}
