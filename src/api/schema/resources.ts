import DataLoader from 'dataloader';
import { createGraphQLError } from 'graphql-yoga';
import type { ResourceRow } from '../../projections/aggregate-kind.js';
import { decodeGlobalID } from '@pothos/plugin-relay';
import type { Context } from '../context.js';
import { builder, type Types } from './builder.js';
import { resourceVisibilitySql } from '../../projections/policy-sql.js';

/** A row of the read model as resolvers see it. */
export interface ResourceRecord<D = Record<string, unknown>> {
  readonly id: string;
  readonly kind: string;
  readonly project: string;
  readonly revision: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly doc: D;
}

export interface Row {
  id: string;
  kind: string;
  project_id: string;
  revision: bigint;
  created_at: Date;
  updated_at: Date;
  doc: Record<string, unknown>;
}

export function toRecord<D>(r: Row): ResourceRecord<D> {
  return { id: r.id, kind: r.kind, project: r.project_id, revision: Number(r.revision), createdAt: r.created_at, updatedAt: r.updated_at, doc: r.doc as D };
}

/** Who may see a row: the policy's `maySee`, as SQL. A hidden row answers exactly like a missing one. */
const visibility = (ctx: Context, alias = 'r') => resourceVisibilitySql(ctx.services.sql, ctx.caller, alias);

/** The read-model row an aggregate kind computes, as resolvers see it. */
export function fromResourceRow(r: ResourceRow): ResourceRecord {
  return { id: r.id, kind: r.kind, project: r.project, revision: r.revision, createdAt: new Date(r.createdAt), updatedAt: new Date(r.updatedAt), doc: r.doc as Record<string, unknown> };
}

export async function loadResource<D>(ctx: Context, kind: string, id: string): Promise<ResourceRecord<D> | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  const sql = ctx.services.sql;
  const [row] = await sql<Row[]>`select id, kind, project_id, revision, created_at, updated_at, doc from rm_resources r
    where r.id = ${id} and r.kind = ${kind} and ${visibility(ctx)}`;
  return row ? toRecord<D>(row) : null;
}

/** Loads many by id in one query, answering in the order asked (null where not visible). */
export async function loadResources<D>(ctx: Context, kind: string, ids: readonly string[]): Promise<(ResourceRecord<D> | null)[]> {
  const valid = ids.filter((id) => /^[0-9a-f-]{36}$/i.test(id));
  if (valid.length === 0) return ids.map(() => null);
  const sql = ctx.services.sql;
  const rows = await sql<Row[]>`select id, kind, project_id, revision, created_at, updated_at, doc from rm_resources r
    where r.id = any(${valid}::uuid[]) and r.kind = ${kind} and ${visibility(ctx)}`;
  const byId = new Map(rows.map((r) => [r.id, toRecord<D>(r)]));
  return ids.map((id) => byId.get(id) ?? null);
}

/** Batches the loads made while resolving one request into one query per kind. */
export function resourceLoader<D>(ctx: Context, kind: string): DataLoader<string, ResourceRecord<D> | null> {
  const key = `loader:${kind}`;
  let loader = ctx.memo.get(key) as DataLoader<string, ResourceRecord<D> | null> | undefined;
  if (!loader) {
    loader = new DataLoader((ids: readonly string[]) => loadResources<D>(ctx, kind, ids));
    ctx.memo.set(key, loader);
  }
  return loader;
}

export interface ListArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
  filter?: {
    name?: string | null;
    projectId?: string | null;
    tags?: readonly string[] | null;
    networkId?: string | null;
  } | null;
  /** Extra `doc` equality filters: resource-specific keys such as deviceId. */
  docFilter?: Record<string, string | number | boolean | null | undefined>;
  /** `doc` array keys that must hold the value (a pool's listenerIds). */
  docContains?: Record<string, string | undefined>;
}

const MAX_PAGE = 1000;

function encodeListCursor(r: Row): string {
  return Buffer.from(`${r.created_at.toISOString()}|${r.id}`).toString('base64url');
}

/** An edge of a list; its cursor is encoded only when asked for, which a page of 1,000 seldom is. */
class ListEdge<D> {
  constructor(
    private readonly row: Row,
    readonly node: ResourceRecord<D>,
  ) {}
  get cursor(): string {
    return encodeListCursor(this.row);
  }
}
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A cursor this list gave out, or a typed error: a garbage cursor must not read as "from the start". */
function decodeListCursor(c: string, arg: 'after' | 'before'): [string, string] {
  const raw = Buffer.from(c, 'base64url').toString();
  const i = raw.indexOf('|');
  if (i < 0 || Number.isNaN(Date.parse(raw.slice(0, i))) || !UUID.test(raw.slice(i + 1)))
    throw createGraphQLError(`${arg}: '${c}' is not a cursor of this list.`, { extensions: { code: 'InvalidCursor', field: [arg] } });
  return [raw.slice(0, i), raw.slice(i + 1)];
}

