import { domainError, type DomainError } from '../errors.js';

/*
 * The life of one resource stream, shared by routers, floating IPs and security groups (move to
 * src/domain/common once that exists). `revision` is the stream version: one per event.
 */
export type ResourceState<R> =
  | { readonly status: 'absent' }
  | { readonly status: 'live'; readonly revision: number; readonly resource: R }
  | { readonly status: 'deleted'; readonly revision: number };

export const absent = { status: 'absent' } as const;

export function revisionMismatch(expected: number | undefined, current: number): DomainError | null {
  if (expected === undefined || expected === current) return null;
  return domainError('RevisionNumberConstraintFailed', `Constrained to ${expected}, but current revision is ${current}`, {
    field: ['expectedRevision'],
    details: { expected, current },
  });
}

/** The live resource a non-create command works on, or why there is none to work on. */
export function liveResource<R>(
  state: ResourceState<R>,
  expectedRevision: number | undefined,
  notFound: () => DomainError,
): { readonly resource: R; readonly revision: number } | DomainError {
  if (state.status !== 'live') return notFound();
  return revisionMismatch(expectedRevision, state.revision) ?? state;
}

/**
 * A create on a stream that already holds a resource: nothing happens when it is the same
 * resource (a retried request), a `Conflict` otherwise. Ids of deleted resources are not reused.
 */
export function repeatedCreate<R>(state: Exclude<ResourceState<R>, { status: 'absent' }>, kind: string, id: string, same: (existing: R) => boolean): readonly never[] | DomainError {
  if (state.status === 'live' && same(state.resource)) return [];
  return domainError('Conflict', `${kind} ${id} already exists${state.status === 'deleted' ? ' (deleted)' : ' with different attributes'}`, { field: ['id'] });
}

/** evolve for events after the create: the next revision of the resource. */
export function revise<R>(state: ResourceState<R>, change: (resource: R) => R): ResourceState<R> {
  return state.status === 'live' ? { status: 'live', revision: state.revision + 1, resource: change(state.resource) } : state;
}

export function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
