import type { ObjectRef } from '@pothos/core';
import type { z } from 'zod';
import { ERROR_CODES, type DomainError, type ErrorCode } from '../../domain/errors.js';
import { builder, type Types } from './builder.js';
import { MUTATION_ERRORS } from './mutation-errors.js';

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
    code: t.exposeString('code', { description: 'Stable machine-readable code: the name of the error type.' }),
    message: t.exposeString('message', { description: "Human-readable explanation, in Neutron's wording where Neutron has one." }),
  }),
  resolveType: (e) => e.__typename,
});

const FieldIssue = builder.objectRef<{ path: readonly string[]; message: string }>('FieldIssue').implement({
  description: 'One input field that did not validate.',
  fields: (t) => ({
    path: t.exposeStringList('path', { description: 'Path of the offending field inside `input`.' }),
    message: t.exposeString('message', { description: 'What is wrong with it.' }),
  }),
});

export const InputValidationError = builder.objectRef<ErrorShape>('InputValidationError').implement({
  description: 'The input did not validate; nothing was changed.',
  interfaces: [ErrorInterface],
  isTypeOf: (e) => (e as ErrorShape).__typename === 'InputValidationError',
  fields: (t) => ({ issues: t.field({ type: [FieldIssue], description: 'Each field that did not validate, and why.', resolve: (e) => e.issues ?? [] }) }),
});

/**
 * Every domain error code (`ERROR_CODES`, the list `domainError` is typed by) becomes a GraphQL
 * object type of the same name implementing `Error`, so clients can select on the exact failure
 * (`... on IpAddressGenerationFailure`) or on the interface. Each mutation's payload lists the
 * ones its run can answer (mutation-errors.ts, derived from the deciders and the app layer).
 */
export const DomainErrorTypes: ReadonlyMap<ErrorCode, ObjectRef<Types, ErrorShape>> = new Map(
  ERROR_CODES.map((code) => {
    const answeredBy = Object.keys(MUTATION_ERRORS).filter((m) => MUTATION_ERRORS[m]!.includes(code));
    const ref = builder.objectRef<ErrorShape>(code).implement({
      description: `The domain error \`${code}\` (Neutron's exception name where Neutron has one), answered by ${answeredBy.length === 0 ? 'no mutation' : answeredBy.length <= 6 ? answeredBy.join(', ') : `${answeredBy.length} mutations`}.`,
      interfaces: [ErrorInterface],
      isTypeOf: (e) => (e as ErrorShape).__typename === code,
      fields: (t) => ({
        field: t.stringList({ nullable: true, description: 'Input field the error is about, when there is one.', resolve: (e) => (e.field ? [...e.field] : null) }),
      }),
    });
    return [code, ref] as const;
  }),
);

export function toErrorShape(e: DomainError): ErrorShape {
  // A malformed field noticed by a decider reads exactly like one the input schema refused.
  if (e.code === 'InputValidationError') return validationError([{ path: [...(e.field ?? [])], message: e.message }]);
  return { __typename: e.code, code: e.code, message: e.message, field: e.field };
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
