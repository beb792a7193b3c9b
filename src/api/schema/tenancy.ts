import { z } from 'zod';
import { domainError } from '../../domain/errors.js';
import { QUOTA_RESOURCES, DEFAULT_QUOTAS, type QuotaResource } from '../../domain/project/index.js';
import { issueToken, resetQuotas, revokeToken, setQuota } from '../../app/tenancy.js';
import { commandMetadata, type Context } from '../context.js';
import { adminOnly } from '../../domain/policy/index.js';
import { quotaUsage } from '../../projections/quota-usage.js';
import { builder } from './builder.js';
import { Role } from './enums.js';
import { defineMutation } from './mutation.js';

interface ProjectRow {
  id: string;
  name: string;
  createdAt: Date;
}


export const ProjectRef = builder.objectRef<ProjectRow>('Project').implement({
  description: 'A tenant. Resources belong to exactly one project.',
  fields: (t) => ({
    uuid: t.exposeString('id', { description: 'The project id (what resources carry as projectId).' }),
    name: t.exposeString('name', { description: 'The project name tokens are issued for (createToken); unique.' }),
    createdAt: t.field({ type: 'DateTime', description: 'When the project was created (its first token).', resolve: (p) => p.createdAt }),
    quotas: t.field({ type: [QuotaRef], description: 'Its limit and usage for every quota resource.', resolve: (p, _a, ctx) => quotasOf(ctx, p.id) }),
  }),
});

interface QuotaRow {
  resource: QuotaResource;
  limit: number;
  used: number;
}

const QuotaRef = builder.objectRef<QuotaRow>('Quota').implement({
  description: "A project's limit on one kind of resource, with how many it has.",
  fields: (t) => ({
    resource: t.exposeString('resource', { description: `The quota resource, as Neutron names it: ${QUOTA_RESOURCES.join(', ')}.` }),
    limit: t.exposeInt('limit', { description: '-1 means unlimited.' }),
    used: t.exposeInt('used', { description: 'How many the project has now.' }),
    reserved: t.int({
      description: "Neutron's reserved count: always 0, since a create is counted inside its own append transaction and holds no reservation.",
      resolve: () => 0,
    }),
  }),
});

async function quotasOf(ctx: Context, projectId: string): Promise<QuotaRow[]> {
  const sql = ctx.services.sql;
  const limits = await sql<{ resource: string; max_count: number }[]>`select resource, max_count from rm_quota_limits where project_id = ${projectId}`;
  const usage = await quotaUsage(sql, projectId, QUOTA_RESOURCES);
  return QUOTA_RESOURCES.map((resource) => ({
    resource,
    limit: limits.find((l) => l.resource === resource)?.max_count ?? DEFAULT_QUOTAS[resource],
    used: usage.get(resource) ?? 0,
  }));
}

async function projectById(ctx: Context, id: string): Promise<ProjectRow | null> {
  const [row] = await ctx.services.sql<{ id: string; name: string; created_at: Date }[]>`select id, name, created_at from rm_projects where id::text = ${id} or name = ${id}`;
  return row ? { id: row.id, name: row.name, createdAt: row.created_at } : null;
}

const Viewer = builder.objectRef<Context['caller']>('Viewer').implement({
  description: 'Who the bearer token belongs to.',
  fields: (t) => ({
    tokenName: t.exposeString('tokenName', { description: 'The name the token was issued with.' }),
    role: t.field({ type: Role, description: 'admin (every project) or member (its own project).', resolve: (c) => (c.isAdmin ? 'admin' : 'member') }),
    project: t.field({ type: ProjectRef, description: 'The project the token belongs to and acts in.', resolve: async (c, _a, ctx) => (await projectById(ctx, c.projectId))! }),
  }),
});

