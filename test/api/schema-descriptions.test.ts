import fs from 'node:fs';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { undescribed } from '../../scripts/undescribed.js';
import { ERROR_CODES } from '../../src/domain/errors.js';

// Issue 14: every type, field, argument, enum value and input field of the API says what it is.
// Generated ones get theirs from their source (defineMutation's description, zod's .describe(),
// enums.ts, the relay options in builder.ts); the rest are written where they are defined.

it('schema/schema.graphql is the schema the server serves (npm run schema)', async () => {
  const { stdout } = await execa('npx', ['tsx', 'src/cli/main.ts', 'schema'], { stripFinalNewline: false });
  expect(stdout).toBe(fs.readFileSync('schema/schema.graphql', 'utf8'));
}, 300_000);

it('describes every type, field, argument, enum value and input field', () => {
  expect(undescribed()).toEqual([]);
});

it('describes every generated element: payload unions, Success types, inputs, mutation arguments, error types, enums, connections', () => {
  const generated = (m: string) => {
    const [type, member] = m.split('.') as [string, string | undefined];
    if (
      ERROR_CODES.includes(type as never) ||
      ['Error', 'InputValidationError', 'FieldIssue', 'PageInfo', 'Node', 'Mutation'].includes(type)
    )
      return true;
    if (/(Payload|Success|Edge)$/.test(type) || (/Connection$/.test(type) && type !== 'IpsecSiteConnection')) return true;
    return /Input$/.test(type) && member === undefined;
  };
  expect(undescribed().filter(generated)).toEqual([]);
});
