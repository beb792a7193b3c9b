import { GraphQLError } from 'graphql';
import { matchesFilter, type EventFilter } from '../../audit/event-filter.js';
import { canSee, type OwnedEvent } from '../../audit/visibility.js';
import type { Context } from '../context.js';
import { followerFor } from './followers.js';
import { mapFeed, parseAfter, type CutOff } from './messages.js';
import type { Pushable } from './push.js';

/** A subscription outlives its token's revocation by not one event. */
export function revokes(ctx: Context, e: OwnedEvent): boolean {
  return e.event.type === 'TokenRevoked' && (e.event.data as { tokenId?: string }).tokenId === ctx.caller.tokenId;
}

export function requireCaller(ctx: Context): void {
  if (!ctx.caller.tokenId) throw new GraphQLError('subscriptions need a bearer token', { extensions: { code: 'UNAUTHENTICATED' } });
}

/** Every event the caller may see that matches `filter`: from the log after `after`, then live. */
export function eventFeed(
  ctx: Context,
  args: { after?: string | null; filter?: EventFilter | null; maxBuffer?: number },
): AsyncIterableIterator<OwnedEvent | CutOff> & Pushable<OwnedEvent | CutOff> {
  requireCaller(ctx);
  const filter = args.filter ?? {};
  const feed = followerFor(ctx.services).feed({
    after: parseAfter(args.after),
    ...(args.maxBuffer ? { maxBuffer: args.maxBuffer } : {}),
    judge: (e) => (revokes(ctx, e) ? { end: 'the token was revoked' } : 'deliver'),
    // canSee looks at the caller's project and admin flag only.
    shared: {
      key: JSON.stringify(['events', ctx.caller.projectId, ctx.caller.isAdmin, filter]),
      passes: (e) => canSee(ctx.caller, e) && matchesFilter(filter, e),
    },
  });
  return mapFeed(feed, (e) => [e], { sync: true });
}
