import { Command, Option } from 'commander';
import { ApiClient, CliError, EXIT, resolveConnection, type FieldIssue } from './api-client.js';
import { FORMATS, formatList, formatOne, selectColumns, type Format, type Json, type Row } from './output.js';
import { KINDS, kind, type KindName, type OptionSpec, type ResourceKind } from './kinds.js';

/**
 * `netledger <kind> list|show|create|delete`, the way `openstack network ...` reads, for every kind
 * in KINDS. The commands talk to a running server over its GraphQL API with a token; they never
 * open the database, so they behave the same on any machine that can reach the API.
 */

const PAGE = 500;
const WAIT_POLL_MS = 500;
const DEFAULT_WAIT_SECONDS = 300;

/** The top-level field names of a selection (its aliases): the columns a kind can show. */
export function columnsOf(fields: string): string[] {
  const tokens = fields.match(/[A-Za-z_][A-Za-z0-9_]*:?|[{}]/g) ?? [];
  const out: string[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === '{') depth++;
    else if (t === '}') depth--;
    else if (depth === 0) {
      if (t.endsWith(':')) {
        out.push(t.slice(0, -1));
        i++;
      } else out.push(t);
    }
  }
  return out;
}

/** A list of one-field objects (`subnets { id }`) reads as a list of those values. */
function toRow(node: Record<string, Json>): Row {
  const row: Row = {};
  for (const [k, v] of Object.entries(node)) {
    row[k] =
      Array.isArray(v) && v.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x) && Object.keys(x).length === 1)
        ? v.map((x) => Object.values(x as Record<string, Json>)[0]!)
        : v;
  }
  return row;
}

const globalId = (k: ResourceKind, id: string) => Buffer.from(`${k.typename}:${id}`).toString('base64');
const notFoundCode = (k: ResourceKind) => `${k.typename.replace(/Ip$/, 'IP')}NotFound`;

async function fetchOne(client: ApiClient, k: ResourceKind, id: string, fields = k.fields): Promise<Row | null> {
  const data = await client.request<{ node: Record<string, Json> | null }>(
    `query Show${k.typename}($id: ID!) { node(id: $id) { ... on ${k.typename} { ${fields} } } }`,
    { id: globalId(k, id) },
  );
  // Another kind under the same id answers an empty object.
  return data.node && 'id' in data.node ? toRow(data.node) : null;
}

async function listAll(
  client: ApiClient,
  k: ResourceKind,
  args: Record<string, { type: string; value: Record<string, unknown> }>,
  fields = k.fields,
): Promise<Row[]> {
  const names = Object.keys(args);
  const decl = names.map((n) => `, $${n}: ${args[n]!.type}`).join('');
  const pass = names.map((n) => `, ${n}: $${n}`).join('');
  const query = `query List${k.typename}($after: String${decl}) { items: ${k.list}(first: ${PAGE}, after: $after${pass}) {
    pageInfo { hasNextPage endCursor } edges { node { ${fields} } } } }`;
  const rows: Row[] = [];
  let after: string | null = null;
  for (;;) {
    const variables: Record<string, unknown> = { after, ...Object.fromEntries(names.map((n) => [n, args[n]!.value])) };
    const page: { items: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: Record<string, Json> }[] } } =
      await client.request(query, variables);
    rows.push(...page.items.edges.map((e) => toRow(e.node)));
    if (!page.items.pageInfo.hasNextPage) return rows;
    after = page.items.pageInfo.endCursor;
  }
}

/** A resource named on the command line by id, else by name (or a floating IP by its address). */
async function resolveRef(client: ApiClient, name: KindName, value: string): Promise<string> {
  const k = kind(name);
  if (await fetchOne(client, k, value, 'id: uuid')) return value;
  let matches = await listAll(client, k, { filter: { type: 'ResourceFilter', value: { name: value } } }, 'id: uuid');
  if (matches.length === 0 && k.altKey) {
    matches = (await listAll(client, k, {}, `id: uuid ${k.altKey}: ${camel(k.altKey)}`)).filter((r) => r[k.altKey!] === value);
  }
  if (matches.length > 1) {
    throw new CliError(
      EXIT.refused,
      'NoUniqueMatch',
      `more than one ${k.name} matches ${JSON.stringify(value)} (${matches.map((m) => m.id).join(', ')}): use its id`,
    );
  }
  if (matches.length === 0) throw new CliError(EXIT.refused, notFoundCode(k), `no ${k.name} with id or name ${JSON.stringify(value)}`);
  return String(matches[0]!.id);
}

const camel = (snake: string) => snake.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

interface MutationResult {
  __typename: string;
  cursor?: string | null;
  code?: string;
  message?: string;
  issues?: FieldIssue[];
  [field: string]: unknown;
}

async function mutate(
  client: ApiClient,
  op: string,
  inputType: string,
  selection: string,
  input: Record<string, unknown>,
): Promise<MutationResult> {
  const data = await client.request<{ result: MutationResult }>(
    `mutation ${op[0]!.toUpperCase()}${op.slice(1)}($input: ${inputType}!) { result: ${op}(input: $input) { __typename ${selection}
      ... on Error { code message } ... on InputValidationError { issues { path message } } } }`,
    { input },
  );
  const r = data.result;
  if (r.code) throw new CliError(EXIT.refused, r.code, r.message ?? r.code, r.issues ?? []);
  return r;
}

