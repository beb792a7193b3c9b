import type { ObjectRef } from '@pothos/core';
import { GraphQLError } from 'graphql';
import type { z } from 'zod';
import { ERROR_CODES, type DomainError } from '../../domain/errors.js';
import type { Context } from '../context.js';
import { builder, type Types } from './builder.js';
import { DomainErrorTypes, InputValidationError, toErrorShape, validationError, type ErrorShape } from './errors.js';
import { inputLimitIssues } from './input-limits.js';
import { MUTATION_ERRORS } from './mutation-errors.js';
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
 * and a payload union of `<Name>Success { <field>, cursor }`, InputValidationError and the typed
 * errors its run can answer. Those come from MUTATION_ERRORS, which scripts/mutation-errors.ts
 * derives from the code `run` reaches (deciders, app layer, the runtime's vetoes), so the union
 * cannot drift from the domain. A mutation not derived yet (regenerate with `npm run schema`) lists
 * every code. An answer outside the union is a bug in that derivation: it fails loudly, as a
 * GraphQL error naming the code, rather than coming back as an untyped error.
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
  const Input = builder.inputType(`${cap}Input`, {
    description: `The input of ${name}: ${options.description}`,
    fields: zodInputFields(options.schema),
  });
  const SuccessRef = builder.objectRef<Success<S>>(`${cap}Success`).implement({
    description: `${name} succeeded: the ${options.field === 'deleted' ? 'id it removed' : `${options.field} as it is now`}, and the log cursor of the change.`,
    isTypeOf: (v) => (v as Success<S>).__typename === `${cap}Success`,
    fields: (t) => ({
      [options.field]: t.field({
        type: options.type,
        nullable: options.nullableResult ?? false,
        description: options.field === 'deleted' ? 'What was deleted.' : `The ${options.field} after the change.`,
        resolve: (s) => s.value as never,
      }),
      cursor: t.string({ nullable: true, description: 'Log cursor of the change: pass it to waitForApplied or a subscription `after`.', resolve: (s) => s.cursor }),
    }),
  });
  const codes = MUTATION_ERRORS[name] ?? ERROR_CODES;
  const answerable = new Set<string>(['InputValidationError', ...codes]);
  const Payload = builder.unionType(`${cap}Payload`, {
    description: `What ${name} answers: ${cap}Success, or why nothing changed (InputValidationError or a domain error).`,
    types: [SuccessRef, InputValidationError, ...codes.map((c) => DomainErrorTypes.get(c)!)],
    resolveType: (v) => (v as { __typename: string }).__typename,
  });
  builder.mutationField(name, (t) =>
    t.field({
      description: options.description,
      type: Payload,
      args: { input: t.arg({ type: Input, required: true, description: `The input of ${name}, validated as a whole before anything changes.` }) },
      resolve: async (_root, args, ctx): Promise<Success<S> | ErrorShape> => {
        const limits = inputLimitIssues(args.input);
        if (limits.length > 0) return validationError(limits.map((i) => ({ path: [...i.path], message: i.message })));
        const parsed = options.schema.safeParse(args.input);
        if (!parsed.success) return validationError(parsed.error.issues);
        const out = await options.run(parsed.data, ctx);
        if (!out.ok) {
          if (!answerable.has(out.error.code)) {
            ctx.log.error({ mutation: name, code: out.error.code }, 'a mutation answered an error its payload does not list');
            throw new GraphQLError(`${name} answered ${out.error.code}, which ${cap}Payload does not list (scripts/mutation-errors.ts missed it)`, {
              extensions: { code: 'UNLISTED_ERROR', domainCode: out.error.code },
            });
          }
          return toErrorShape(out.error);
        }
        return { __typename: `${cap}Success`, value: out.value, cursor: out.cursor };
      },
    }),
  );
}

export type { ErrorShape };
