import { domainError, type DomainError } from '../errors.js';

/** If-Match on revision_number: a stale expectation fails before anything else is checked. */
export function checkRevision(expected: number | undefined, current: number): DomainError | null {
  if (expected === undefined || expected === current) return null;
  return domainError('RevisionNumberConstraintFailed', `Constrained to ${expected}, but current revision is ${current}`, {
    details: { expected, current },
  });
}
