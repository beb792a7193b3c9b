import type { ObjectRef } from '@pothos/core';
import type { z } from 'zod';
import type { DomainError } from '../../domain/errors.js';
import type { Context } from '../context.js';
import { builder, type Types } from './builder.js';
import { ALL_ERROR_TYPES, toErrorShape, validationError, type ErrorShape } from './errors.js';
import { inputLimitIssues } from './input-limits.js';
import { zodInputFields } from './zod-input.js';

export type MutationOutcome<S> = { ok: true; value: S; cursor: string | null } | { ok: false; error: DomainError };

interface Success<S> {
  readonly __typename: string;
  readonly value: S;
  readonly cursor: string | null;
}

/**
 * One mutation, the same way every time: a single `input` validated with zod (problems come back
 * as InputValidationError listing each field), a run that answers the result or a domain error,
 * and a payload union of `<Name>Success { <field>, cursor }` and every typed error.
 */
export function defineMutation<I, S>(
  name: string,
  options: {
    description: string;
    /** Validates the input and declares its GraphQL fields (zod-input.ts): inputs are declared once. */
    schema: z.ZodType<I>;
    field: string;
    type: ObjectRef<Types, S> | ObjectRef<Types, S & object>;
    nullableResult?: boolean;
    run: (input: I, ctx: Context) => Promise<MutationOutcome<S>>;
  },
) {
  const cap = name.charAt(0).toUpperCase() + name.slice(1);
  const Input = builder.inputType(`${cap}Input`, { fields: zodInputFields(options.schema) });
  const SuccessRef = builder.objectRef<Success<S>>(`${cap}Success`).implement({
    isTypeOf: (v) => (v as Success<S>).__typename === `${cap}Success`,
    fields: (t) => ({
      [options.field]: t.field({ type: options.type, nullable: options.nullableResult ?? false, resolve: (s) => s.value as never }),
      cursor: t.string({ nullable: true, description: 'Log cursor of the change: pass it to waitForApplied or a subscription `after`.', resolve: (s) => s.cursor }),
    }),
  });
  const Payload = builder.unionType(`${cap}Payload`, {
    types: [SuccessRef, ...ALL_ERROR_TYPES],
    resolveType: (v) => (v as { __typename: string }).__typename,
  });
  builder.mutationField(name, (t) =>
    t.field({
      description: options.description,
      type: Payload,
      args: { input: t.arg({ type: Input, required: true }) },
      resolve: async (_root, args, ctx): Promise<Success<S> | ErrorShape> => {
        const limits = inputLimitIssues(args.input);
        if (limits.length > 0) return validationError(limits.map((i) => ({ path: [...i.path], message: i.message })));
        const parsed = options.schema.safeParse(args.input);
        if (!parsed.success) return validationError(parsed.error.issues);
        const out = await options.run(parsed.data, ctx);
        if (!out.ok) return toErrorShape(out.error);
        return { __typename: `${cap}Success`, value: out.value, cursor: out.cursor };
      },
    }),
  );
}

export type { ErrorShape };
