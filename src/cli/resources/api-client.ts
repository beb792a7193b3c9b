import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The resource commands' only way to the server: GraphQL over HTTP with a bearer token, as any
 * other client. Failures become a CliError whose exit status says what kind of failure it was, so
 * scripts can tell "the API said no" from "the server is not there".
 */

export const EXIT = {
  /** The API refused the request: a typed error (NetworkInUse, OverQuota...), not found, ambiguous name. */
  refused: 1,
  /** Bad usage or configuration: unknown option, no token, a malformed URL. */
  usage: 2,
  /** The token was not accepted (HTTP 401/403). */
  auth: 3,
  /** The server could not be reached, answered 503, or answered something that is not GraphQL. */
  unavailable: 4,
  /** --wait gave up: not applied in time, or the resource ended in ERROR. */
  wait: 5,
} as const;

export interface FieldIssue {
  readonly path: readonly string[];
  readonly message: string;
}

export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    readonly code: string,
    message: string,
    readonly issues: readonly FieldIssue[] = [],
  ) {
    super(message);
  }

  /** What is printed on stderr: the code first, then one line per bad field. */
  describe(): string {
    return [`${this.code}: ${this.message}`, ...this.issues.map((i) => `  ${i.path.join('.') || '(input)'}: ${i.message}`)].join('\n');
  }
}

export interface Connection {
  readonly url: string;
  readonly token: string;
}

interface ConfigFile {
  url?: string;
  token?: string;
}

/** `$NETLEDGER_CONFIG`, else ~/.config/netledger/cli.json: `{"url": "...", "token": "nl_..."}`. */
export function configFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.NETLEDGER_CONFIG ?? path.join(env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config'), 'netledger', 'cli.json');
}

function readConfigFile(file: string, explicit: boolean): ConfigFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (!explicit && (e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(EXIT.usage, 'BadConfig', `cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null) throw new Error('not a JSON object');
    const { url, token } = parsed as Record<string, unknown>;
    return { ...(typeof url === 'string' ? { url } : {}), ...(typeof token === 'string' ? { token } : {}) };
  } catch (e) {
    throw new CliError(EXIT.usage, 'BadConfig', `${file}: ${(e as Error).message}`);
  }
}

/**
 * Where the API is: --url, NETLEDGER_URL, the config file, else the address `netledger serve` listens
 * on with the same environment (HOST and PORT), so a CLI beside the server finds it without flags.
 */
export function resolveConnection(
  flags: { url?: string | undefined; token?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): Connection {
  const file = readConfigFile(configFilePath(env), env.NETLEDGER_CONFIG !== undefined);
  const host = !env.HOST || env.HOST === '0.0.0.0' || env.HOST === '::' ? '127.0.0.1' : env.HOST;
  const raw = flags.url ?? env.NETLEDGER_URL ?? file.url ?? `http://${host.includes(':') ? `[${host}]` : host}:${env.PORT ?? '4000'}`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(EXIT.usage, 'BadConfig', `not a URL: ${raw} (NETLEDGER_URL or --url, e.g. http://127.0.0.1:4000)`);
  }
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/graphql';
  const token = flags.token ?? env.NETLEDGER_TOKEN ?? file.token;
  if (!token) {
    throw new CliError(
      EXIT.usage,
      'NoToken',
      `no API token: set NETLEDGER_TOKEN, pass --token, or put {"token": "nl_..."} in ${configFilePath(env)}`,
    );
  }
  return { url: url.toString(), token };
}

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

const REQUEST_TIMEOUT_MS = 150_000;

export class ApiClient {
  constructor(readonly connection: Connection) {}

  async request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.connection.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${this.connection.token}` },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        EXIT.unavailable,
        'Unreachable',
        `cannot reach ${this.connection.url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`,
      );
    }
    let body: GraphQLResponse<T>;
    try {
      body = (await res.json()) as GraphQLResponse<T>;
    } catch {
      throw new CliError(
        EXIT.unavailable,
        'BadResponse',
        `${this.connection.url} answered HTTP ${res.status} without a GraphQL body (is NETLEDGER_URL the API's /graphql?)`,
      );
    }
    const first = body.errors?.[0];
    if (res.status === 401 || res.status === 403) {
      throw new CliError(EXIT.auth, first?.extensions?.code ?? 'UNAUTHENTICATED', first?.message ?? `HTTP ${res.status}`);
    }
    if (res.status === 503)
      throw new CliError(EXIT.unavailable, first?.extensions?.code ?? 'ServiceUnavailable', first?.message ?? 'the server is unavailable');
    if (first) {
      throw new CliError(EXIT.refused, first.extensions?.code ?? 'GraphQLError', first.message);
    }
    if (!body.data) throw new CliError(EXIT.unavailable, 'BadResponse', `HTTP ${res.status} with no data`);
    return body.data;
  }
}
