import type { Decision } from '../decider.js';
import type * as C from './commands.js';
import type { LoadBalancerEvent, LoadBalancerEventOf } from './events.js';
import { domainError } from '../errors.js';
import { HEALTH_MONITOR_DEFAULT_MAX_RETRIES_DOWN, HEALTH_MONITOR_HTTP_DEFAULTS } from './model.js';
import { idInUse, isLive, livePoolMonitor, type LoadBalancerState } from './state.js';
import { descriptiveValid, firstError, healthMonitorValid, httpFieldsAllowed, isHttpMonitor, revisionMatches } from './validation.js';
import { changesOf, healthMonitor, idAlreadyExists, isEmpty, isError, pool, sameAs } from './decide-lookups.js';

type E = LoadBalancerEvent;

export function createHealthMonitor(c: C.CreateHealthMonitor, state: LoadBalancerState): Decision<E> {
  const p = pool(state, c.poolId);
  if (isError(p)) return p;
  const fieldsError = httpFieldsAllowed(c.monitorType, c);
  if (fieldsError) return fieldsError;
  const http = isHttpMonitor(c.monitorType);
  const data: LoadBalancerEventOf<'HealthMonitorCreated'>['data'] = {
    healthMonitorId: c.healthMonitorId,
    poolId: p.id,
    monitorType: c.monitorType,
    name: c.name ?? '',
    tags: [...(c.tags ?? [])],
    adminStateUp: c.adminStateUp ?? true,
    delay: c.delay,
    timeout: c.timeout,
    maxRetries: c.maxRetries,
    maxRetriesDown: c.maxRetriesDown ?? HEALTH_MONITOR_DEFAULT_MAX_RETRIES_DOWN,
    httpMethod: http ? (c.httpMethod ?? HEALTH_MONITOR_HTTP_DEFAULTS.httpMethod) : null,
    urlPath: http ? (c.urlPath ?? HEALTH_MONITOR_HTTP_DEFAULTS.urlPath) : null,
    expectedCodes: http ? (c.expectedCodes ?? HEALTH_MONITOR_HTTP_DEFAULTS.expectedCodes) : null,
    createdAt: c.now,
  };
  const existing = state.healthMonitors[c.healthMonitorId];
  if (existing)
    return isLive(existing) && sameAs(existing, data, ['createdAt', 'healthMonitorId']) ? [] : idAlreadyExists(c.healthMonitorId);
  if (idInUse(state, c.healthMonitorId)) return idAlreadyExists(c.healthMonitorId);
  const other = livePoolMonitor(state, p.id);
  if (other) {
    return domainError('DuplicateHealthMonitor', 'This pool already has a health monitor', {
      details: { poolId: p.id, healthMonitorId: other.id },
    });
  }
  const error = firstError(
    () => descriptiveValid(c),
    () => healthMonitorValid(data),
  );
  return error ?? [{ type: 'HealthMonitorCreated', data }];
}

export function updateHealthMonitor(c: C.UpdateHealthMonitor, state: LoadBalancerState): Decision<E> {
  const h = healthMonitor(state, c.healthMonitorId);
  if (isError(h)) return h;
  const { type: _t, loadBalancerId: _lb, healthMonitorId: _h, now: _n, expectedRevision: _r, tags, ...fields } = c;
  const wanted = { ...fields, tags: tags ? [...tags] : undefined };
  const current = {
    name: h.name,
    tags: [...h.tags],
    adminStateUp: h.adminStateUp,
    delay: h.delay,
    timeout: h.timeout,
    maxRetries: h.maxRetries,
    maxRetriesDown: h.maxRetriesDown,
    httpMethod: h.httpMethod,
    urlPath: h.urlPath,
    expectedCodes: h.expectedCodes,
  };
  const changes = changesOf(current, wanted);
  const error = firstError(
    () => revisionMatches(c.expectedRevision, h.revision),
    () => httpFieldsAllowed(h.monitorType, c),
    () => descriptiveValid(c),
    () => healthMonitorValid({ ...h, ...changes }),
  );
  if (error) return error;
  return isEmpty(changes) ? [] : [{ type: 'HealthMonitorUpdated', data: { healthMonitorId: h.id, changes, updatedAt: c.now } }];
}

export function deleteHealthMonitor(c: C.DeleteHealthMonitor, state: LoadBalancerState): Decision<E> {
  const h = healthMonitor(state, c.healthMonitorId);
  if (isError(h)) return h;
  return (
    revisionMatches(c.expectedRevision, h.revision) ?? [{ type: 'HealthMonitorDeleted', data: { healthMonitorId: h.id, deletedAt: c.now } }]
  );
}
