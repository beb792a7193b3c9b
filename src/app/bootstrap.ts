import type { Config } from '../config.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../db/embedded.js';
import { connect } from '../db/sql.js';
import type { Logger } from '../log.js';
import { AggregateProjection } from '../projections/aggregate-projection.js';
import { AgentProjection } from '../projections/agents-projection.js';
import type { Projection } from '../projections/projection.js';
import { TenancyProjection } from '../projections/tenancy-projection.js';
import { NetworkingProjection } from '../projections/networking-projection.js';
import { RoutingProjection } from '../projections/routing-projection.js';
import { EventStore } from '../store/event-store.js';
import { LogWaker } from '../store/log-waker.js';
import { migrate } from '../store/migrate.js';
import { ensureAppRole } from '../store/app-role.js';
import { auditKeyPath, loadOrCreateAuditKey } from '../store/seal/audit-key.js';
import { LogSealer } from '../store/seal/sealer.js';
import { CommandRuntime } from './command-runtime.js';
import { enforceQuota } from './quota.js';
import { aggregateKinds, eventRegistry } from './registry.js';
import { followFixedIpChangeOfPort, releaseFloatingIpsOfPort } from './routing/floating-ips.js';
import { planDefaultSecurityGroup } from './security/security-groups.js';
import type { CommandHooks, Services } from './services.js';

/**
 * What one module's commands trigger in another's. Port commands reach floating IPs and default
 * security groups only through these, so the networking module depends on neither.
 */
export const commandHooks: CommandHooks = {
  defaultSecurityGroup: planDefaultSecurityGroup,
  portDelete: [releaseFloatingIpsOfPort],
  portFixedIpsReleased: [followFixedIpChangeOfPort],
};

/**
 * The projections that run inside every append, in order. A rebuild replays the log through the
 * same list (with no read-model vetoes: history is history).
 */
export function inlineProjections(aggregates: AggregateProjection): Projection[] {
  return [new TenancyProjection(), aggregates, new NetworkingProjection(), new RoutingProjection(), new AgentProjection()];
}

/** The same list for a replay of the log (a rebuild, a verify): nothing vetoes history. */
export function replayProjections(): Projection[] {
  return inlineProjections(new AggregateProjection(aggregateKinds(), { replaying: true }));
}

export interface Running extends Services {
  /**
   * The owner's URL (migrations, DDL). `sql` connects as the app role, which may only read and
   * append to the log; only operator commands that change the schema (a rebuild's table swap) use this.
   */
  readonly ownerUrl: string;
  /** Which database this is, for a person: the embedded one's directory, or DATABASE_URL without its password. */
  readonly database: string;
  stop(): Promise<void>;
}

/**
 * Connects (starting the embedded PostgreSQL when DATABASE_URL is unset), migrates as the owner,
 * then wires services over a pool that connects as the app role (see ensureAppRole), and follows
 * the log with a sealer (the whole-log chain) unless `seal` is false. Only the server signs
 * checkpoints (`signCheckpoints`, with the key file on its host): agents and CLI commands on other
 * hosts would otherwise sign with keys of their own, which `audit verify` rightly does not trust.
 */
let pools = 0;

export async function startServices(
  config: Config,
  log: Logger,
  options: { databaseUrl?: string; poolSize?: number; seal?: boolean; signCheckpoints?: boolean; createDatabase?: boolean } = {},
): Promise<Running> {
  let embedded: EmbeddedDatabase | undefined;
  let url = options.databaseUrl ?? config.DATABASE_URL;
  let database: string;
  if (!url) {
    log.info({ dataDir: `${config.dataDir}/pg`, port: config.EMBEDDED_PG_PORT }, 'DATABASE_URL is unset: starting the embedded PostgreSQL');
    embedded = await startEmbeddedPostgres({
      dataDir: `${config.dataDir}/pg`,
      port: config.EMBEDDED_PG_PORT,
      log,
      create: options.createDatabase ?? true,
    });
    url = embedded.url;
    database = `the embedded PostgreSQL in ${config.dataDir}/pg (port ${new URL(url).port}, ${embedded.sharedWith ? `shared with netledger process ${embedded.sharedWith}` : 'started by this process'})`;
  } else {
    const shown = new URL(url);
    shown.password = '';
    database = `${shown.toString()} (DATABASE_URL)`;
  }
  const ownerUrl = url;
  const owner = connect(ownerUrl, { max: 1 });
  let appUrl: string;
  try {
    const applied = await migrate(owner);
    if (applied.length > 0) log.info({ applied }, 'migrations applied');
    appUrl = await ensureAppRole(owner, ownerUrl, { dataDir: config.dataDir, appUrl: config.NETLEDGER_APP_DATABASE_URL });
  } catch (e) {
    await embedded?.stop();
    throw e;
  } finally {
    await owner.end({ timeout: 1 });
  }
  // Named after this process and pool, so its connections can be told apart in pg_stat_activity (metrics).
  const sql = connect(appUrl, { max: options.poolSize ?? 20, applicationName: `netledger/${process.pid}/${++pools}` });
  const waker = new LogWaker(sql);
  await waker.listen();
  const store = new EventStore(sql, eventRegistry(), (events) => waker.appended(events));
  const aggregates = new AggregateProjection(aggregateKinds());
  const runtime = new CommandRuntime(sql, store, inlineProjections(aggregates), [enforceQuota(aggregates)], { log });
  const sealer =
    options.seal === false
      ? undefined
      : new LogSealer(sql, waker, options.signCheckpoints ? loadOrCreateAuditKey(auditKeyPath(config)) : null, log, {
          checkpointMs: config.NETLEDGER_AUDIT_CHECKPOINT_SECONDS * 1000,
        });
  sealer?.start();
  return {
    config,
    sql,
    store,
    waker,
    runtime,
    aggregates,
    hooks: commandHooks,
    log,
    ownerUrl,
    database,
    async stop() {
      await sealer?.stop();
      await waker.close();
      await sql.end({ timeout: 5 });
      await embedded?.stop();
    },
  };
}
