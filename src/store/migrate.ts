import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sql } from '../db/sql.js';

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');
const LOCK_KEY = 0x6e6c6d67; // 'nlmg': one migrator at a time across processes

const migrationFiles = (dir: string) =>
  fs
    .readdirSync(dir)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .sort();

/** Migrations this code has that the database has not applied (readiness: none may be missing). */
export async function pendingMigrations(sql: Sql, dir = MIGRATIONS_DIR): Promise<string[]> {
  // One query (readiness is probed often); a database never migrated fails it, which is not ready either.
  const done = new Set((await sql<{ name: string }[]>`select name from nl_migrations`).map((r) => r.name));
  return migrationFiles(dir).filter((f) => !done.has(f));
}

/** Applies numbered plain-SQL migrations once each, in order, under an advisory lock. */
export async function migrate(sql: Sql, dir = MIGRATIONS_DIR): Promise<string[]> {
  const files = migrationFiles(dir);
  const applied: string[] = [];
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${LOCK_KEY})`;
    await tx`create table if not exists nl_migrations (name text primary key, applied_at timestamptz not null default now())`;
    const done = new Set((await tx<{ name: string }[]>`select name from nl_migrations`).map((r) => r.name));
    for (const f of files) {
      if (done.has(f)) continue;
      await tx.unsafe(fs.readFileSync(path.join(dir, f), 'utf8'));
      await tx`insert into nl_migrations (name) values (${f})`;
      applied.push(f);
    }
  });
  return applied;
}
