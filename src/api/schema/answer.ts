import { notFound } from '../../domain/common/index.js';
import { RESOURCE_KINDS, type ResourceKind } from '../../domain/kinds.js';
import type { CommandOutcome } from '../../app/command-runtime.js';
import type { Context } from '../context.js';
import type { MutationOutcome } from './mutation.js';
import { fromResourceRow, loadResource, type ResourceRecord } from './resources.js';
import { isOwnerOrAdmin } from '../../domain/policy/index.js';
import { builder } from './builder.js';

/** After a create or update: the resource as the read model now holds it, with the change's cursor. */
export async function answerResource<D>(ctx: Context, kind: ResourceKind, typename: string, out: CommandOutcome<string>): Promise<MutationOutcome<ResourceRecord<D>>> {
  if (!out.ok) return out;
  const r = await loadResource<D>(ctx, kind, out.result);
  // The kind's own NotFound code (IKEPolicyNotFound), not one spelled from the GraphQL type `typename`.
  const missing = notFound(RESOURCE_KINDS[kind].neutronName, out.result);
  return r ? { ok: true, value: r, cursor: out.cursor } : { ok: false, error: missing };
}

/**
 * After a create: the resource as the command's own events made it, with no read. When those
 * events start its stream, the row they give is exactly the one the command wrote to the read
 * model in its transaction (the same fold, as of the returned cursor). A caller who owns the
 * resource (or an admin) sees it; any other case, and a retried create that appended nothing,
 * reads the read model as answerResource does.
 */
export async function answerCreated<D>(ctx: Context, kind: ResourceKind, typename: string, out: CommandOutcome<string>): Promise<MutationOutcome<ResourceRecord<D>>> {
  if (!out.ok) return out;
  const rows = ctx.services.aggregates.rowsOfNewStream(`${RESOURCE_KINDS[kind].streamType}-${out.result}`, out.events);
  const row = rows?.find((r) => r.kind === kind && r.id === out.result);
  if (!row || !isOwnerOrAdmin(ctx.caller, row)) return answerResource(ctx, kind, typename, out);
  // Through JSON, as the jsonb column would give it back: the same shape readers of the row get.
  const record = fromResourceRow({ ...row, doc: JSON.parse(JSON.stringify(row.doc)) as unknown }) as ResourceRecord<D>;
  return { ok: true, value: record, cursor: out.cursor };
}

export interface Deleted {
  readonly uuid: string;
}

export const DeletedRef = builder.objectRef<Deleted>('Deleted').implement({
  description: 'What a delete answers: the id that is gone.',
  fields: (t) => ({ uuid: t.exposeString('uuid', { description: 'The uuid of the deleted resource.' }) }),
});

export function answerDeleted(out: CommandOutcome<string>): MutationOutcome<Deleted> {
  return out.ok ? { ok: true, value: { uuid: out.result }, cursor: out.cursor } : out;
}
