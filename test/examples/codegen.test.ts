import fs from 'node:fs';
import { expect, it } from 'vitest';
import { GENERATED, generateExampleTypes } from '../../scripts/codegen-examples.js';

// The example client's generated types are checked in: they must be what GraphQL Code Generator
// makes of the current schema (npm run schema regenerates both), and tsc compiles the client
// against them in CI's type-check.

it('examples/generated/graphql.ts is up to date with the schema and operations.graphql (npm run codegen)', async () => {
  expect(await generateExampleTypes()).toBe(fs.readFileSync(GENERATED, 'utf8'));
});

it('an operation the schema does not allow is refused, not typed', async () => {
  await expect(generateExampleTypes('query Broken { viewer { noSuchField } }')).rejects.toThrow(/noSuchField/);
});
