import type { ObjectFieldBuilder } from '@pothos/core';
import { builder, type Types } from './builder.js';
import { resourceLoader, type ResourceRecord } from './resources.js';

type Base = { readonly name?: string; readonly description?: string; readonly tags?: readonly string[] };

/** Declared before it is implemented, so resource types can refer to each other. */
export function resourceRef<D>(typename: string) {
  return builder.objectRef<ResourceRecord<D>>(typename);
}

/**
 * Declares a resource type: a Relay node with the fields every resource has, loaded from the read
 * model with the caller's visibility (another project's resource is simply not found).
 */
export function resourceNode<D extends Base>(
  ref: ReturnType<typeof resourceRef<D>>,
  kind: string,
  description: string,
  fields: (t: ObjectFieldBuilder<Types, ResourceRecord<D>>) => Record<string, unknown>,
) {
  builder.node(ref, {
    description,
    id: { resolve: (r) => r.id },
    isTypeOf: (r) => (r as ResourceRecord).kind === kind,
    loadOne: (id, ctx) => resourceLoader<D>(ctx, kind).load(id),
    fields: (t) => ({
      uuid: t.string({ description: 'The plain id, as used in namespace and device names.', resolve: (r) => r.id }),
      projectId: t.string({ description: 'The project (tenant) that owns it.', resolve: (r) => r.project }),
      name: t.string({ description: 'Human-readable name; not unique.', resolve: (r) => r.doc.name ?? '' }),
      description: t.string({ description: 'Free text.', resolve: (r) => r.doc.description ?? '' }),
      tags: t.stringList({ description: "Neutron's tags: free labels for filtering.", resolve: (r) => [...(r.doc.tags ?? [])] }),
      revision: t.int({ description: "Neutron's revision_number: raised by one with every change; subnets and floating IPs start at 0, other resources at 1.", resolve: (r) => r.revision }),
      createdAt: t.field({ type: 'DateTime', description: 'When it was created.', resolve: (r) => r.createdAt }),
      updatedAt: t.field({ type: 'DateTime', description: 'When it last changed.', resolve: (r) => r.updatedAt }),
      ...fields(t),
    }),
  });
  return ref;
}
