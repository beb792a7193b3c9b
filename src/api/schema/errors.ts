import type { z } from 'zod';
import { ERROR_CODES, type DomainError } from '../../domain/errors.js';
import { builder } from './builder.js';

export interface ErrorShape {
  readonly __typename: string;
  readonly code: string;
  readonly message: string;
  readonly field?: readonly string[] | undefined;
  readonly issues?: readonly { path: readonly string[]; message: string }[];
}

export const ErrorInterface = builder.interfaceRef<ErrorShape>('Error').implement({
  description: 'An expected failure of a mutation. `code` is stable; Neutron exception names are used where Neutron has one.',
  fields: (t) => ({
    code: t.exposeString('code'),
    message: t.exposeString('message'),
  }),
  resolveType: (e) => e.__typename,
});

const FieldIssue = builder.objectRef<{ path: readonly string[]; message: string }>('FieldIssue').implement({
  fields: (t) => ({
    path: t.exposeStringList('path', { description: 'Path of the offending field inside `input`.' }),
    message: t.exposeString('message'),
  }),
});

export const InputValidationError = builder.objectRef<ErrorShape>('InputValidationError').implement({
  description: 'The input did not validate; nothing was changed.',
  interfaces: [ErrorInterface],
  isTypeOf: (e) => (e as ErrorShape).__typename === 'InputValidationError',
  fields: (t) => ({ issues: t.field({ type: [FieldIssue], resolve: (e) => e.issues ?? [] }) }),
});

const known = new Set<string>(ERROR_CODES);

/**
 * Every domain error code (`ERROR_CODES`, the list `domainError` is typed by) becomes a GraphQL
 * object type of the same name implementing `Error`, so clients can select on the exact failure
 * (`... on IpAddressGenerationFailure`) or on the interface.
 */
export const DomainErrorTypes = ERROR_CODES.map((code) =>
  builder.objectRef<ErrorShape>(code).implement({
    interfaces: [ErrorInterface],
    isTypeOf: (e) => (e as ErrorShape).__typename === code,
    fields: (t) => ({
      field: t.stringList({ nullable: true, description: 'Input field the error is about, when there is one.', resolve: (e) => (e.field ? [...e.field] : null) }),
    }),
  }),
);

/** Kept for clients that select it; no code reaches it, since `domainError` takes only listed codes. */
export const OtherError = builder.objectRef<ErrorShape>('OtherError').implement({
  interfaces: [ErrorInterface],
  isTypeOf: (e) => (e as ErrorShape).__typename === 'OtherError',
  fields: () => ({}),
});

export const ALL_ERROR_TYPES = [InputValidationError, ...DomainErrorTypes, OtherError];

export function toErrorShape(e: DomainError): ErrorShape {
  // A malformed field noticed by a decider reads exactly like one the input schema refused.
  if (e.code === 'InputValidationError') return validationError([{ path: [...(e.field ?? [])], message: e.message }]);
  return { __typename: known.has(e.code) ? e.code : 'OtherError', code: e.code, message: e.message, field: e.field };
}

export function validationError(issues: readonly Pick<z.core.$ZodIssue, 'path' | 'message'>[]): ErrorShape {
  const list = issues.map((i) => ({ path: i.path.map(String), message: i.message }));
  return {
    __typename: 'InputValidationError',
    code: 'InputValidationError',
    message: `invalid input: ${list.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')}`,
    issues: list,
  };
}
