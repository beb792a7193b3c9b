import { createHash, createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Sql } from '../db/sql.js';

const LOCK_KEY = 0x6e6c726f; // 'nlro': one process at a time creates the role and sets its password

/** The server's login role for one database: `<database>_app` (roles are cluster-wide). */
export function appRoleName(database: string): string {
  const name = `${database}_app`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  return name.length <= 63 ? name : `nl_app_${createHash('sha256').update(database).digest('hex').slice(0, 16)}`;
}

/**
 * The app role's password, the same in every process that holds the owner's credentials (so a
 * second process, a CLI command or another replica, never locks out the first by resetting it):
 * an HMAC of the owner's password. An owner without a password (peer or trust authentication) has
 * nothing to derive from: a random secret kept in the data directory (mode 0600) serves instead.
 */
function derivedPassword(ownerUrl: URL, role: string, dataDir: string): string {
  let key = decodeURIComponent(ownerUrl.password);
  if (!key) {
    const file = path.join(dataDir, 'db-app-secret');
    fs.mkdirSync(dataDir, { recursive: true });
    try {
      fs.writeFileSync(file, randomBytes(32).toString('hex'), { flag: 'wx', mode: 0o600 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    key = fs.readFileSync(file, 'utf8').trim();
  }
  return createHmac('sha256', key).update(`netledger-app-role\n${role}`).digest('base64url');
}

/**
 * As the owner (who ran the migrations): makes sure the server's role exists, can log in with its
 * password, and holds exactly the app's privileges (nl_grant_app); answers the URL to connect as it.
 * With `appUrl` (NETLEDGER_APP_DATABASE_URL) the operator manages that role: it only gets the grants.
 */
export async function ensureAppRole(owner: Sql, ownerUrl: string, options: { dataDir: string; appUrl?: string }): Promise<string> {
  const [{ db }] = (await owner<{ db: string }[]>`select current_database() as db`) as unknown as [{ db: string }];
  if (options.appUrl) {
    const role = decodeURIComponent(new URL(options.appUrl).username);
    await owner`select nl_grant_app(${role})`;
    return options.appUrl;
  }
  const role = appRoleName(db);
  const url = new URL(ownerUrl);
  const password = derivedPassword(url, role, options.dataDir);
  await owner.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${LOCK_KEY})`;
    const [{ may }] = (await tx<
      { may: boolean }[]
    >`select rolsuper or rolcreaterole as may from pg_roles where rolname = current_user`) as unknown as [{ may: boolean }];
    if (!may) {
      throw new Error(
        `the database owner ${url.username} may not create roles: give it CREATEROLE, or create a role for the server yourself and set NETLEDGER_APP_DATABASE_URL`,
      );
    }
    // The lock is per database, the role per database too; a racing creator elsewhere (same name
    // by accident) is a duplicate, not an error.
    await tx.unsafe(`DO $$ BEGIN
        CREATE ROLE ${quoteIdent(role)} LOGIN;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END $$`);
    await tx.unsafe(
      `ALTER ROLE ${quoteIdent(role)} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${quoteLiteral(password)}`,
    );
    await tx`select nl_grant_app(${role})`;
  });
  url.username = encodeURIComponent(role);
  url.password = encodeURIComponent(password);
  return url.toString();
}

/** Drops a database's app role (tests, after dropping the database that held its grants). */
export async function dropAppRole(admin: Sql, database: string): Promise<void> {
  await admin.unsafe(`DROP ROLE IF EXISTS ${quoteIdent(appRoleName(database))}`);
}

function quoteIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