builder.queryFields((t) => ({
  viewer: t.field({ type: Viewer, description: 'The caller: its token, role and project.', resolve: (_r, _a, ctx) => ctx.caller }),
  projects: t.field({
    type: [ProjectRef],
    description: 'Admins see every project; members their own.',
    resolve: async (_r, _a, ctx) => {
      const rows = ctx.caller.isAdmin
        ? await ctx.services.sql<{ id: string; name: string; created_at: Date }[]>`select id, name, created_at from rm_projects order by name`
        : await ctx.services.sql<{ id: string; name: string; created_at: Date }[]>`select id, name, created_at from rm_projects where id = ${ctx.caller.projectId}`;
      return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at }));
    },
  }),
}));

const IssuedToken = builder.objectRef<{ tokenId: string; secret: string; projectId: string }>('IssuedToken').implement({
  description: 'A new API token: send `secret` as the bearer token.',
  fields: (t) => ({
    tokenId: t.exposeString('tokenId', { description: 'The token id (what events record as their actor; revokeToken takes it).' }),
    projectId: t.exposeString('projectId', { description: 'The project the token acts in.' }),
    secret: t.exposeString('secret', { description: 'Shown once; only its hash is stored.' }),
  }),
});

defineMutation('createToken', {
  description: 'Issues an API token for a project, creating the project on first use. Admin only.',
  schema: z.object({
    project: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/).describe('Project name.'),
    role: z.enum(['admin', 'member']).describe('admin or member'),
    name: z.string().max(255).nullish(),
  }),
  field: 'token',
  type: IssuedToken,
  run: async (input, ctx) => {
    const refused = adminOnly(ctx.caller, 'create_token');
    if (refused) return { ok: false, error: refused };
    const r = await issueToken(ctx.services, { project: input.project, role: input.role, ...(input.name ? { name: input.name } : {}) }, commandMetadata(ctx));
    return r.ok ? { ok: true, value: { tokenId: r.tokenId, secret: r.secret, projectId: r.projectId }, cursor: null } : r;
  },
});

defineMutation('revokeToken', {
  description: 'Revokes a token of the caller\'s project (admins: of any project).',
  schema: z.object({ projectId: z.guid(), tokenId: z.guid().describe('The token to revoke (IssuedToken.tokenId); its subscriptions end.') }),
  field: 'tokenId',
  type: builder.objectRef<string>('RevokedToken').implement({ description: 'What revokeToken answers: the token that no longer works.', fields: (t) => ({ tokenId: t.string({ description: 'The revoked token id.', resolve: (s) => s }) }) }),
  run: async (input, ctx) => {
    if (!ctx.caller.isAdmin && input.projectId !== ctx.caller.projectId) return { ok: false, error: domainError('TokenNotFound', `Token ${input.tokenId} could not be found.`) };
    const r = await revokeToken(ctx.services, input.projectId, input.tokenId, commandMetadata(ctx));
    return r.ok ? { ok: true, value: input.tokenId, cursor: r.cursor } : r;
  },
});

defineMutation('setQuota', {
  description: 'Sets a project quota (-1 for unlimited). Admin only.',
  schema: z.object({ projectId: z.guid(), resource: z.enum(QUOTA_RESOURCES as [QuotaResource, ...QuotaResource[]]), limit: z.number().int().min(-1).describe('The most the project may have; -1 for unlimited.') }),
  field: 'project',
  type: ProjectRef,
  run: async (input, ctx) => {
    const refused = adminOnly(ctx.caller, 'update_quota');
    if (refused) return { ok: false, error: refused };
    const r = await setQuota(ctx.services, input.projectId, input.resource, input.limit, commandMetadata(ctx));
    if (!r.ok) return r;
    return { ok: true, value: (await projectById(ctx, input.projectId))!, cursor: r.cursor };
  },
});

defineMutation('resetQuota', {
  description: "Puts every quota of a project back to its default, as Neutron's quota delete. Admin only.",
  schema: z.object({ projectId: z.guid() }),
  field: 'project',
  type: ProjectRef,
  run: async (input, ctx) => {
    const refused = adminOnly(ctx.caller, 'delete_quota');
    if (refused) return { ok: false, error: refused };
    const r = await resetQuotas(ctx.services, input.projectId, commandMetadata(ctx));
    if (!r.ok) return r;
    return { ok: true, value: (await projectById(ctx, input.projectId))!, cursor: r.cursor };
  },
});
