import { domainError, type DomainError, type ErrorCode } from '../errors.js';
import {
  isLive,
  type HealthMonitorRecord,
  type ListenerRecord,
  type LoadBalancerState,
  type MemberRecord,
  type PoolRecord,
} from './state.js';

// Lookups and rules every child resource's decisions share.

export function loadBalancerNotFound(id: string): DomainError {
  return domainError('LoadBalancerNotFound', `Load Balancer ${id} could not be found.`, { details: { id } });
}
export function notFound(code: ErrorCode, what: string, id: string): DomainError {
  return domainError(code, `${what} ${id} could not be found.`, { details: { id } });
}
export function listener(state: LoadBalancerState, id: string): ListenerRecord | DomainError {
  const l = state.listeners[id];
  return isLive(l) ? l : notFound('ListenerNotFound', 'Listener', id);
}
export function pool(state: LoadBalancerState, id: string): PoolRecord | DomainError {
  const p = state.pools[id];
  return isLive(p) ? p : notFound('PoolNotFound', 'Pool', id);
}
/** A member is addressed through its pool, as in Octavia's /pools/{pool}/members/{member}. */
export function member(state: LoadBalancerState, poolId: string, id: string): MemberRecord | DomainError {
  const m = state.members[id];
  return isLive(m) && m.poolId === poolId ? m : notFound('MemberNotFound', 'Member', id);
}
export function healthMonitor(state: LoadBalancerState, id: string): HealthMonitorRecord | DomainError {
  const h = state.healthMonitors[id];
  return isLive(h) ? h : notFound('HealthMonitorNotFound', 'Health Monitor', id);
}
export function isError(value: unknown): value is DomainError {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'DomainError';
}
export function idAlreadyExists(id: string): DomainError {
  return domainError('IDAlreadyExists', `Already an entity with that specified id: ${id}.`, { details: { id } });
}

/** True when every field of `data` (except the listed ones) equals the record's. */
export function sameAs(record: object, data: object, except: readonly string[]): boolean {
  const r = record as Record<string, unknown>;
  return Object.entries(data).every(([k, v]) => except.includes(k) || JSON.stringify(r[k]) === JSON.stringify(v));
}

/** The fields of `wanted` that differ from `current`; undefined means "leave as is". */
export function changesOf<T extends object>(current: T, wanted: Partial<T>): Partial<T> {
  const changes: Partial<T> = {};
  for (const key of Object.keys(wanted) as (keyof T)[]) {
    const v = wanted[key];
    if (v !== undefined && JSON.stringify(v) !== JSON.stringify(current[key])) changes[key] = v;
  }
  return changes;
}
export const isEmpty = (o: object): boolean => Object.keys(o).length === 0;
