import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import prettier from 'prettier';
import ts from 'typescript';
import { ERROR_CODES } from '../src/domain/error-codes.js';
import { RESOURCE_KINDS, type ResourceKind } from '../src/domain/kinds.js';

/**
 * Which domain error codes each mutation can answer, derived from the code its `run` reaches: the
 * one source is the deciders and the app layer, so a payload union cannot drift from them.
 *
 * From each `defineMutation('name', { run })` in src/api/schema, it follows every function, method
 * and constant `run` refers to, transitively (a decider reached is reached whole: its error union
 * is the union of its commands'), and collects:
 *   - every string literal that is an error code (`domainError('NetworkInUse', …)`, a code table);
 *   - `notFound(kind)`/`alreadyExists(kind)`: `<kind>NotFound`/`<kind>AlreadyExists` of the literal
 *     kinds the argument's type allows;
 *   - the NotFound of each resource kind named by a reference (`refsOf('subnet', …)`,
 *     `{ kind: 'subnet', … }` given to resolveReferences) or by answerResource(ctx, 'subnet', …);
 *   - for a command run through CommandRuntime.execute, what every write may meet after its
 *     handler: the append rules' and the projections' vetoes (OverQuota, ResourceIdInUse) and the
 *     runtime's ConcurrentModification.
 * A code the walk cannot see statically (an error code computed at run time) is reported, and the
 * run fails, so the list is never silently too narrow. The result is written to
 * src/api/schema/mutation-errors.ts (`npm run schema`); test/api/mutation-errors.test.ts fails while
 * it is stale, and defineMutation refuses, under test, to answer a code its union lacks.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const GENERATED = path.join(ROOT, 'src/api/schema/mutation-errors.ts');

const CODES = new Set<string>(ERROR_CODES);
/** Helpers whose codes come from their arguments at each call site, not from their bodies. */
const BY_ARGUMENT = new Set(['notFound', 'alreadyExists', 'answerResource', 'refsOf', 'resolveReferences', 'referenceNotFound']);
/** What any write may meet after its handler decided: the append rules' and the projections' vetoes. */
const AFTER_HANDLER = ['src/app/quota.ts', 'src/projections'];

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (fs.statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

const inSrc = (file: string) => file.startsWith(path.join(ROOT, 'src') + path.sep) && !file.endsWith('error-codes.ts');
const kindNotFound = (kind: string) => `${RESOURCE_KINDS[kind as ResourceKind].neutronName}NotFound`;

function literalsOf(checker: ts.TypeChecker, node: ts.Expression): string[] | null {
  const type = checker.getTypeAtLocation(node);
  const parts = type.isUnion() ? type.types : [type];
  const values = parts.map((t) => (t.isStringLiteral() ? t.value : null));
  return values.every((v): v is string => v !== null) ? values : null;
}

export function deriveMutationErrors(): { errors: Record<string, string[]>; unresolved: string[] } {
  const files = sourceFiles(path.join(ROOT, 'src'));
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2023,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: true,
    noEmit: true,
    types: ['node'],
  });
  const checker = program.getTypeChecker();
  const unresolved: string[] = [];
  const where = (n: ts.Node) => {
    const sf = n.getSourceFile();
    return `${path.relative(ROOT, sf.fileName)}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
  };

  const declarationsOf = (node: ts.Node): ts.Declaration[] => {
    let symbol = checker.getSymbolAtLocation(node);
    if (!symbol) return [];
    if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    return (symbol.declarations ?? []).filter((d) => inSrc(d.getSourceFile().fileName));
  };
  const calleeOf = (call: ts.CallExpression): ts.Declaration | undefined =>
    declarationsOf(ts.isPropertyAccessExpression(call.expression) ? call.expression.name : call.expression)[0];
  const nameOf = (d: ts.Declaration | undefined): string | null => {
    const n = d && ts.getNameOfDeclaration(d);
    return n && ts.isIdentifier(n) ? n.text : null;
  };
  /** One of the helpers counted by argument: those of lifecycle.ts, references.ts and answer.ts. */
  const byArgumentName = (d: ts.Declaration | undefined): string | null => {
    const name = nameOf(d);
    return name && BY_ARGUMENT.has(name) && /(common\/lifecycle|app\/references|schema\/answer)\.ts$/.test(d!.getSourceFile().fileName)
      ? name
      : null;
  };
  const functionOf = (d: ts.Declaration): ts.SignatureDeclaration | undefined => {
    if (ts.isFunctionLike(d)) return d;
    const init = ts.isVariableDeclaration(d) || ts.isPropertyAssignment(d) || ts.isPropertyDeclaration(d) ? d.initializer : undefined;
    return init && (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) ? init : undefined;
  };

  /** Bindings of parameters to the string values their callers pass (the kind a generic helper is asked about). */
  type Env = ReadonlyMap<ts.Symbol, readonly string[]>;
  const unwrap = (e: ts.Expression): ts.Expression =>
    ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e) || ts.isNonNullExpression(e)
      ? unwrap(e.expression)
      : e;
  const objectOf = (e: ts.Expression): ts.ObjectLiteralExpression | null => {
    const u = unwrap(e);
    if (ts.isObjectLiteralExpression(u)) return u;
    if (ts.isIdentifier(u)) {
      const d = declarationsOf(u)[0];
      return d && ts.isVariableDeclaration(d) && d.initializer ? objectOf(d.initializer) : null;
    }
    return null;
  };
  const propertyOf = (o: ts.ObjectLiteralExpression, key: string): ts.Expression | null => {
    const p = o.properties.find((x) => x.name && (ts.isIdentifier(x.name) || ts.isStringLiteral(x.name)) && x.name.text === key);
    return p && ts.isPropertyAssignment(p) ? p.initializer : null;
  };
  /** The string values an expression may have: literals, bound parameters, and `TABLE[kind].name` lookups. */
  function valuesOf(e: ts.Expression, env: Env): string[] | null {
    const u = unwrap(e);
    if (ts.isStringLiteral(u) || ts.isNoSubstitutionTemplateLiteral(u)) return [u.text];
    if (ts.isIdentifier(u)) {
      const symbol = checker.getSymbolAtLocation(u);
      const bound = symbol && env.get(symbol);
      if (bound) return [...bound];
    }
    const lookup = (table: ts.Expression, key: ts.Expression, prop: string | null): string[] | null => {
      const o = objectOf(table);
      const keys = o ? valuesOf(key, env) : null;
      if (!o || !keys) return null;
      const out: string[] = [];
      for (const k of keys) {
        const entry = propertyOf(o, k);
        const value = entry && prop ? (objectOf(entry) ? propertyOf(objectOf(entry)!, prop) : null) : entry;
        const v = value ? valuesOf(value, env) : null;
        if (!v) return null;
        out.push(...v);
      }
      return out;
    };
    if (ts.isElementAccessExpression(u)) {
      const v = lookup(u.expression, u.argumentExpression, null);
      if (v) return v;
    }
    if (ts.isPropertyAccessExpression(u) && ts.isElementAccessExpression(unwrap(u.expression))) {
      const inner = unwrap(u.expression) as ts.ElementAccessExpression;
      const v = lookup(inner.expression, inner.argumentExpression, u.name.text);
      if (v) return v;
    }
    return literalsOf(checker, u);
  }

  /** A parameter that takes one of a few words (a kind, a code): worth binding to what a call passes. */
  const choices = new Map<ts.ParameterDeclaration, boolean>();
  const choiceParameter = (p: ts.ParameterDeclaration): boolean => {
    let known = choices.get(p);
    if (known === undefined) {
      const t = checker.getTypeAtLocation(p);
      known = (t.isUnion() ? t.types : [t]).every((x) => x.isStringLiteral());
      choices.set(p, known);
    }
    return known;
  };

  /** What one body (under one binding of its parameters) yields directly, and what it refers to. */
  interface Expansion {
    readonly codes: Set<string>;
    readonly next: [ts.Node, Env][];
  }
  const ids = new Map<ts.Node | ts.Symbol, number>();
  const idOf = (x: ts.Node | ts.Symbol) => ids.get(x) ?? (ids.set(x, ids.size), ids.size - 1);
  const keyOf = (body: ts.Node, env: Env) => `${idOf(body)}:${[...env].map(([k, v]) => `${idOf(k)}=${v.join('|')}`).join(',')}`;
  const expansions = new Map<string, Expansion>();
  const wide = (values: readonly string[]) => values.length >= ERROR_CODES.length;

  function expand(body: ts.Node, env: Env): Expansion {
    const codes = new Set<string>();
    const next: [ts.Node, Env][] = [];
    const enqueue = (d: ts.Declaration, bound: Env) => {
      if (byArgumentName(d)) return;
      const target = ts.isFunctionLike(d)
        ? d
        : ts.isVariableDeclaration(d) || ts.isPropertyAssignment(d) || ts.isPropertyDeclaration(d)
          ? d.initializer
          : undefined;
      if (target) next.push([target, bound]);
    };
    const add = (values: readonly string[] | null, at: ts.Node, suffix: (v: string) => string) => {
      if (!values) unresolved.push(`${where(at)}: a kind not known statically`);
      for (const v of values ?? []) codes.add(suffix(v));
    };
    const byArgument = (call: ts.CallExpression, name: string) => {
      const [first, second, third] = call.arguments;
      if (name === 'notFound' || name === 'alreadyExists')
        add(first ? valuesOf(first, env) : null, call, (k) => `${k}${name === 'notFound' ? 'NotFound' : 'AlreadyExists'}`);
      else if (name === 'answerResource') add(second ? valuesOf(second, env) : null, call, kindNotFound);
      else if (name === 'refsOf') add(first ? valuesOf(first, env) : null, call, kindNotFound);
      else if (name === 'resolveReferences' && third) {
        // Literal references; those built with refsOf are counted at that call.
        const visit = (n: ts.Node): void => {
          if (ts.isPropertyAssignment(n) && n.name.getText() === 'kind') add(valuesOf(n.initializer, env), n, kindNotFound);
          ts.forEachChild(n, visit);
        };
        visit(third);
      }
    };
    const visit = (n: ts.Node): void => {
      if (
        ts.isTypeNode(n) ||
        ts.isImportDeclaration(n) ||
        ts.isExportDeclaration(n) ||
        ts.isInterfaceDeclaration(n) ||
        ts.isTypeAliasDeclaration(n)
      )
        return;
      if ((ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) && CODES.has(n.text)) codes.add(n.text);
      if (ts.isCallExpression(n)) {
        const callee = calleeOf(n);
        const special = byArgumentName(callee);
        if (special) {
          byArgument(n, special);
          n.arguments.forEach(visit);
          return;
        }
        if (nameOf(callee) === 'domainError' && n.arguments[0]) {
          // A code of the full type is one passed along (`inUse(code, …)`, a table's entry, another
          // error's `code`): it is counted where it was written.
          const values = valuesOf(n.arguments[0], env);
          if (!values) unresolved.push(`${where(n)}: domainError with a code not known statically`);
          else if (!wide(values)) for (const v of values) codes.add(v);
        }
        const fn = callee && functionOf(callee);
        if (fn) {
          // The callee's parameters bound to what this call passes, so a generic helper answers for this kind.
          const bound = new Map<ts.Symbol, readonly string[]>();
          fn.parameters.forEach((p, i) => {
            const arg = n.arguments[i];
            const symbol = ts.isIdentifier(p.name) && choiceParameter(p) ? checker.getSymbolAtLocation(p.name) : undefined;
            const values = arg && symbol ? valuesOf(arg, env) : null;
            if (symbol && values && values.length < 8) bound.set(symbol, values);
          });
          enqueue(callee, bound);
          if (ts.isPropertyAccessExpression(n.expression)) visit(n.expression.expression);
          n.arguments.forEach(visit);
          return;
        }
      }
      // A name being declared is no reference to it (a function's own name would reach it unbound).
      const declaring = ts.isIdentifier(n) && (n.parent as ts.NamedDeclaration).name === n && !ts.isPropertyAccessExpression(n.parent);
      if (ts.isIdentifier(n) && !declaring) for (const d of declarationsOf(n)) enqueue(d, new Map());
      if (ts.isShorthandPropertyAssignment(n)) {
        let value = checker.getShorthandAssignmentValueSymbol(n);
        if (value && value.flags & ts.SymbolFlags.Alias) value = checker.getAliasedSymbol(value);
        for (const d of value?.declarations ?? []) if (inSrc(d.getSourceFile().fileName)) enqueue(d, new Map());
      }
      ts.forEachChild(n, visit);
    };
    visit(body);
    return { codes, next };
  }

  /** The codes reachable from `start`, and the bodies it reached. */
  function walk(start: ts.Node): { codes: Set<string>; reached: Set<ts.Node> } {
    const codes = new Set<string>();
    const reached = new Set<ts.Node>();
    const seen = new Set<string>();
    const queue: [ts.Node, Env][] = [[start, new Map()]];
    for (let item = queue.shift(); item; item = queue.shift()) {
      const key = keyOf(...item);
      if (seen.has(key)) continue;
      seen.add(key);
      reached.add(item[0]);
      let e = expansions.get(key);
      if (!e) expansions.set(key, (e = expand(...item)));
      for (const c of e.codes) codes.add(c);
      queue.push(...e.next);
    }
    return { codes, reached };
  }

  const afterHandler = new Set<string>(['ConcurrentModification']);
  for (const p of AFTER_HANDLER) {
    const full = path.join(ROOT, p);
    for (const f of fs.statSync(full).isDirectory() ? sourceFiles(full) : [full]) {
      const visit = (n: ts.Node): void => {
        if ((ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) && CODES.has(n.text)) afterHandler.add(n.text);
        ts.forEachChild(n, visit);
      };
      visit(program.getSourceFile(f)!);
    }
  }

  const errors: Record<string, string[]> = {};
  for (const file of files.filter((f) => f.startsWith(path.join(ROOT, 'src/api/schema')))) {
    const visit = (n: ts.Node): void => {
      if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'defineMutation') {
        const [name, options] = n.arguments;
        if (!name || !ts.isStringLiteral(name) || !options || !ts.isObjectLiteralExpression(options))
          throw new Error(`${where(n)}: defineMutation needs a literal name and options`);
        const run = options.properties.find((p) => p.name?.getText() === 'run');
        if (!run) throw new Error(`${where(n)}: defineMutation without run`);
        const { codes, reached } = walk(run);
        const writes = [...reached].some(
          (r) => ts.isMethodDeclaration(r) && r.name.getText() === 'execute' && r.getSourceFile().fileName.endsWith('command-runtime.ts'),
        );
        if (writes) for (const c of afterHandler) codes.add(c);
        codes.delete('InputValidationError');
        errors[name.text] = ERROR_CODES.filter((c) => codes.has(c));
      }
      ts.forEachChild(n, visit);
    };
    visit(program.getSourceFile(file)!);
  }
  return { errors, unresolved };
}

export async function generateMutationErrors(): Promise<string> {
  const { errors, unresolved } = deriveMutationErrors();
  if (unresolved.length > 0) throw new Error(`error codes not known statically:\n${unresolved.join('\n')}`);
  const sorted = Object.fromEntries(Object.entries(errors).sort(([a], [b]) => a.localeCompare(b)));
  const text = `// Generated by scripts/mutation-errors.ts (npm run schema) from the deciders and the app layer: do not edit.
import type { ErrorCode } from '../../domain/errors.js';

/** The domain error codes each mutation's run can answer (besides InputValidationError). */
export const MUTATION_ERRORS: Readonly<Record<string, readonly ErrorCode[]>> = ${JSON.stringify(sorted)};
`;
  return prettier.format(text, { ...(await prettier.resolveConfig(GENERATED)), filepath: GENERATED });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  fs.writeFileSync(GENERATED, await generateMutationErrors());
  console.log(`wrote ${path.relative(ROOT, GENERATED)}`);
}
