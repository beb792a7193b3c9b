import { ERROR_CODES } from './error-codes.js';

export { ERROR_CODES };

/** A code of `ERROR_CODES`. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The resource names N for which `<N>NotFound` is a code (`notFound`), and `<N>AlreadyExists` (`alreadyExists`). */
export type NotFoundKind = ErrorCode extends infer C ? (C extends `${infer K}NotFound` ? K : never) : never;
export type AlreadyExistsKind = ErrorCode extends infer C ? (C extends `${infer K}AlreadyExists` ? K : never) : never;

/** Every code a DomainError carries: a listed one, or the malformed-field marker of `invalidField`. */
export type DomainErrorCode = ErrorCode | 'InputValidationError';

/**
 * Domain errors are values: a stable `code` (Neutron's exception name where Neutron has one),
 * a human message, and optional structured details. Deciders return them instead of throwing so
 * that specs can compare them and the API can map each code to a typed GraphQL error object.
 */
export interface DomainError {
  readonly kind: 'DomainError';
  readonly code: DomainErrorCode;
  readonly message: string;
  /** Input field path the error is about, when there is one. */
  readonly field?: readonly string[];
  readonly details?: Readonly<Record<string, unknown>>;
}

export function domainError(
  code: DomainErrorCode,
  message: string,
  extra: { field?: readonly string[]; details?: Record<string, unknown> } = {},
): DomainError {
  return { kind: 'DomainError', code, message, ...extra };
}

/**
 * A value of one input field that is malformed or out of its range (a MAC, an IP address, a word
 * outside a fixed vocabulary, a port number, an MTU, a monitor delay): the API answers it as
 * `InputValidationError` naming the field, like any input that fails its schema, whichever layer
 * noticed. Relations between resources (overlaps, in-use, policy) keep their Neutron codes.
 */
export function invalidField(field: readonly string[], message: string): DomainError {
  return domainError('InputValidationError', message, { field });
}

export function isDomainError(value: unknown): value is DomainError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'DomainError' &&
    typeof (value as { code?: unknown }).code === 'string'
  );
}

/**
 * Thrown only across I/O boundaries (store, runtime) to unwind a transaction; carries a
 * DomainError so the API layer can surface it as a typed error.
 */
export class DomainFailure extends Error {
  constructor(readonly error: DomainError) {
    super(`${error.code}: ${error.message}`);
    this.name = 'DomainFailure';
  }
}
