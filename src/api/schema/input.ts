import { z } from 'zod';
import { MAX_TAGS } from './input-limits.js';

/**
 * How a GraphQL input reaches a command: in these inputs null means "not given", so null and
 * absent fields are dropped before the command sees them.
 */

type NullishKeys<T> = { [K in keyof T]-?: null extends T[K] ? K : undefined extends T[K] ? K : never }[keyof T];
/** `T` with its nullable fields optional and never null: what `clean` leaves. */
export type Cleaned<T> = { [K in Exclude<keyof T, NullishKeys<T>>]: T[K] } & { [K in NullishKeys<T>]?: Exclude<T[K], null | undefined> };

/** Drops absent and null fields. */
export const clean = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as Cleaned<T>;

/** A single optional argument: null becomes absent. */
export const undefIfNull = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);

/** The fields of an update other than its target and revision. */
export const changesOf = <T extends { id: string; expectedRevision?: number | null }>(input: T) => {
  const { id: _id, expectedRevision: _r, ...rest } = input;
  return clean(rest);
};

export const idArg = z.string().min(1);
/**
 * A client-chosen id for a new resource, in the one spelling every later lookup uses: stream ids
 * and registry rows are built from it, and updates and deletes parse ids in lower case.
 */
export const clientId = z.guid().transform((id) => id.toLowerCase()).describe('Client-chosen uuid: re-sending the same create is a no-op.');
export const baseSchema = { name: z.string().max(255).nullish(), description: z.string().max(255).nullish(), tags: z.array(z.string()).max(MAX_TAGS).nullish() };
export const revisionSchema = { expectedRevision: z.number().int().nullish() };
