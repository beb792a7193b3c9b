import { getOperationAST, getVariableValues, type DocumentNode, type ExecutionResult } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';

/**
 * Queries run compiled (graphql-jit): each document is turned once into a function specialised to
 * its selection, which a list of 1,000 ports needs, since the generic executor walks the schema
 * and allocates per field (issue 21). Mutations answer one object and subscriptions stream
 * through the push path: both keep the generic executor. A document the compiler refuses runs
 * generic too, and so do variables graphql refuses, so that the refusal is worded as before.
 */
export function compiledQueries(): Plugin {
  // yoga's parse cache hands back the same document for the same text, so a document's entry lives
  // as long as yoga keeps the document.
  const compiled = new WeakMap<DocumentNode, Map<string, CompiledQuery | null>>();
  const compile = (schema: Parameters<typeof compileQuery>[0], document: DocumentNode, operationName: string | undefined) => {
    let byName = compiled.get(document);
    if (!byName) compiled.set(document, (byName = new Map()));
    const key = operationName ?? '';
    let entry = byName.get(key);
    if (entry === undefined) {
      const c = compileQuery(schema, document, operationName, { useExperimentalPathBasedSkipInclude: true });
      entry = isCompiledQuery(c) ? c : null;
      byName.set(key, entry);
    }
    return entry;
  };
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const operationName = args.operationName ?? undefined;
      const operation = getOperationAST(args.document, operationName);
      if (operation?.operation !== 'query') return;
      const query = compile(args.schema, args.document, operationName);
      if (!query) return;
      setExecuteFn((a) => {
        const variables = a.variableValues ?? {};
        if ('errors' in getVariableValues(a.schema, operation.variableDefinitions ?? [], variables)) return executeFn(a);
        return query.query(a.rootValue, a.contextValue, variables) as ExecutionResult | Promise<ExecutionResult>;
      });
    },
  };
}
