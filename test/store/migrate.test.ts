import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/db/sql.js';
import { migrate } from '../../src/store/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db.drop());

describe('migrations', () => {
  it('two processes migrating at once apply each file exactly once', async () => {
    // The test database is already migrated; drop to a bare schema to start from nothing.
    await db.sql.unsafe('drop schema public cascade; create schema public');
    const a = connect(db.url, { max: 2 });
    const b = connect(db.url, { max: 2 });
    const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
    await Promise.all([a.end(), b.end()]);
    const applied = [...ra, ...rb].sort();
    const files = (await db.sql<{ name: string }[]>`select name from nl_migrations order by name`).map((r) => r.name);
    expect(applied).toEqual(files);
    expect(new Set(applied).size).toBe(applied.length);
    expect(await migrate(db.sql)).toEqual([]);
  });
});
