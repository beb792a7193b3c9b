import { domainError, type AlreadyExistsKind, type DomainError, type NotFoundKind } from '../errors.js';
import { checkRevision } from './revision.js';

/**
 * The three lives of an aggregate. `revision` is the resource's revision_number: it counts the
 * stream's events, so it equals the stream version, except for the kinds Neutron creates at
 * revision 0 (subnets, floating IPs: `createdAtRevisionZero`), where it is one less.
 */
export type Lifecycle<R> =
  | { readonly status: 'initial'; readonly revision: 0 }
  | { readonly status: 'live'; readonly revision: number; readonly resource: R }
  | { readonly status: 'deleted'; readonly revision: number; readonly id: string };

export function initialLifecycle<R>(): Lifecycle<R> {
  return { status: 'initial', revision: 0 };
}

/** `<Kind>NotFound` with Neutron's wording. */
export function notFound(kind: NotFoundKind, id: string): DomainError {
  const lower = kind.charAt(0).toLowerCase() + kind.slice(1);
  return domainError(`${kind}NotFound`, `${kind} ${id} could not be found.`, { details: { [`${lower}Id`]: id } });
}

/**
 * The live resource an update or delete works on, after the If-Match check; never-created and
 * deleted aggregates both answer NotFound.
 */
export function liveResource<R>(state: Lifecycle<R>, kind: NotFoundKind, id: string, expectedRevision?: number): R | DomainError {
  if (state.status !== 'live') return notFound(kind, id);
  return checkRevision(expectedRevision, state.revision) ?? state.resource;
}

/** A create on an id already in use by a different resource (a retry of the same create emits nothing instead). */
export function alreadyExists(kind: AlreadyExistsKind, id: string): DomainError {
  return domainError(`${kind}AlreadyExists`, `${kind} ${id} already exists.`, { details: { id } });
}

/**
 * Evolve helper: a resource Neutron shows at revision_number 0 right after its create (measured:
 * subnets and floating IPs; networks, ports and routers show 1).
 */
export function createdAtRevisionZero<R>(resource: R): Lifecycle<R> {
  return { status: 'live', revision: 0, resource };
}

/** Evolve helper: the next live state after an event that changed the resource. */
export function revised<R>(state: Lifecycle<R>, resource: R): Lifecycle<R> {
  return { status: 'live', revision: state.revision + 1, resource };
}
