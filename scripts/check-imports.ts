/**
 * Fails when src/ has an import cycle or an import that goes up the layers.
 *   npx tsx scripts/check-imports.ts [--json]
 * Every import counts: `import type`, `export … from` and `import()` too (a type-only cycle is
 * still two modules that cannot be understood one without the other).
 *
 * Layers, lowest first; a module may import its own layer or any layer below:
 *   domain ← db, store, config, log ← projections ← app ← agent ← audit ← api ← cli
 * The agent sits above app: it reports through the app's commands, as the API does, and the
 * audit's replay plans with the agent's drivers.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(import.meta.dirname, '..', 'src');

const LAYERS: readonly (readonly string[])[] = [
  ['domain'],
  ['db', 'store', 'config.ts', 'log.ts'],
  ['projections'],
  ['app'],
  ['agent'],
  ['audit'],
  ['api'],
  ['cli'],
];

function layerOf(file: string): number {
  const top = path.relative(ROOT, file).split(path.sep)[0] ?? '';
  const i = LAYERS.findIndex((names) => names.includes(top));
  if (i < 0) throw new Error(`${path.relative(ROOT, file)}: in no layer; add its folder to LAYERS`);
  return i;
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.ts$/.test(name) && !name.endsWith('.d.ts') ? [p] : [];
  });
}

function specifiers(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      out.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteral(arg)) out.push(arg.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** Relative specifiers only (packages are not ours); `.js` names the `.ts` source. */
function resolve(from: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const p = path.resolve(path.dirname(from), spec).replace(/\.js$/, '.ts');
  return p.startsWith(ROOT) ? p : null;
}

/** Strongly connected components with more than one module (or a module importing itself). */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const strong = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) strong(v);
  return out;
}

const rel = (f: string): string => path.relative(ROOT, f);
const graph = new Map<string, string[]>();
const upward: { from: string; to: string }[] = [];
for (const file of sources(ROOT)) {
  const deps = specifiers(file)
    .map((s) => resolve(file, s))
    .filter((p): p is string => p !== null);
  graph.set(file, deps);
  for (const d of deps) if (layerOf(d) > layerOf(file)) upward.push({ from: rel(file), to: rel(d) });
}
const found = cycles(graph).map((c) => c.map(rel));

if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ cycles: found, upward }, null, 2));
} else {
  for (const c of found) console.log(`cycle (${c.length} modules): ${c.join(' ↔ ')}`);
  for (const u of upward) console.log(`upward import: ${u.from} → ${u.to}`);
  console.log(`${graph.size} modules: ${found.length} cycle(s), ${upward.length} upward import(s)`);
}
process.exitCode = found.length > 0 || upward.length > 0 ? 1 : 0;
