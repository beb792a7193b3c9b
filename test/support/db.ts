import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { connect, type Sql } from '../../src/db/sql.js';
import { migrate } from '../../src/store/migrate.js';
import { dropAppRole } from '../../src/store/app-role.js';

export interface TestDatabase {
  readonly url: string;
  readonly sql: Sql;
  drop(): Promise<void>;
}

/** A fresh, migrated database of its own for one test file, so files can run in parallel. */
export async function createTestDatabase(options: { max?: number } = {}): Promise<TestDatabase> {
  const adminUrl = inject('pgAdminUrl');
  const name = `nl_t_${randomBytes(6).toString('hex')}`;
  const admin = connect(adminUrl, { max: 1 });
  await admin.unsafe(`create database ${name}`);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  const sql = connect(url, { max: options.max ?? 10 });
  await migrate(sql);
  return {
    url,
    sql,
    async drop() {
      await sql.end({ timeout: 5 });
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await dropAppRole(admin, name);
      await admin.end({ timeout: 5 });
    },
  };
}

/**
 * Waits until every appending transaction that had begun when called has ended, so log readers
 * (which stop at the oldest transaction that may still append) see everything committed before.
 */
export async function logSettled(sql: Sql, timeoutMs = 15_000): Promise<void> {
  const [{ xmax }] = (await sql<{ xmax: string }[]>`select pg_snapshot_xmax(pg_current_snapshot())::text as xmax`) as unknown as [
    { xmax: string },
  ];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [row] = await sql<{ ok: boolean }[]>`select nl_log_horizon() >= ${xmax}::xid8 as ok`;
    if (row!.ok) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the log horizon did not move within the timeout: an appending transaction stays open');
}
