import type { Services } from '../../app/services.js';
import type { LogPosition } from '../../store/cursor.js';
import { LogFollower } from './log-follower.js';

const followers = new WeakMap<Services, LogFollower>();

/** The process's one log follower for these services, started on first use. */
export function followerFor(services: Services): LogFollower {
  let f = followers.get(services);
  if (!f) {
    f = new LogFollower(services.sql, services.store, services.waker, services.log);
    followers.set(services, f);
  }
  return f;
}

/**
 * Stops the follower (ending every subscription) before the services go away; with a `reason`,
 * each subscriber first gets a last message with the cursor to resume from.
 */
export function stopFollower(services: Services, reason?: string): void {
  // It stays in place, stopped: a subscription that arrives after this ends at once instead of
  // starting a new follower on services that are going away.
  followerFor(services).stop(reason);
}

/** Where this process's subscriptions are in the log (null before the first): for metrics, starting nothing. */
export function subscriptionsPosition(services: Services): LogPosition | null {
  return followers.get(services)?.head ?? null;
}

/** Open subscriptions in this process (0 before the first): for metrics, starting nothing. */
export function openSubscriptions(services: Services): number {
  return followers.get(services)?.subscriberCount ?? 0;
}
