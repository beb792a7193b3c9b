import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, MIGRATIONS_DIR } from '../../src/store/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

let db: TestDatabase;
let before007: string;
beforeAll(async () => {
  db = await createTestDatabase();
  before007 = fs.mkdtempSync(path.join(os.tmpdir(), 'nl-migrations-'));
  for (const f of fs.readdirSync(MIGRATIONS_DIR).filter((x) => x < '007'))
    fs.copyFileSync(path.join(MIGRATIONS_DIR, f), path.join(before007, f));
});
afterAll(async () => {
  fs.rmSync(before007, { recursive: true, force: true });
  await db?.drop();
});

describe('migration 007 (resource identity)', () => {
  it('claims the ids a database already holds: live rows first, then the streams of deleted resources', async () => {
    await db.sql.unsafe('drop schema public cascade; create schema public');
    await migrate(db.sql, before007);
    const [deletedNet, port, rule, group, shared] = Array.from({ length: 5 }, () => randomUUID());
    const now = new Date().toISOString();
    const streams = [
      [`network-${deletedNet}`, 'network'],
      [`port-${port}`, 'port'],
      [`securitygroup-${group}`, 'securitygroup'],
      [`network-${shared}`, 'network'],
      [`port-${shared}`, 'port'],
      ['project-x', 'project'],
    ];
    for (const [id, type] of streams) await db.sql`insert into nl_streams (stream_id, stream_type, version) values (${id!}, ${type!}, 1)`;
    // What the old code left: the shared id's network row overwritten by the port.
    const rows = [
      [port, 'port', `port-${port}`],
      [group, 'security_group', `securitygroup-${group}`],
      [rule, 'security_group_rule', `securitygroup-${group}`],
      [shared, 'port', `port-${shared}`],
    ];
    for (const [id, kind, stream] of rows) {
      await db.sql`insert into rm_resources (id, kind, stream_id, project_id, revision, created_at, updated_at, doc)
                   values (${id!}, ${kind!}, ${stream!}, 'p', 1, ${now}, ${now}, '{}'::jsonb)`;
    }

    expect(await migrate(db.sql)).toEqual(
      fs
        .readdirSync(MIGRATIONS_DIR)
        .filter((f) => f >= '007')
        .sort(),
    );
    const claims = await db.sql<
      { id: string; kind: string; stream_id: string }[]
    >`select id::text, kind, stream_id from rm_resource_ids order by stream_id, kind`;
    expect(claims).toEqual(
      expect.arrayContaining([
        { id: deletedNet, kind: 'network', stream_id: `network-${deletedNet}` },
        { id: port, kind: 'port', stream_id: `port-${port}` },
        { id: group, kind: 'security_group', stream_id: `securitygroup-${group}` },
        { id: rule, kind: 'security_group_rule', stream_id: `securitygroup-${group}` },
        { id: shared, kind: 'port', stream_id: `port-${shared}` },
      ]),
    );
    expect(claims).toHaveLength(5);
    // Rows are keyed by their stream: the network may have its own row again after a rebuild.
    await db.sql`insert into rm_resources (id, kind, stream_id, project_id, revision, created_at, updated_at, doc)
                 values (${shared!}, 'network', ${`network-${shared}`}, 'q', 1, ${now}, ${now}, '{}'::jsonb)`;
    expect((await db.sql`select 1 from rm_resources where id = ${shared!}`).length).toBe(2);
  });
});
