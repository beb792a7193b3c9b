import type { InputFieldBuilder, InputFieldRef, InputObjectRef } from '@pothos/core';
import { z } from 'zod';
import { builder, type Types } from './builder.js';

/**
 * GraphQL input fields derived from the zod schema that validates them, so an input is declared
 * once. What the schema accepts decides the GraphQL type:
 *   - optional, nullable or defaulted: a nullable field; otherwise non-null;
 *   - strings, enums and string literals: String; a union of integer literals: Int (the enum's values are checked by zod, so a bad
 *     value is an InputValidationError naming the field, not a GraphQL parse error);
 *   - numbers: Int when the schema says int, else Float; booleans: Boolean; arrays: lists;
 *   - objects: a named input type, named by `.meta({ id: 'SomethingInput' })`; `z.json()`/unknown: JSON;
 *   - a pipe is the shape of its input, except after a preprocess, whose input is anything: then
 *     the shape of what it feeds.
 * Descriptions come from `.describe()`/`.meta({ description })`; an enum's words are added to its
 * field's description (the field stays a String so a wrong word is an InputValidationError naming
 * it, not a request error: see enums.ts).
 */
export type ZodInputFields = (t: InputFieldBuilder<Types, 'InputObject'>) => Record<string, InputFieldRef<Types, unknown>>;

type Scalar = 'String' | 'Int' | 'Float' | 'Boolean' | 'JSON';
type GqlType = Scalar | InputObjectRef<Types, unknown>;

interface Def {
  readonly type: string;
  readonly innerType?: z.ZodType;
  readonly in?: z.ZodType;
  readonly out?: z.ZodType;
  readonly element?: z.ZodType;
  readonly values?: readonly unknown[];
  readonly options?: readonly z.ZodType[];
  readonly shape?: Record<string, z.ZodType>;
}
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;
const descriptionOf = (s: z.ZodType): string | undefined => z.globalRegistry.get(s)?.description ?? s.description;

/**
 * What a field of these names means in every input that has one, for fields whose schema does not
 * describe them: the same words everywhere, said once.
 */
const COMMON_FIELDS: Readonly<Record<string, string>> = {
  id: 'The id: a new resource takes this uuid when given (else a random one); elsewhere the resource to act on (uuid or global id).',
  expectedRevision: "Neutron's If-Match: refused with RevisionNumberConstraintFailed unless the resource is at this revision.",
  name: 'Human-readable name (at most 255 characters); not unique.',
  description: 'Free text (at most 255 characters).',
  tags: "Neutron's tags: free labels for filtering.",
  adminStateUp: 'Administrative state: false takes it out of service without deleting it.',
  shared: 'Visible to every project (admin only).',
  projectId: 'The project (tenant).',
  networkId: 'The network (uuid or global id).',
  subnetId: 'The subnet (uuid or global id).',
  portId: 'The port (uuid or global id).',
  routerId: 'The router (uuid or global id).',
  loadBalancerId: 'The load balancer (uuid or global id).',
  poolId: 'The pool (uuid or global id).',
  macAddress: 'A MAC address, such as fa:16:3e:00:00:01.',
  ipAddress: 'An IPv4 or IPv6 address.',
  mtu: 'Maximum transmission unit in bytes.',
  portSecurityEnabled: 'Whether security groups and anti-spoofing apply to its ports.',
  deviceId: 'The id of what uses the port (a router, a VM).',
  deviceOwner: "What kind of thing uses the port, as Neutron spells it (network:router_interface, compute:nova, ...): a free String, since ':' cannot be in a GraphQL enum.",
  host: 'A host name, as its agent registered it.',
  enabled: 'Whether it takes effect.',
  timeout: 'Seconds.',
};