/**
 * --wait: until every live agent has applied the change's cursor, then (for kinds with a
 * provisioning status) until the status settles, or the resource is gone after a delete.
 */
async function waitUntilApplied(
  client: ApiClient,
  k: ResourceKind,
  id: string,
  cursor: string | null | undefined,
  seconds: number,
  gone: boolean,
): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  const timeout = (what: string) => new CliError(EXIT.wait, 'WaitTimeout', `${k.name} ${id}: ${what} within ${seconds} s`);
  while (cursor) {
    const left = deadline - Date.now();
    if (left <= 0) throw timeout('not applied by every live agent');
    const { w } = await client.request<{ w: { applied: boolean; timedOut: boolean } }>(
      'query WaitForApplied($cursor: String!, $ms: Int) { w: waitForApplied(cursor: $cursor, timeoutMs: $ms) { applied timedOut } }',
      { cursor, ms: Math.min(left, 60_000) },
    );
    if (w.applied) break;
    if (!w.timedOut) {
      throw new CliError(
        EXIT.wait,
        'NoLiveAgent',
        `no live dataplane agent: nothing applies ${k.name} ${id} (run \`netledger serve\` as root, or \`netledger agent\` on a host)`,
      );
    }
  }
  const status = k.status;
  if (!status) return;
  for (;;) {
    const row = await fetchOne(client, k, id);
    if (gone && !row) return;
    if (row && !gone) {
      const value = String(row[status.column]);
      if (status.failed.includes(value)) {
        throw new CliError(
          EXIT.wait,
          value,
          `${k.name} ${id} is ${value}${status.reason && row[status.reason] ? `: ${String(row[status.reason])}` : ''}`,
        );
      }
      if (!status.pending.test(value)) return;
    }
    if (Date.now() >= deadline) throw timeout(gone ? 'still there' : `still ${row ? String(row[status.column]) : 'missing'}`);
    await new Promise((r) => setTimeout(r, WAIT_POLL_MS));
  }
}

interface OutputOptions {
  format: Format;
  column: string[];
}

const collect = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];

function withConnection(cmd: Command): Command {
  return cmd
    .option('--url <url>', 'the API (default: $NETLEDGER_URL, the config file, else http://$HOST:$PORT like `serve`)')
    .option('--token <token>', 'API token (default: $NETLEDGER_TOKEN, else the config file)');
}

function withOutput(cmd: Command): Command {
  return cmd
    .addOption(new Option('-f, --format <format>', 'output format').choices(FORMATS).default('table'))
    .option('-c, --column <column>', 'show only this column (repeat for more)', collect, []);
}

function withWait(cmd: Command): Command {
  return cmd
    .option('--wait', 'wait until the dataplane has applied it (and its provisioning status settled)')
    .option('--wait-timeout <seconds>', 'how long --wait waits', (v) => Number(v), DEFAULT_WAIT_SECONDS);
}

function addSpec(cmd: Command, spec: OptionSpec): void {
  const o = new Option(spec.flags, spec.description);
  if (spec.repeatable) o.argParser(collect);
  if (spec.choices) o.choices(spec.choices);
  if (spec.required) o.makeOptionMandatory();
  cmd.addOption(o);
}

/** Applies the options given on the command line (not commander's defaults) to a mutation input. */
async function buildInput(client: ApiClient, cmd: Command, specs: readonly OptionSpec[], input: Record<string, unknown>): Promise<void> {
  const opts = cmd.opts<Record<string, unknown>>();
  const ref = (k: KindName, v: string) => resolveRef(client, k, v);
  for (const spec of specs) {
    const key = new Option(spec.flags).attributeName();
    if (cmd.getOptionValueSource(key) !== 'cli') continue;
    await usage(() => spec.apply(input, opts[key], ref));
  }
}

/** A value the command line got wrong is a usage error (exit 2), unless it is the API's answer. */
async function usage<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(EXIT.usage, 'BadArgument', (e as Error).message);
  }
}

/** Runs a command's body with a client; a CliError is printed on stderr and sets the exit status. */
function action(body: (client: ApiClient, cmd: Command, args: string[]) => Promise<void>) {
  return async (...params: unknown[]) => {
    const cmd = params.at(-1) as Command;
    try {
      const client = new ApiClient(resolveConnection(cmd.opts<{ url?: string; token?: string }>()));
      await body(client, cmd, cmd.args);
    } catch (e) {
      if (!(e instanceof CliError)) throw e;
      process.stderr.write(`${e.describe()}\n`);
      process.exitCode = e.exitCode;
    }
  };
}

function print(text: string): void {
  if (text) process.stdout.write(`${text}\n`);
}

