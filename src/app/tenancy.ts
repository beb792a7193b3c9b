import type { Principal } from '../domain/policy/index.js';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Queryable, Sql } from '../db/sql.js';
import { domainError, type DomainError } from '../domain/errors.js';
import { projectDecider, type ProjectCommand, type QuotaResource, type Role } from '../domain/project/index.js';
import type { EventMetadata } from '../store/types.js';
import type { CommandOutcome, Tx } from './command-runtime.js';
import { loadAggregate } from './load.js';
import type { Services } from './services.js';

/** The principal a bearer token speaks for, with the token's own names for logs and metadata. */
export interface Caller extends Principal {
  readonly tokenId: string;
  readonly tokenName: string;
  readonly projectName: string;
}

export const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');
const SYSTEM: EventMetadata = { actor: 'system' };

export async function projectIdByName(q: Queryable, name: string): Promise<string | null> {
  const [row] = await q<{ id: string }[]>`select id from rm_projects where name = ${name}`;
  return row?.id ?? null;
}

async function decideProject(s: Services, tx: Tx, projectId: string, command: ProjectCommand) {
  const { state, version } = await loadAggregate(s.store, tx, projectDecider, `project-${projectId}`);
  const events = projectDecider.decide(command, state);
  if ('kind' in events) return events;
  return { appends: [{ streamId: `project-${projectId}`, expected: version, events }], result: projectId };
}

/** Creates the project if it does not exist; answers its id either way. */
export async function ensureProject(s: Services, name: string, metadata: EventMetadata = SYSTEM): Promise<CommandOutcome<string>> {
  return s.runtime.execute(metadata, async (tx) => {
    const existing = await projectIdByName(tx, name);
    if (existing) return { appends: [], result: existing };
    const id = randomUUID();
    return decideProject(s, tx, id, { type: 'CreateProject', id, name, now: new Date().toISOString() });
  });
}

/** Issues a token for a project (created on first use); the secret exists only in the answer. */
export async function issueToken(
  s: Services,
  input: { project: string; role: Role; name?: string },
  metadata: EventMetadata = SYSTEM,
): Promise<{ ok: true; secret: string; tokenId: string; projectId: string } | { ok: false; error: DomainError }> {
  const project = await ensureProject(s, input.project, metadata);
  if (!project.ok) return project;
  const secret = `nl_${randomBytes(24).toString('base64url')}`;
  const tokenId = randomUUID();
  const issued = await s.runtime.execute(metadata, (tx) =>
    decideProject(s, tx, project.result, {
      type: 'IssueToken',
      tokenId,
      name: input.name ?? `${input.role}-${tokenId.slice(0, 8)}`,
      role: input.role,
      secretHash: hashSecret(secret),
      now: new Date().toISOString(),
    }),
  );
  if (!issued.ok) return issued;
  return { ok: true, secret, tokenId, projectId: project.result };
}

export async function revokeToken(s: Services, projectId: string, tokenId: string, metadata: EventMetadata = SYSTEM) {
  return s.runtime.execute(metadata, (tx) =>
    decideProject(s, tx, projectId, { type: 'RevokeToken', tokenId, now: new Date().toISOString() }),
  );
}

export async function setQuota(s: Services, projectId: string, resource: QuotaResource, limit: number, metadata: EventMetadata = SYSTEM) {
  return s.runtime.execute(metadata, async (tx) => {
    const [exists] = await tx`select 1 from rm_projects where id = ${projectId}`;
    if (!exists) return domainError('ProjectNotFound', `Project ${projectId} could not be found.`);
    return decideProject(s, tx, projectId, { type: 'SetQuota', resource, limit, now: new Date().toISOString() });
  });
}

/** Every quota of the project back to its default (Neutron's quota delete). */
export async function resetQuotas(s: Services, projectId: string, metadata: EventMetadata = SYSTEM) {
  return s.runtime.execute(metadata, async (tx) => {
    const [exists] = await tx`select 1 from rm_projects where id = ${projectId}`;
    if (!exists) return domainError('ProjectNotFound', `Project ${projectId} could not be found.`);
    return decideProject(s, tx, projectId, { type: 'ResetQuotas', now: new Date().toISOString() });
  });
}

/** On first start with an empty database: an admin project and token, printed once. */
export async function bootstrapAdmin(s: Services): Promise<string | null> {
  const [any] = await s.sql`select 1 from rm_tokens limit 1`;
  if (any) return null;
  const issued = await issueToken(s, { project: 'admin', role: 'admin', name: 'bootstrap' });
  if (!issued.ok) throw new Error(`could not create the bootstrap admin token: ${issued.error.message}`);
  return issued.secret;
}

/**
 * The caller a secret stands for, looked up on every request (one indexed row): a revoked token
 * stops working at the commit of its revocation, not seconds later.
 */
export async function authenticate(sql: Sql, secret: string): Promise<Caller | null> {
  return lookupToken(sql, hashSecret(secret));
}

async function lookupToken(sql: Sql, secretHash: string): Promise<Caller | null> {
  const [row] = await sql<{ token_id: string; name: string; role: 'admin' | 'member'; project_id: string; project_name: string }[]>`
    select t.token_id, t.name, t.role, t.project_id, p.name as project_name
      from rm_tokens t join rm_projects p on p.id = t.project_id
     where t.secret_hash = ${secretHash} and not t.revoked`;
  if (!row) return null;
  return {
    tokenId: row.token_id,
    tokenName: row.name,
    isAdmin: row.role === 'admin',
    projectId: row.project_id,
    projectName: row.project_name,
  };
}