/** The description, with the words of a fixed vocabulary when it does not name them all already. */
function withVocabulary(base: z.ZodType, description: string | undefined): string | undefined {
  const d = defOf(base);
  const words = d.type === 'enum' ? (base as z.ZodEnum).options.map(String) : d.type === 'literal' ? (d.values ?? []).map(String) : [];
  if (words.length === 0 || words.every((w) => description?.includes(w))) return description;
  return `${description ? `${description.replace(/\.?$/, '.')} ` : ''}One of: ${words.join(', ')}.`;
}

/** Peels wrappers: whether the value may be left out, and its description. */
function peel(schema: z.ZodType): { base: z.ZodType; required: boolean; description: string | undefined } {
  let s = schema;
  let required = true;
  let description = descriptionOf(s);
  for (;;) {
    const d = defOf(s);
    if (d.type === 'optional' || d.type === 'nullable' || d.type === 'default' || d.type === 'prefault') {
      required = false;
      s = d.innerType!;
    } else if (d.type === 'readonly' || d.type === 'catch' || d.type === 'nonoptional') {
      s = d.innerType!;
    } else if (d.type === 'pipe') {
      s = defOf(d.in!).type === 'transform' ? d.out! : d.in!;
    } else break;
    description ??= descriptionOf(s);
  }
  return { base: s, required, description };
}

const namedTypes = new Map<string, InputObjectRef<Types, unknown>>();

function objectType(schema: z.ZodType): InputObjectRef<Types, unknown> {
  const name = z.globalRegistry.get(schema)?.id;
  if (!name) throw new Error('a nested input object needs a GraphQL name: .meta({ id: "SomethingInput" })');
  const known = namedTypes.get(name);
  if (known) return known;
  const ref = builder.inputType(name, { description: descriptionOf(schema), fields: zodInputFields(schema) }) as InputObjectRef<Types, unknown>;
  namedTypes.set(name, ref);
  return ref;
}

function scalarOrObject(base: z.ZodType): GqlType {
  const d = defOf(base);
  switch (d.type) {
    case 'string':
    case 'enum':
    case 'template_literal':
      return 'String';
    case 'literal':
      if (d.values?.every((v) => typeof v === 'string')) return 'String';
      break;
    case 'number': {
      const format = (base as unknown as { format?: string | null }).format;
      return format && /int/.test(format) ? 'Int' : 'Float';
    }
    case 'int':
      return 'Int';
    case 'union': {
      // A choice of literals (ipVersion: 4 | 6) is the scalar they share; zod checks the choice.
      const values = (d.options ?? []).map((o) => defOf(o)).flatMap((o) => (o.type === 'literal' ? [...(o.values ?? [])] : [undefined]));
      if (values.every((v) => typeof v === 'string')) return 'String';
      if (values.every((v) => Number.isInteger(v))) return 'Int';
      break;
    }
    case 'boolean':
      return 'Boolean';
    case 'object':
      return objectType(base);
    case 'unknown':
    case 'any':
    case 'record':
      return 'JSON';
  }
  throw new Error(`no GraphQL input type for a zod ${d.type}`);
}

export function zodInputFields(schema: z.ZodType): ZodInputFields {
  return (t) => {
    const object = peel(schema).base;
    const shape = defOf(object).shape;
    if (!shape) throw new Error('a mutation input must be a zod object');
    const fields: Record<string, InputFieldRef<Types, unknown>> = {};
    for (const [name, field] of Object.entries(shape)) {
      const { base, required, description: own } = peel(field);
      const description = own ?? COMMON_FIELDS[name];
      if (defOf(base).type === 'array') {
        const item = peel(defOf(base).element!);
        fields[name] = t.field({ type: [scalarOrObject(item.base)] as never, required: { list: required, items: item.required } as never, description: withVocabulary(item.base, description ?? item.description) }) as InputFieldRef<Types, unknown>;
      } else {
        fields[name] = t.field({ type: scalarOrObject(base) as never, required, description: withVocabulary(base, description) }) as InputFieldRef<Types, unknown>;
      }
    }
    return fields;
  };
}