/** Relay's first/last: a count of edges, so never negative. */
function pageSize(value: number | null | undefined, arg: 'first' | 'last'): number {
  if (value == null) return 100;
  if (value < 0)
    throw createGraphQLError(`${arg} must not be negative (got ${value}).`, { extensions: { code: 'InputValidationError', field: [arg] } });
  return Math.min(value, MAX_PAGE);
}

/** A Relay connection over one kind, keyset-paginated on (createdAt, id), with totalCount. */
export async function listResources<D>(ctx: Context, kind: string, args: ListArgs) {
  const sql = ctx.services.sql;
  const f = args.filter ?? {};
  const conds = [sql`r.kind = ${kind}`, visibility(ctx)];
  if (f.name != null) conds.push(sql`r.name = ${f.name}`);
  if (f.projectId != null) conds.push(sql`r.project_id = ${f.projectId}`);
  if (f.tags != null && f.tags.length > 0) conds.push(sql`r.tags @> ${[...f.tags]}::text[]`);
  if (f.networkId != null) conds.push(/^[0-9a-f-]{36}$/i.test(f.networkId) ? sql`r.network_id = ${f.networkId}` : sql`false`);
  for (const [k, v] of Object.entries(args.docFilter ?? {})) {
    if (v === undefined) continue;
    conds.push(v === null ? sql`r.doc->${k} = 'null'::jsonb` : sql`r.doc->${k} = ${sql.json(v)}::jsonb`);
  }
  for (const [k, v] of Object.entries(args.docContains ?? {})) {
    if (v !== undefined) conds.push(sql`r.doc->${k} @> ${sql.json([v])}::jsonb`);
  }
  const where = conds.reduce((acc, c, i) => (i === 0 ? c : sql`${acc} and ${c}`));
  const backwards = args.last != null && args.first == null;
  // Every argument given is checked, also the one the direction does not use.
  const sizes = { first: pageSize(args.first, 'first'), last: pageSize(args.last, 'last') };
  const cursors = {
    after: args.after ? decodeListCursor(args.after, 'after') : null,
    before: args.before ? decodeListCursor(args.before, 'before') : null,
  };
  const size = backwards ? sizes.last : sizes.first;
  const at = backwards ? cursors.before : cursors.after;
  const page = at
    ? backwards
      ? sql`and (r.created_at, r.id) < (${at[0]}::timestamptz, ${at[1]}::uuid)`
      : sql`and (r.created_at, r.id) > (${at[0]}::timestamptz, ${at[1]}::uuid)`
    : sql``;
  const order = backwards ? sql`order by r.created_at desc, r.id desc` : sql`order by r.created_at, r.id`;
  const [rows, [count]] = await Promise.all([
    sql<Row[]>`select id, kind, project_id, revision, created_at, updated_at, doc from rm_resources r where ${where} ${page} ${order} limit ${size + 1}`,
    sql<{ n: bigint }[]>`select count(*) as n from rm_resources r where ${where}`,
  ]);
  const more = rows.length > size;
  const slice = rows.slice(0, size);
  if (backwards) slice.reverse();
  return {
    totalCount: Number(count!.n),
    edges: slice.map((r) => new ListEdge(r, toRecord<D>(r))),
    pageInfo: {
      hasNextPage: backwards ? false : more,
      hasPreviousPage: backwards ? more : Boolean(at),
      startCursor: slice[0] ? encodeListCursor(slice[0]) : null,
      endCursor: slice[slice.length - 1] ? encodeListCursor(slice[slice.length - 1]!) : null,
    },
  };
}

/**
 * The connection options that add totalCount, which listResources counts under the same filter.
 * Pothos types a connection's parent as edges and pageInfo only, hence the one cast.
 */
export const withTotalCount = {
  description: 'A page of a list (Relay connection), with the number of items the filter matches.',
  fields: <P>(c: PothosSchemaTypes.ObjectFieldBuilder<Types, P>) => ({
    totalCount: c.int({ description: 'How many items the filter matches, on all pages.', resolve: (p) => (p as unknown as { totalCount: number }).totalCount }),
  }),
};

/** Accepts either a Relay global id of `typename` or a plain uuid. */
export function parseId(value: string, typename: string): string {
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) return value.toLowerCase();
  try {
    const g = decodeGlobalID(value);
    if (g.typename === typename) return g.id;
  } catch {}
  return value;
}

export const ResourceFilter = builder.inputType('ResourceFilter', {
  description: 'Fields every resource list filters on; each given one must match.',
  fields: (t) => ({
    name: t.string({ required: false, description: 'Resources with exactly this name.' }),
    projectId: t.string({ required: false, description: 'Resources owned by this project (an admin sees every project; others only what they may see).' }),
    tags: t.stringList({ required: false, description: 'Resources carrying all of these tags.' }),
    networkId: t.string({ required: false, description: 'Resources on this network (uuid or global id).' }),
  }),
});
