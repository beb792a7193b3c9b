import SchemaBuilder from '@pothos/core';
import RelayPlugin from '@pothos/plugin-relay';
import type { Context } from '../context.js';

export const builder = new SchemaBuilder<{
  Context: Context;
  Scalars: {
    DateTime: { Input: string; Output: string | Date };
    JSON: { Input: unknown; Output: unknown };
  };
  DefaultFieldNullability: false;
}>({
  plugins: [RelayPlugin],
  defaultFieldNullability: false,
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    // Relay's generated types and fields, described once here.
    nodeTypeOptions: { description: 'A resource that can be fetched by its global id (Relay).' },
    idFieldOptions: { description: 'Global id (Relay): pass it to `node`, or use `uuid` for the plain id.' },
    nodeQueryOptions: { description: 'The resource with this global id, if the caller may see it.', args: { id: { description: 'A global id.' } } },
    nodesQueryOptions: { description: 'The resources with these global ids, each null if the caller may not see it.', args: { ids: { description: 'Global ids.' } } },
    pageInfoTypeOptions: { description: 'Where a page sits in the whole list (Relay).' },
    hasNextPageFieldOptions: { description: 'More items follow this page.' },
    hasPreviousPageFieldOptions: { description: 'Items precede this page.' },
    startCursorFieldOptions: { description: 'Cursor of the first item of the page.' },
    endCursorFieldOptions: { description: 'Cursor of the last item of the page: pass it as `after` for the next page.' },
    defaultConnectionTypeOptions: { description: 'A page of a list (Relay connection).' },
    defaultEdgeTypeOptions: { description: 'One item of a page, with its cursor.' },
    edgesFieldOptions: { description: 'The items of the page, each with its cursor.' },
    pageInfoFieldOptions: { description: 'Where the page sits in the whole list.' },
    nodeFieldOptions: { description: 'The item.' },
    cursorFieldOptions: { description: 'Opaque position of the item: pass it as `after` or `before`.' },
    firstArgOptions: { description: 'At most this many items after `after` (or from the start).' },
    afterArgOptions: { description: 'Start after the item with this cursor.' },
    lastArgOptions: { description: 'At most this many items before `before` (or from the end).' },
    beforeArgOptions: { description: 'End before the item with this cursor.' },
  },
});

/** The builder's type parameters, for helpers that take one of its field builders. */
export type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

builder.scalarType('DateTime', {
  description: 'An ISO-8601 timestamp with time zone.',
  serialize: (v) => (v instanceof Date ? v.toISOString() : new Date(v).toISOString()),
  parseValue: (v) => {
    if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) throw new TypeError('DateTime must be an ISO-8601 string');
    return v;
  },
});

builder.scalarType('JSON', {
  description: 'Arbitrary JSON.',
  serialize: (v) => v,
  parseValue: (v) => v,
});

builder.queryType({ description: 'Reads: resources (with the caller\'s visibility), the log, and the dataplane.' });
builder.mutationType({ description: 'Writes: each takes one `input` and answers a union of its Success type and the errors it can return.' });
builder.subscriptionType({ description: 'Streams of the log and of status changes, resumable from a cursor.' });