function registerKind(group: Command, k: ResourceKind): void {
  const all = columnsOf(k.fields);
  const noun = k.words.join(' ');

  const list = withOutput(withConnection(group.command('list').description(`list ${noun}s you can see`)))
    .option('--name <name>', 'only those with this name')
    .option('--project <id>', 'only those of this project (admins see every project)')
    .option('--tag <tag>', 'only those with this tag (repeat: all of them)', collect)
    .option('--long', 'every column');
  for (const o of k.listOptions ?? []) list.option(o.flags, o.description);
  list.action(
    action(async (client, cmd) => {
      const o = cmd.opts<
        OutputOptions & { name?: string; project?: string; tag?: string[]; long?: boolean } & Record<string, string | undefined>
      >();
      const args: Record<string, { type: string; value: Record<string, unknown> }> = {};
      const filter = (arg: string, type: string, field: string, value: unknown) => {
        (args[arg] ??= { type, value: {} }).value[field] = value;
      };
      if (o.name) filter('filter', 'ResourceFilter', 'name', o.name);
      if (o.project) filter('filter', 'ResourceFilter', 'projectId', o.project);
      if (o.tag) filter('filter', 'ResourceFilter', 'tags', o.tag);
      for (const lo of k.listOptions ?? []) {
        const value = o[new Option(lo.flags).attributeName()];
        if (value !== undefined) filter(lo.arg, lo.argType, lo.field, lo.ref ? await resolveRef(client, lo.ref, value) : value);
      }
      const columns = selectColumns(all, o.long ? all : k.listColumns, o.column);
      print(formatList(await listAll(client, k, args), columns, o.format));
    }),
  );

  withOutput(withConnection(group.command('show').description(`show one ${noun}`).argument(`<${k.name}>`, 'id or name'))).action(
    action(async (client, cmd, [ref]) => {
      const o = cmd.opts<OutputOptions>();
      const columns = selectColumns(all, all, o.column);
      const row = await fetchOne(client, k, await resolveRef(client, k.name, ref!));
      if (!row) throw new CliError(EXIT.refused, notFoundCode(k), `no ${k.name} ${ref}`);
      print(formatOne(row, columns, o.format));
    }),
  );

  const create = withWait(withOutput(withConnection(group.command('create').description(`create a ${noun}`))));
  if (k.positional) create.argument(k.positional.name, k.positional.required ? 'required' : 'optional');
  for (const spec of k.createOptions) addSpec(create, spec);
  create.action(
    action(async (client, cmd, args) => {
      const o = cmd.opts<OutputOptions & { wait?: boolean; waitTimeout: number }>();
      const columns = selectColumns(all, all, o.column);
      const input: Record<string, unknown> = {};
      const positional = args[0];
      if (k.positional && positional !== undefined)
        await usage(() => k.positional!.apply(input, positional, (kn, v) => resolveRef(client, kn, v)));
      await buildInput(client, cmd, k.createOptions, input);
      const r = await mutate(
        client,
        `create${k.mutation}`,
        `Create${k.mutation}Input`,
        `... on Create${k.mutation}Success { cursor ${k.payloadField} { ${k.fields} } }`,
        input,
      );
      let row = toRow(r[k.payloadField] as Record<string, Json>);
      if (o.wait) {
        await waitUntilApplied(client, k, String(row.id), r.cursor, o.waitTimeout, false);
        row = (await fetchOne(client, k, String(row.id))) ?? row;
      }
      print(formatOne(row, columns, o.format));
    }),
  );

  const del = withWait(withConnection(group.command('delete').description(`delete ${noun}s`).argument(`<${k.name}...>`, 'ids or names')));
  for (const spec of k.deleteOptions ?? []) addSpec(del, spec);
  del.action(
    action(async (client, cmd, refs) => {
      const o = cmd.opts<{ wait?: boolean; waitTimeout: number }>();
      const failures: CliError[] = [];
      // Like openstack: try each, report each failure, and fail at the end if any did.
      for (const ref of refs) {
        try {
          const id = await resolveRef(client, k.name, ref);
          const input: Record<string, unknown> = { id };
          await buildInput(client, cmd, k.deleteOptions ?? [], input);
          const r = await mutate(
            client,
            `delete${k.mutation}`,
            `Delete${k.mutation}Input`,
            `... on Delete${k.mutation}Success { cursor }`,
            input,
          );
          if (o.wait) await waitUntilApplied(client, k, id, r.cursor, o.waitTimeout, true);
        } catch (e) {
          if (!(e instanceof CliError)) throw e;
          process.stderr.write(`${refs.length > 1 ? `${ref}: ` : ''}${e.describe()}\n`);
          failures.push(e);
        }
      }
      if (failures.length > 1 || (failures.length === 1 && refs.length > 1))
        process.stderr.write(`${failures.length} of ${refs.length} ${noun}s failed to delete\n`);
      if (failures.length > 0) process.exitCode = failures.at(-1)!.exitCode;
    }),
  );
}

export function resourceCommands(program: Command): void {
  for (const k of KINDS) {
    let parent = program;
    for (const word of k.words) {
      parent =
        parent.commands.find((c) => c.name() === word) ??
        parent.command(word).description(`${k.words.join(' ')} resources (list, show, create, delete)`);
    }
    // Usage errors exit 2 here, apart from the API's refusals (1).
    parent.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : EXIT.usage));
    registerKind(parent, k);
  }
}
