import type { EventFilter } from '../../audit/event-filter.js';
import { queryEvents } from '../../audit/event-query.js';
import type { OwnedEvent } from '../../audit/visibility.js';
import { streamType } from '../../store/event-store.js';
import type { EventMetadata } from '../../store/types.js';
import { eventFeed } from '../subscriptions/event-feed.js';
import type { CutOff } from '../subscriptions/messages.js';
import { resourceChanges, statusChanges, type ResourceChange, type StatusChange } from '../subscriptions/resource-changes.js';
import { builder } from './builder.js';
import { HaState } from './enums.js';

/** Data fields no reader needs, whoever they are. */
const REDACTED: Readonly<Record<string, readonly string[]>> = { TokenIssued: ['secretHash'] };

export function publicData(type: string, data: unknown): unknown {
  const drop = REDACTED[type];
  if (!drop || !data || typeof data !== 'object') return data;
  return Object.fromEntries(Object.entries(data as Record<string, unknown>).filter(([k]) => !drop.includes(k)));
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export const EventMetadataRef = builder.objectRef<EventMetadata>('EventMetadata').implement({
  description: 'Who made a change, under which request, and why.',
  fields: (t) => ({
    actor: t.string({ nullable: true, description: 'Token id of the caller (or `system`, `agent`).', resolve: (m) => str(m.actor) }),
    tokenName: t.string({ nullable: true, description: 'Name of the caller\'s token, when it has one.', resolve: (m) => str(m.tokenName) }),
    project: t.string({ nullable: true, description: 'The project the caller acted under.', resolve: (m) => str(m.project) }),
    requestId: t.string({ nullable: true, description: 'The id of the API request that made the change (one per HTTP request).', resolve: (m) => str(m.requestId) }),
    correlationId: t.string({ nullable: true, description: 'Ties the changes of one piece of work together: the X-Correlation-Id header the caller sent, else the request id.', resolve: (m) => str(m.correlationId) }),
    causationId: t.string({ nullable: true, description: 'The id of what caused the change (an earlier event), when it was made in reaction to one.', resolve: (m) => str(m.causationId) }),
    raw: t.field({ type: 'JSON', description: 'Every metadata field as recorded.', resolve: (m) => m }),
  }),
});

export const LogEventRef = builder.objectRef<OwnedEvent>('LogEvent').implement({
  description: 'One event of the log, with its cursor: pass the cursor as `after` to continue from it.',
  isTypeOf: (v) => typeof v === 'object' && v !== null && 'event' in v && 'owner' in v,
  fields: (t) => ({
    cursor: t.string({ description: 'Its position in the global log: pass as `after` to continue after it.', resolve: (e) => e.event.cursor }),
    id: t.string({ description: 'The event id.', resolve: (e) => e.event.id }),
    type: t.string({ description: 'The event type, such as NetworkCreated or PortUpdated.', resolve: (e) => e.event.type }),
    streamId: t.string({ description: 'The stream it belongs to: `<resourceType>-<resource uuid>`.', resolve: (e) => e.event.streamId }),
    streamVersion: t.int({ description: 'The resource revision this event made.', resolve: (e) => e.event.streamVersion }),
    schemaVersion: t.int({ description: 'Version of the shape of `data` for this event type (older events are upcast when read).', resolve: (e) => e.event.schemaVersion }),
    resourceType: t.string({ description: 'The stream type: network, port, loadbalancer, project, ...', resolve: (e) => streamType(e.event.streamId) }),
    resourceId: t.string({ description: "The stream's resource id.", resolve: (e) => e.event.streamId.slice(e.event.streamId.indexOf('-') + 1) }),
    projectId: t.string({ nullable: true, description: 'The project that owns the stream.', resolve: (e) => e.owner.project }),
    recordedAt: t.field({ type: 'DateTime', description: 'When the event was appended to the log.', resolve: (e) => e.event.recordedAt }),
    data: t.field({ type: 'JSON', description: 'The event payload, as recorded (secrets left out).', resolve: (e) => publicData(e.event.type, e.event.data) }),
    metadata: t.field({ type: EventMetadataRef, description: 'Who made the change, under which request.', resolve: (e) => e.event.metadata }),
  }),
});

export const CutOffRef = builder.objectRef<CutOff>('SubscriptionCutOff').implement({
  description: 'The last message of a subscription the server ends: LAGGED (the consumer fell too far behind) or ENDED (e.g. the token was revoked). Resubscribe with `after: lastCursor`.',
  isTypeOf: (v) => (v as CutOff).__typename === 'SubscriptionCutOff',
  fields: (t) => ({
    reason: t.string({ description: 'LAGGED (the consumer fell too far behind) or ENDED (the server ended it, e.g. the token was revoked).', resolve: (c) => c.reason }),
    lastCursor: t.string({ nullable: true, description: 'Everything up to here was delivered: resubscribe with `after: lastCursor`.', resolve: (c) => c.cursor }),
    message: t.exposeString('message', { description: 'Why the subscription ended, in words.' }),
  }),
});

export const EventFilterInput = builder.inputType('EventFilter', {
  description: 'Which events to return; each given field must match, and a list matches any of its values.',
  fields: (t) => ({
    resourceTypes: t.stringList({ required: false, description: 'Stream types: network, subnet, port, router, floatingip, securitygroup, loadbalancer, project.' }),
    eventTypes: t.stringList({ required: false, description: 'Event types, such as NetworkCreated or PortUpdated.' }),
    resourceId: t.string({ required: false, description: "A resource's events (a load balancer child: its load balancer's events naming it)." }),
    streamId: t.string({ required: false, description: 'One stream: `<resourceType>-<resource uuid>`.' }),
    projectId: t.string({ required: false, description: 'Events of resources this project owns or that it made (admin; others see their own project only).' }),
    actor: t.string({ required: false, description: 'Token id or token name.' }),
    correlationId: t.string({ required: false, description: 'Events of one piece of work (the X-Correlation-Id a caller sent).' }),
    requestId: t.string({ required: false, description: 'Events made by one API request.' }),
    from: t.field({ type: 'DateTime', required: false, description: 'Recorded at or after.' }),
    to: t.field({ type: 'DateTime', required: false, description: 'Recorded at or before.' }),
  }),
});

type FilterArg = {
  resourceTypes?: string[] | null; eventTypes?: string[] | null; resourceId?: string | null; streamId?: string | null; projectId?: string | null;
  actor?: string | null; correlationId?: string | null; requestId?: string | null; from?: string | null; to?: string | null;
} | null | undefined;

export function toEventFilter(f: FilterArg): EventFilter {
  if (!f) return {};
  return { ...f, from: f.from ? new Date(f.from) : null, to: f.to ? new Date(f.to) : null };
}

builder.queryFields((t) => ({
  events: t.connection({
    type: LogEventRef,
    description: 'The audit log in its global order: every change you may see, with who made it and why. Cursors are log cursors.',
    args: { filter: t.arg({ type: EventFilterInput, required: false, description: 'Only the events that match all of its fields; null: all you may see.' }) },
    resolve: async (_r, args, ctx) => {
      const page = await queryEvents(ctx.services, ctx.caller, toEventFilter(args.filter), args);
      return {
        edges: page.events.map((e) => ({ cursor: e.event.cursor, node: e })),
        pageInfo: {
          hasNextPage: page.hasNextPage,
          hasPreviousPage: page.hasPreviousPage,
          startCursor: page.events[0]?.event.cursor ?? null,
          endCursor: page.events[page.events.length - 1]?.event.cursor ?? null,
        },
      };
    },
  }),
}));

const EventsMessage = builder.unionType('EventsMessage', {
  description: 'A message of the events subscription: an event, or the SubscriptionCutOff that ends it.',
  types: [LogEventRef, CutOffRef],
  resolveType: (v) => ((v as CutOff).__typename === 'SubscriptionCutOff' ? 'SubscriptionCutOff' : 'LogEvent'),
});

const NodeRef = builder.nodeInterfaceRef();

const ResourceChangeRef = builder.objectRef<ResourceChange>('ResourceChange').implement({
  description: 'A resource as the read model holds it after a change (null `resource` once deleted).',
  isTypeOf: (v) => (v as ResourceChange).__typename === 'ResourceChange',
  fields: (t) => ({
    cursor: t.exposeString('cursor', { description: 'Log cursor of the event that made the change: pass as `after` to resume after it.' }),
    eventId: t.exposeString('eventId', { description: 'The id of the event that made the change.' }),
    eventType: t.exposeString('eventType', { description: 'The type of that event, such as PortUpdated.' }),
    kind: t.exposeString('kind', { description: 'The resource kind: network, subnet, port, router, loadbalancer, listener, ...' }),
    uuid: t.exposeString('id', { description: 'The resource uuid.' }),
    deleted: t.exposeBoolean('deleted', { description: 'True when this change deleted the resource.' }),
    revision: t.int({ nullable: true, description: 'Its revision after the change; null once deleted.', resolve: (c) => c.record?.revision ?? null }),
    state: t.field({ type: 'JSON', nullable: true, description: 'The resource document.', resolve: (c) => c.record?.doc ?? null }),
    resource: t.field({ type: NodeRef, nullable: true, description: 'The resource through its usual type, as it was right after the change; null once deleted.', resolve: (c) => c.record }),
  }),
});

const HaStateOfHost = builder.objectRef<{ host: string; haState: string }>('HaStateOfHost').implement({
  description: "One host's VRRP state of an HA router, as reported.",
  fields: (t) => ({
    host: t.exposeString('host', { description: 'The host name, as its L3 agent registered it.' }),
    haState: t.field({ type: HaState, description: 'active, standby or unknown, as the host reported it.', resolve: (s) => s.haState }),
  }),
});

const ResourceStatusRef = builder.objectRef<StatusChange>('ResourceStatus').implement({
  description: 'A status as the dataplane reports it: port and floating IP `status`, load balancer provisioning and operating statuses.',
  isTypeOf: (v) => (v as StatusChange).__typename === 'ResourceStatus',
  fields: (t) => ({
    cursor: t.exposeString('cursor', { description: 'Log cursor of the event that changed the status.' }),
    kind: t.exposeString('kind', { description: 'The resource kind: port, floatingip, router, loadbalancer, listener, pool, member, ...' }),
    uuid: t.exposeString('id', { description: 'The resource uuid.' }),
    status: t.exposeString('status', { nullable: true, description: 'The `status` of a port, floating IP, router, firewall group, ... (ACTIVE, DOWN, ERROR, ...); null for kinds without one or once deleted.' }),
    statusReason: t.exposeString('statusReason', { nullable: true, description: 'Why it is ERROR, as the agent reported it; null otherwise.' }),
    provisioningStatus: t.exposeString('provisioningStatus', { nullable: true, description: 'Load balancer objects: ACTIVE, PENDING_CREATE, PENDING_UPDATE, PENDING_DELETE, DELETED or ERROR; null for other kinds.' }),
    operatingStatus: t.exposeString('operatingStatus', { nullable: true, description: 'Load balancer objects: ONLINE, OFFLINE, DEGRADED, ERROR, NO_MONITOR or DRAINING; null for other kinds.' }),
    haStates: t.field({
      type: [HaStateOfHost],
      nullable: true,
      description: "HA routers: each host's VRRP state as reported (active/standby), streamed as transitions happen.",
      resolve: (c) => (c.haStates ? [...c.haStates] : null),
    }),
  }),
});

const ResourceChangeMessage = builder.unionType('ResourceChangeMessage', {
  description: 'A message of the resourceChanged subscription: a change, or the SubscriptionCutOff that ends it.',
  types: [ResourceChangeRef, CutOffRef],
  resolveType: (v) => (v as { __typename: string }).__typename,
});
const ResourceStatusMessage = builder.unionType('ResourceStatusMessage', {
  description: 'A message of the statusChanged subscription: a status change, or the SubscriptionCutOff that ends it.',
  types: [ResourceStatusRef, CutOffRef],
  resolveType: (v) => (v as { __typename: string }).__typename,
});

builder.subscriptionFields((t) => ({
  events: t.field({
    type: EventsMessage,
    description: 'Every event you may see: replayed from the log after `after`, then live, with no gap and no duplicate. A consumer that falls too far behind gets a SubscriptionCutOff with the cursor to resume from.',
    args: { after: t.arg.string({ required: false, description: 'A log cursor: replay the events after it, then go live; null: live events only.' }), filter: t.arg({ type: EventFilterInput, required: false, description: 'Only the events that match all of its fields; null: all you may see.' }) },
    subscribe: (_r, args, ctx) => eventFeed(ctx, { after: args.after, filter: toEventFilter(args.filter) }),
    resolve: (m) => m,
  }),
  resourceChanged: t.field({
    type: ResourceChangeMessage,
    description: 'Resources of these kinds (network, port, loadbalancer, listener, ...) and/or ids, with their new state after each change.',
    args: { kinds: t.arg.stringList({ required: false, description: 'Resource kinds to follow (network, port, loadbalancer, ...); null or []: every kind.' }), ids: t.arg.stringList({ required: false, description: 'Resources to follow (uuids or global ids); null or []: every resource of the kinds.' }), after: t.arg.string({ required: false, description: 'A log cursor: replay the changes after it, then go live; null: live changes only.' }) },
    subscribe: (_r, args, ctx) => resourceChanges(ctx, args),
    resolve: (m) => m,
  }),
  statusChanged: t.field({
    type: ResourceStatusMessage,
    description: 'Status changes of ports, floating IPs, routers and load balancer objects (all of these kinds unless `kinds` narrows them).',
    args: { kinds: t.arg.stringList({ required: false, description: 'Resource kinds to follow (port, floatingip, router, loadbalancer, ...); null or []: every kind that has a status.' }), ids: t.arg.stringList({ required: false, description: 'Resources to follow (uuids or global ids); null or []: every resource of the kinds.' }) },
    subscribe: (_r, args, ctx) => statusChanges(ctx, args),
    resolve: (m) => m,
  }),
}));
