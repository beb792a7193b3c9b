import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema, isEnumType, isInputObjectType, isInterfaceType, isObjectType } from 'graphql';

/**
 * The elements of the API schema without a description: types, fields, arguments, enum values and
 * input fields. test/api/schema-descriptions.test.ts requires there be none; run this to list them.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Of the checked-in SDL (`npm run schema` writes it; the test checks it is the server's). */
export function undescribed(sdl = fs.readFileSync(path.join(ROOT, 'schema/schema.graphql'), 'utf8')): string[] {
  const schema = buildSchema(sdl);
  const missing: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__') || ['String', 'Int', 'Float', 'Boolean', 'ID'].includes(type.name)) continue;
    if (!type.description) missing.push(type.name);
    if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (!field.description) missing.push(`${type.name}.${field.name}`);
        for (const arg of 'args' in field ? field.args : []) if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
      }
    }
    if (isEnumType(type)) for (const value of type.getValues()) if (!value.description) missing.push(`${type.name}.${value.name}`);
  }
  return missing.sort();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const missing = undescribed();
  console.log(missing.length === 0 ? 'every element is described' : missing.join('\n'));
  process.exitCode = missing.length === 0 ? 0 : 1;
}
