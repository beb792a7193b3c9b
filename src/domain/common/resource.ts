import { z } from 'zod';
import { domainError, isDomainError, type DomainError } from '../errors.js';

export const idSchema = z.guid();
export const timestampSchema = z.iso.datetime({ offset: true });

/** The fields every resource carries, as they appear in its Created event. */
export const resourceBaseFields = {
  id: idSchema,
  project: z.string(),
  name: z.string(),
  description: z.string(),
  tags: z.array(z.string()),
  createdAt: timestampSchema,
};

/** The same fields an update may change. */
export const resourceBasePatchFields = {
  name: z.string().optional(),
  description: z.string().optional(),
  tags: z.array(z.string()).optional(),
};

export interface ResourceBase {
  readonly id: string;
  readonly project: string;
  readonly name: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface ResourceBaseInput {
  readonly name?: string;
  readonly description?: string;
  readonly tags?: readonly string[];
}

// Neutron's column widths.
const MAX_NAME = 255;
const MAX_DESCRIPTION = 255;
const MAX_TAG = 255;

/** Checks name/description/tags; answers them defaulted, tags de-duplicated in order. */
export function baseFields(input: ResourceBaseInput): { name: string; description: string; tags: string[] } | DomainError {
  const patch = basePatch(input);
  if (isDomainError(patch)) return patch;
  return { name: patch.name ?? '', description: patch.description ?? '', tags: patch.tags ?? [] };
}

/** The same checks for an update, leaving absent fields absent. */
export function basePatch(input: ResourceBaseInput): { name?: string; description?: string; tags?: string[] } | DomainError {
  if (input.name !== undefined && input.name.length > MAX_NAME) {
    return domainError(
      'InvalidInput',
      `Invalid input for operation: '${input.name.slice(0, 20)}…' exceeds maximum length of ${MAX_NAME}.`,
      { field: ['name'] },
    );
  }
  if (input.description !== undefined && input.description.length > MAX_DESCRIPTION) {
    return domainError('InvalidInput', `Invalid input for operation: description exceeds maximum length of ${MAX_DESCRIPTION}.`, {
      field: ['description'],
    });
  }
  const bad = input.tags?.find((t) => t.length === 0 || t.length > MAX_TAG || t.includes(',') || t.includes('/'));
  if (bad !== undefined) {
    return domainError('InvalidInput', `Invalid input for operation: '${bad}' is not a valid tag.`, { field: ['tags'] });
  }
  const out: { name?: string; description?: string; tags?: string[] } = {};
  if (input.name !== undefined) out.name = input.name;
  if (input.description !== undefined) out.description = input.description;
  if (input.tags !== undefined) out.tags = [...new Set(input.tags)];
  return out;
}
