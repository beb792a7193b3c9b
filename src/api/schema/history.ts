import { decodeGlobalID } from '@pothos/plugin-relay';
import { GraphQLError } from 'graphql';
import { parseAsOf, resourceAsOf, resourceHistory, type HistoryEntry } from '../../audit/history.js';
import type { FieldChange } from '../../audit/change-summary.js';
import type { ResourceRow } from '../../projections/aggregate-kind.js';
import type { RecordedEvent } from '../../store/types.js';
import { builder } from './builder.js';
import { EventMetadataRef, publicData } from './events.js';
import { fromResourceRow } from './resources.js';

function plainId(value: string): string {
  if (/^[0-9a-f-]{36}$/i.test(value)) return value.toLowerCase();
  try {
    return decodeGlobalID(value).id;
  } catch {
    return value;
  }
}

const asRecord = fromResourceRow;

const FieldChangeRef = builder.objectRef<FieldChange>('FieldChange').implement({
  description: 'One field a change set, with its value before and after.',
  fields: (t) => ({
    field: t.exposeString('field', { description: 'The field of the resource document, such as name or adminStateUp.' }),
    from: t.field({ type: 'JSON', nullable: true, description: 'Its value before the change; null when it had none.', resolve: (c) => c.from }),
    to: t.field({ type: 'JSON', nullable: true, description: 'Its value after the change; null when it has none.', resolve: (c) => c.to }),
  }),
});

const HistoryEntryRef = builder.objectRef<HistoryEntry>('HistoryEntry').implement({
  description: 'One change of a resource.',
  fields: (t) => ({
    cursor: t.string({ description: 'Log cursor of the event: pass as `asOf` to resourceAsOf for the resource right after it.', resolve: (h) => h.event.cursor }),
    eventId: t.string({ description: 'The event id.', resolve: (h) => h.event.id }),
    eventType: t.string({ description: 'The event type, such as PortUpdated.', resolve: (h) => h.event.type }),
    revision: t.int({ description: 'Stream version after this event.', resolve: (h) => h.event.streamVersion }),
    recordedAt: t.field({ type: 'DateTime', description: 'When the event was appended to the log.', resolve: (h) => h.event.recordedAt }),
    metadata: t.field({ type: EventMetadataRef, description: 'Who made the change, under which request.', resolve: (h) => h.event.metadata }),
    summary: t.string({ description: 'E.g. "name: a → b", "created port web-1", "deleted".', resolve: (h) => h.summary }),
    changes: t.field({ type: [FieldChangeRef], description: 'The fields it changed, with before and after values; [] when it changed none.', resolve: (h) => [...h.changes] }),
    data: t.field({ type: 'JSON', description: 'The event payload, as recorded (secrets left out).', resolve: (h) => publicData(h.event.type, h.event.data) }),
  }),
});

interface History {
  id: string;
  kind: string;
  streamId: string;
  entries: HistoryEntry[];
}

const ResourceHistoryRef = builder.objectRef<History>('ResourceHistory').implement({
  description: 'The changes of one resource, oldest first.',
  fields: (t) => ({
    uuid: t.exposeString('id', { description: 'The resource uuid.' }),
    kind: t.exposeString('kind', { description: 'The resource kind: network, subnet, port, router, ...' }),
    streamId: t.exposeString('streamId', { description: "The event stream holding its changes, `<streamType>-<uuid>` (a load balancer child's is its load balancer's)." }),
    entries: t.field({ type: [HistoryEntryRef], description: 'Its changes, oldest first.', resolve: (h) => h.entries }),
  }),
});

interface Snapshot {
  id: string;
  row: ResourceRow | null;
  last: RecordedEvent | null;
}

const NodeRef = builder.nodeInterfaceRef();

const ResourceSnapshotRef = builder.objectRef<Snapshot>('ResourceSnapshot').implement({
  description: 'A resource as it was at a point of the log, folded from its events.',
  fields: (t) => ({
    uuid: t.exposeString('id', { description: 'The resource uuid.' }),
    exists: t.boolean({ description: 'False when it was not yet created or already deleted.', resolve: (s) => s.row !== null }),
    kind: t.string({ nullable: true, description: 'The resource kind; null when it did not exist then.', resolve: (s) => s.row?.kind ?? null }),
    revision: t.int({ nullable: true, description: 'Its revision then; null when it did not exist then.', resolve: (s) => s.row?.revision ?? null }),
    cursor: t.string({ nullable: true, description: 'The last event of the resource at that point.', resolve: (s) => s.last?.cursor ?? null }),
    state: t.field({ type: 'JSON', nullable: true, description: 'The resource document, as the read model held it then.', resolve: (s) => s.row?.doc ?? null }),
    resource: t.field({ type: NodeRef, nullable: true, description: 'The resource then, through its usual type (links to other resources resolve to their current state).', resolve: (s) => (s.row ? asRecord(s.row) : null) }),
  }),
});

builder.queryFields((t) => ({
  history: t.field({
    type: ResourceHistoryRef,
    nullable: true,
    description: "A resource's changes in order, with who made each and what it changed (deleted resources too).",
    args: { id: t.arg.id({ required: true, description: 'The resource: a uuid or a global id.' }) },
    resolve: async (_r, args, ctx) => {
      const id = plainId(String(args.id));
      const h = await resourceHistory(ctx.services, ctx.caller, id);
      return h ? { id, ...h } : null;
    },
  }),
  resourceAsOf: t.field({
    type: ResourceSnapshotRef,
    nullable: true,
    description: 'Time travel: the resource as of a log cursor (after that event) or an ISO time. Null when you may not see it or it never existed.',
    args: { id: t.arg.id({ required: true, description: 'The resource: a uuid or a global id.' }), asOf: t.arg.string({ required: true, description: 'A log cursor (the state right after that event) or an ISO-8601 time.' }) },
    resolve: async (_r, args, ctx) => {
      let asOf;
      try {
        asOf = parseAsOf(args.asOf);
      } catch (e) {
        throw new GraphQLError((e as Error).message, { extensions: { code: 'InvalidCursor' } });
      }
      if (!asOf) throw new GraphQLError('asOf must be a log cursor or an ISO-8601 time', { extensions: { code: 'InvalidInput' } });
      const id = plainId(String(args.id));
      const r = await resourceAsOf(ctx.services, ctx.caller, id, asOf);
      return r ? { id, ...r } : null;
    },
  }),
}));
