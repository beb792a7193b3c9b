import fs from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import draft07 from 'ajv/dist/refs/json-schema-draft-07.json' with { type: 'json' };
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * docker-compose.yml and the Dockerfile it builds, checked without Docker (none here or in CI):
 * the compose file against the Compose Specification's JSON schema (schema/compose-spec.json,
 * vendored from github.com/compose-spec/compose-spec at 170098ba, Apache-2.0, the schema Docker
 * Compose v2 validates with), its build pointing at the Dockerfile, and the Dockerfile copying
 * what exists and running `netledger serve`.
 */

const root = path.resolve('.');
const schema = JSON.parse(fs.readFileSync(path.join(root, 'schema/compose-spec.json'), 'utf8')) as object;
// Not strict: the schema uses draft 2019's `deprecated` annotation, which draft-07 validators ignore.
const ajv = new Ajv({ strict: false, allErrors: true });
// The schema names draft-07 by its https address; Ajv knows that meta-schema by its http one.
ajv.addMetaSchema({ ...draft07, $id: 'https://json-schema.org/draft-07/schema' });
const validate = ajv.compile(schema);

type Compose = { services: Record<string, { build?: string | { context?: string; dockerfile?: string }; image?: string }> };

function composeProblems(doc: unknown): string[] {
  if (validate(doc)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}${e.params ? ' ' + JSON.stringify(e.params) : ''}`);
}

const composeText = fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
const compose = (): Compose => parse(composeText) as Compose;

/** The Dockerfile's instructions, continuation lines joined, comments dropped. */
function instructions(dockerfile: string): { op: string; args: string }[] {
  return dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op = '', ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

/** .dockerignore's patterns that name a top-level file or folder (all this repository uses). */
function ignored(): Set<string> {
  const file = path.join(root, '.dockerignore');
  if (!fs.existsSync(file)) return new Set();
  return new Set(
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => l.trim().replace(/^\/|\/$/g, ''))
      .filter((l) => l && !l.startsWith('#')),
  );
}

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification', () => {
    expect(composeProblems(compose())).toEqual([]);
  });

  it('the schema check catches a wrong file: an unknown key, a mistyped value', () => {
    const typo = compose();
    (typo.services.netledger as Record<string, unknown>).biuld = '.';
    expect(composeProblems(typo).join('\n')).toMatch(/additional properties/i);
    const mistyped = compose();
    (mistyped.services.postgres as Record<string, unknown>).ports = 5432;
    expect(composeProblems(mistyped).join('\n')).toContain('/services/postgres/ports');
  });

  it("builds the netledger service from this repository's Dockerfile", () => {
    const build = compose().services.netledger?.build;
    expect(build, 'the netledger service builds its image').toBeDefined();
    const { context = '.', dockerfile = 'Dockerfile' } = typeof build === 'string' ? { context: build } : build!;
    expect(path.resolve(root, context)).toBe(root);
    expect(fs.existsSync(path.join(root, context, dockerfile)), `${dockerfile} exists`).toBe(true);
  });
});

describe('Dockerfile', () => {
  const steps = instructions(fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8'));

  it('is multi-stage on a Node the project supports, installing from the lock', () => {
    const from = steps.filter((s) => s.op === 'FROM').map((s) => s.args);
    expect(from.length).toBeGreaterThanOrEqual(2);
    const { node } = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { engines: { node: string } }).engines;
    const minimumMajor = Number(/(\d+)/.exec(node)![1]);
    for (const f of from) {
      const major = /^node:(\d+)/.exec(f);
      expect(major, f).not.toBeNull();
      expect(Number(major![1])).toBeGreaterThanOrEqual(minimumMajor);
    }
    expect(steps.some((s) => s.op === 'RUN' && /\bnpm ci\b/.test(s.args))).toBe(true);
  });

  it('copies only what exists and is not in .dockerignore, and runs netledger serve', () => {
    const skip = ignored();
    for (const s of steps.filter((st) => st.op === 'COPY' && !st.args.startsWith('--from'))) {
      const sources = s.args
        .split(/\s+/)
        .filter((a) => !a.startsWith('--'))
        .slice(0, -1);
      for (const src of sources) {
        expect(fs.existsSync(path.join(root, src)), `COPY ${src}`).toBe(true);
        expect(skip.has(src.replace(/\/$/, '')), `COPY ${src} is in .dockerignore`).toBe(false);
      }
    }
    const cmd = steps.filter((s) => s.op === 'CMD' || s.op === 'ENTRYPOINT').map((s) => s.args);
    expect(cmd.at(-1)).toBe('["node", "bin/netledger.mjs", "serve"]');
    // What serve reads at run time: the CLI, the sources (the dashboard's files among them), the migrations.
    const copied = steps.filter((s) => s.op === 'COPY').map((s) => s.args);
    for (const needed of ['bin', 'src', 'migrations', 'package.json'])
      expect(copied.some((c) => c.split(/\s+/).includes(needed))).toBe(true);
  });
});
