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
import './routing/hooks.js';
import { EventStore } from '../store/event-store.js';
import { LogWaker } from '../store/log-waker.js';
import { migrate } from '../store/migrate.js';
import { CommandRuntime } from './command-runtime.js';
import { aggregateKinds, eventRegistry } from './registry.js';
import type { Services } from './services.js';

/**
 * The projections that run inside every append, in order. A rebuild replays the log through the
 * same list (with quotas not enforced: history is history).
 */
export function inlineProjections(aggregates: AggregateProjection): Projection[] {
  return [new TenancyProjection(), aggregates, new NetworkingProjection(), new RoutingProjection(), new AgentProjection()];
}

export interface Running extends Services {
  stop(): Promise<void>;
}

/** Connects (starting the embedded PostgreSQL when DATABASE_URL is unset), migrates, wires services. */
export async function startServices(config: Config, log: Logger, options: { databaseUrl?: string; poolSize?: number } = {}): Promise<Running> {
  let embedded: EmbeddedDatabase | undefined;
  let url = options.databaseUrl ?? config.DATABASE_URL;
  if (!url) {
    log.info({ dataDir: `${config.dataDir}/pg`, port: config.EMBEDDED_PG_PORT }, 'DATABASE_URL is unset: starting the embedded PostgreSQL');
    embedded = await startEmbeddedPostgres({ dataDir: `${config.dataDir}/pg`, port: config.EMBEDDED_PG_PORT });
    url = embedded.url;
  }
  const sql = connect(url, { max: options.poolSize ?? 20 });
  try {
    const applied = await migrate(sql);
    if (applied.length > 0) log.info({ applied }, 'migrations applied');
  } catch (e) {
    await sql.end({ timeout: 1 });
    await embedded?.stop();
    throw e;
  }
  const waker = new LogWaker(sql);
  await waker.listen();
  const store = new EventStore(sql, eventRegistry(), () => waker.appended());
  const aggregates = new AggregateProjection(aggregateKinds());
  const runtime = new CommandRuntime(sql, store, inlineProjections(aggregates), { log });
  return {
    config, sql, store, waker, runtime, aggregates, log,
    async stop() {
      await waker.close();
      await sql.end({ timeout: 5 });
      await embedded?.stop();
    },
  };
}
