import type { Decision } from '../decider.js';
import type * as C from './commands.js';
import type { LoadBalancerEvent, LoadBalancerEventOf } from './events.js';
import { domainError } from '../errors.js';
import type { SessionPersistence } from './model.js';
import { idInUse, isLive, livePoolMembers, livePoolMonitor, liveValues, type LoadBalancerState } from './state.js';
import { descriptiveValid, firstError, protocolsCompatible, revisionMatches, sessionPersistenceValid } from './validation.js';
import { changesOf, idAlreadyExists, isEmpty, isError, listener, pool, sameAs } from './decide-lookups.js';

type E = LoadBalancerEvent;

function normalizedPersistence(
  sp: SessionPersistence | null | undefined,
): { type: SessionPersistence['type']; cookieName: string | null } | null | undefined {
  return sp ? { type: sp.type, cookieName: sp.cookieName ?? null } : sp;
}

export function createPool(c: C.CreatePool, state: LoadBalancerState): Decision<E> {
  const data: LoadBalancerEventOf<'PoolCreated'>['data'] = {
    poolId: c.poolId,
    listenerId: c.listenerId ?? null,
    protocol: c.protocol,
    name: c.name ?? '',
    description: c.description ?? '',
    tags: [...(c.tags ?? [])],
    adminStateUp: c.adminStateUp ?? true,
    lbAlgorithm: c.lbAlgorithm,
    sessionPersistence: normalizedPersistence(c.sessionPersistence) ?? null,
    createdAt: c.now,
  };
  const existing = state.pools[c.poolId];
  if (existing) {
    const attached = c.listenerId ? state.listeners[c.listenerId]?.defaultPoolId === c.poolId : true;
    return isLive(existing) && attached && sameAs(existing, data, ['createdAt', 'poolId', 'listenerId']) ? [] : idAlreadyExists(c.poolId);
  }
  if (idInUse(state, c.poolId)) return idAlreadyExists(c.poolId);
  const error = firstError(
    () => descriptiveValid(c),
    () => sessionPersistenceValid(c.sessionPersistence, c.protocol),
    () => {
      if (!c.listenerId) return null;
      const l = listener(state, c.listenerId);
      if (isError(l)) return l;
      if (l.defaultPoolId !== null) {
        return domainError('DuplicatePoolEntry', 'This listener already has a default pool', {
          field: ['listenerId'],
          details: { listenerId: l.id, poolId: l.defaultPoolId },
        });
      }
      return protocolsCompatible(l.protocol, c.protocol);
    },
  );
  return error ?? [{ type: 'PoolCreated', data }];
}

export function updatePool(c: C.UpdatePool, state: LoadBalancerState): Decision<E> {
  const p = pool(state, c.poolId);
  if (isError(p)) return p;
  const error = firstError(
    () => revisionMatches(c.expectedRevision, p.revision),
    () => descriptiveValid(c),
    () => sessionPersistenceValid(c.sessionPersistence, p.protocol),
  );
  if (error) return error;
  const changes = changesOf(
    {
      name: p.name,
      description: p.description,
      tags: [...p.tags],
      adminStateUp: p.adminStateUp,
      lbAlgorithm: p.lbAlgorithm,
      sessionPersistence: p.sessionPersistence,
    },
    {
      name: c.name,
      description: c.description,
      tags: c.tags ? [...c.tags] : undefined,
      adminStateUp: c.adminStateUp,
      lbAlgorithm: c.lbAlgorithm,
      sessionPersistence: normalizedPersistence(c.sessionPersistence),
    },
  );
  return isEmpty(changes) ? [] : [{ type: 'PoolUpdated', data: { poolId: p.id, changes, updatedAt: c.now } }];
}

/**
 * Octavia lets a default pool be deleted: the listener's default_pool_id becomes null (the
 * frontend then answers 503) rather than the delete being refused. Members and monitor go along.
 */
export function deletePool(c: C.DeletePool, state: LoadBalancerState): Decision<E> {
  const p = pool(state, c.poolId);
  if (isError(p)) return p;
  const revision = revisionMatches(c.expectedRevision, p.revision);
  if (revision) return revision;
  return [
    {
      type: 'PoolDeleted',
      data: {
        poolId: p.id,
        memberIds: livePoolMembers(state, p.id).map((m) => m.id),
        healthMonitorId: livePoolMonitor(state, p.id)?.id ?? null,
        clearedDefaultPoolOfListenerIds: liveValues(state.listeners)
          .filter((l) => l.defaultPoolId === p.id)
          .map((l) => l.id),
        deletedAt: c.now,
      },
    },
  ];
}
