import { notFound } from '../../domain/common/index.js';
import { RESOURCE_KINDS, type ResourceKind } from '../../domain/kinds.js';
import type { CommandOutcome } from '../../app/command-runtime.js';
import type { Context } from '../context.js';
import type { MutationOutcome } from './mutation.js';
import { loadResource, type ResourceRecord } from './resources.js';
import { builder } from './builder.js';

/** After a create or update: the resource as the read model now holds it, with the change's cursor. */
export async function answerResource<D>(ctx: Context, kind: ResourceKind, typename: string, out: CommandOutcome<string>): Promise<MutationOutcome<ResourceRecord<D>>> {
  if (!out.ok) return out;
  const r = await loadResource<D>(ctx, kind, out.result);
  // The kind's own NotFound code (IKEPolicyNotFound), not one spelled from the GraphQL type `typename`.
  const missing = notFound(RESOURCE_KINDS[kind].neutronName, out.result);
  return r ? { ok: true, value: r, cursor: out.cursor } : { ok: false, error: missing };
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
