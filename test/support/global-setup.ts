import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';

let embedded: EmbeddedDatabase | undefined;

/** One PostgreSQL server for the run: DATABASE_URL when set, else an embedded one. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let url = process.env.DATABASE_URL;
  if (!url) {
    embedded = await startEmbeddedPostgres({
      dataDir: process.env.NETLEDGER_TEST_PG_DIR ?? '.data/pg-test',
      port: Number(process.env.NETLEDGER_TEST_PG_PORT ?? 54330),
    });
    url = embedded.url;
  }
  project.provide('pgAdminUrl', url);
  return async () => {
    await embedded?.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}
