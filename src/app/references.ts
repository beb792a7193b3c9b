import { notFound } from '../domain/common/index.js';
import type { DomainError } from '../domain/errors.js';
import { RESOURCE_KINDS } from '../domain/kinds.js';
import { mayReference, type Owned, type PolicyKind, type Principal } from '../domain/policy/index.js';
import type { Tx } from './command-runtime.js';
import { isUuid } from './networking/facts.js';

/** One id a command names, the kind it must be, and the input field it came from. */
export interface Reference {
  readonly kind: PolicyKind;
  readonly id: string;
  readonly field: string;
}

/** What the read model says about a referenced resource: what the policy looks at, and a subnet's network and CIDR. */
export interface ReferencedResource extends Owned {
  readonly id: string;
  readonly networkId: string | null;
  readonly cidr: string | null;
}

/** The error for a reference that does not exist or that the principal may not see: the same for both. */
export function referenceNotFound(ref: Reference): DomainError {
  return { ...notFound(RESOURCE_KINDS[ref.kind].neutronName, ref.id), field: [ref.field] };
}

/**
 * Checks that every reference names an existing resource of its kind that `principal` may use
 * (`mayReference`), and locks each row for share so a concurrent delete waits for this command
 * (or this command sees it gone). Answers the resources by id, or the NotFound of the first bad
 * reference: another project's resource answers exactly like a missing one.
 */
export async function resolveReferences(
  tx: Tx,
  principal: Principal,
  refs: readonly Reference[],
): Promise<Map<string, ReferencedResource> | DomainError> {
  const found = new Map<string, ReferencedResource>();
  const byKind = new Map<PolicyKind, string[]>();
  for (const r of refs) if (isUuid(r.id)) byKind.set(r.kind, [...(byKind.get(r.kind) ?? []), r.id.toLowerCase()]);
  for (const [kind, ids] of byKind) {
    // Sorted so two commands locking the same rows take them in the same order.
    const wanted = [...new Set(ids)].sort();
    const rows = await tx<
      { id: string; project_id: string; shared: boolean | null; external: boolean | null; network_id: string | null; cidr: string | null }[]
    >`
      select r.id, r.project_id, r.network_id, r.doc->>'cidr' as cidr,
             coalesce((n.doc->>'shared')::boolean, (r.doc->>'shared')::boolean) as shared,
             coalesce((n.doc->>'external')::boolean, (r.doc->>'external')::boolean) as external
        from rm_resources r left join rm_resources n on r.kind = 'subnet' and n.id = r.network_id
       where r.kind = ${kind} and r.id = any(${wanted}::uuid[])
       order by r.id for share of r`;
    for (const row of rows) {
      const resource = {
        id: row.id,
        project: row.project_id,
        shared: row.shared ?? false,
        external: row.external ?? false,
        networkId: row.network_id,
        cidr: row.cidr,
      };
      if (mayReference(principal, kind, resource)) found.set(row.id, resource);
    }
  }
  const bad = refs.find((r) => !found.has(r.id.toLowerCase()));
  return bad ? referenceNotFound(bad) : found;
}

/** References of one kind from an optional list of ids. */
export const refsOf = (kind: PolicyKind, field: string, ids: readonly (string | null | undefined)[] | undefined): Reference[] =>
  (ids ?? []).filter((id): id is string => typeof id === 'string').map((id) => ({ kind, id, field }));
