import type { Decision } from '../decider.js';
import type * as C from './commands.js';
import type { LoadBalancerEvent, LoadBalancerEventOf } from './events.js';
import { domainError } from '../errors.js';
import { LISTENER_DEFAULTS } from './model.js';
import { idInUse, isLive, liveValues, type ListenerRecord, type LoadBalancerState } from './state.js';
import {
  connectionLimitValid,
  descriptiveValid,
  firstError,
  portValid,
  protocolsCompatible,
  revisionMatches,
  timeoutsValid,
  type Check,
} from './validation.js';
import { changesOf, idAlreadyExists, isEmpty, isError, listener, pool, sameAs } from './decide-lookups.js';

type E = LoadBalancerEvent;

function duplicateListener(state: LoadBalancerState, protocolPort: number): Check {
  const taken = liveValues(state.listeners).find((l) => l.protocolPort === protocolPort);
  return taken
    ? domainError('DuplicateListenerEntry', `Another Listener on this Load Balancer is already using protocol_port ${protocolPort}`, {
        field: ['protocolPort'],
        details: { listenerId: taken.id, protocolPort },
      })
    : null;
}

/** A default pool must live in this load balancer and speak a protocol the listener can front. */
function defaultPoolUsable(state: LoadBalancerState, l: Pick<ListenerRecord, 'protocol'>, poolId: string | null | undefined): Check {
  if (!poolId) return null;
  const p = pool(state, poolId);
  return isError(p) ? p : protocolsCompatible(l.protocol, p.protocol);
}

export function createListener(c: C.CreateListener, state: LoadBalancerState): Decision<E> {
  const data: LoadBalancerEventOf<'ListenerCreated'>['data'] = {
    listenerId: c.listenerId,
    protocol: c.protocol,
    protocolPort: c.protocolPort,
    name: c.name ?? '',
    description: c.description ?? '',
    tags: [...(c.tags ?? [])],
    adminStateUp: c.adminStateUp ?? true,
    connectionLimit: c.connectionLimit ?? LISTENER_DEFAULTS.connectionLimit,
    timeoutClientData: c.timeoutClientData ?? LISTENER_DEFAULTS.timeoutClientData,
    timeoutMemberConnect: c.timeoutMemberConnect ?? LISTENER_DEFAULTS.timeoutMemberConnect,
    timeoutMemberData: c.timeoutMemberData ?? LISTENER_DEFAULTS.timeoutMemberData,
    timeoutTcpInspect: c.timeoutTcpInspect ?? LISTENER_DEFAULTS.timeoutTcpInspect,
    defaultPoolId: c.defaultPoolId ?? null,
    createdAt: c.now,
  };
  const existing = state.listeners[c.listenerId];
  if (existing) return isLive(existing) && sameAs(existing, data, ['createdAt', 'listenerId']) ? [] : idAlreadyExists(c.listenerId);
  if (idInUse(state, c.listenerId)) return idAlreadyExists(c.listenerId);
  const error = firstError(
    () => descriptiveValid(c),
    () => portValid('protocolPort', c.protocolPort),
    () => connectionLimitValid(c.connectionLimit),
    () => timeoutsValid(c),
    () => duplicateListener(state, c.protocolPort),
    () => defaultPoolUsable(state, c, c.defaultPoolId),
  );
  return error ?? [{ type: 'ListenerCreated', data }];
}

export function updateListener(c: C.UpdateListener, state: LoadBalancerState): Decision<E> {
  const l = listener(state, c.listenerId);
  if (isError(l)) return l;
  const error = firstError(
    () => revisionMatches(c.expectedRevision, l.revision),
    () => descriptiveValid(c),
    () => connectionLimitValid(c.connectionLimit),
    () => timeoutsValid(c),
    () => (c.defaultPoolId !== l.defaultPoolId ? defaultPoolUsable(state, l, c.defaultPoolId) : null),
  );
  if (error) return error;
  const { type: _t, loadBalancerId: _lb, listenerId: _l, now: _n, expectedRevision: _r, tags, ...fields } = c;
  const changes = changesOf<Omit<ListenerRecord, 'tags'> & { tags: string[] }>(
    { ...l, tags: [...l.tags] },
    { ...fields, tags: tags ? [...tags] : undefined },
  );
  return isEmpty(changes) ? [] : [{ type: 'ListenerUpdated', data: { listenerId: l.id, changes, updatedAt: c.now } }];
}

export function deleteListener(c: C.DeleteListener, state: LoadBalancerState): Decision<E> {
  const l = listener(state, c.listenerId);
  if (isError(l)) return l;
  return revisionMatches(c.expectedRevision, l.revision) ?? [{ type: 'ListenerDeleted', data: { listenerId: l.id, deletedAt: c.now } }];
}
