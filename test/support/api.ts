import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startServices, type Running } from '../../src/app/bootstrap.js';
import { issueToken } from '../../src/app/tenancy.js';
import { createApiServer } from '../../src/api/server.js';
import { createTestDatabase, type TestDatabase } from './db.js';

export interface TestApi {
  readonly url: string;
  readonly services: Running;
  readonly db: TestDatabase;
  readonly adminToken: string;
  /** A member token of a project, created on first use. */
  token(project: string, role?: 'admin' | 'member'): Promise<string>;
  gql<T = any>(token: string, query: string, variables?: Record<string, unknown>): Promise<T>;
  /**
   * Runs the mutation `name(input: $i)` and answers its payload: `__typename`, `select` from its
   * `<Name>Success` when given, and a typed error's `code`, `message` and `issues`.
   */
  mutate<T = any>(token: string, name: string, input: Record<string, unknown>, select?: string): Promise<T>;
  /** `mutate` for a step that must succeed: answers the success payload (with its `cursor`), or throws the error payload. */
  mutateOk<T = any>(token: string, name: string, input: Record<string, unknown>, select?: string): Promise<T>;
  /** `fields` of the `kind` node with this uuid (its relay id is built here); null when the caller may not see it. */
  node<T = any>(token: string, kind: string, uuid: string, fields: string): Promise<T>;
  close(): Promise<void>;
}

/** The real server on an ephemeral loopback port, over a fresh database. */
export async function startTestApi(env: Record<string, string> = {}): Promise<TestApi> {
  const db = await createTestDatabase();
  const config = loadConfig({ ...process.env, ...env, DATABASE_URL: db.url, LOG_LEVEL: 'warn' });
  const services = await startServices(config, createLogger('warn', { pretty: false }), { poolSize: 20 });
  const server = createApiServer(services);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  const issued = await issueToken(services, { project: 'admin', role: 'admin' });
  if (!issued.ok) throw new Error(issued.error.message);
  const tokens = new Map<string, string>();
  const api: TestApi = {
    url,
    services,
    db,
    adminToken: issued.secret,
    async token(project, role = 'member') {
      const key = `${project}/${role}`;
      if (!tokens.has(key)) {
        const t = await issueToken(services, { project, role });
        if (!t.ok) throw new Error(t.error.message);
        tokens.set(key, t.secret);
      }
      return tokens.get(key)!;
    },
    async gql(token, query, variables = {}) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: any; errors?: { message: string }[] };
      if (body.errors) throw new Error(`GraphQL errors: ${body.errors.map((e) => e.message).join('; ')}`);
      return body.data;
    },
    async mutate(token, name, input, select = '') {
      const cap = name.charAt(0).toUpperCase() + name.slice(1);
      const success = select ? `... on ${cap}Success { ${select} }` : '';
      const r = await api.gql(token, `mutation($i: ${cap}Input!) { ${name}(input: $i) { __typename ${success} ${MUTATION_ERRORS} } }`, {
        i: input,
      });
      return r[name];
    },
    async mutateOk(token, name, input, select = '') {
      const cap = name.charAt(0).toUpperCase() + name.slice(1);
      const r = await api.mutate(token, name, input, `cursor ${select}`);
      if (r.__typename !== `${cap}Success`) throw new Error(`${name} failed: ${JSON.stringify(r)}`);
      return r;
    },
    async node(token, kind, uuid, fields) {
      const r = await api.gql(token, `query($id: ID!) { node(id: $id) { ... on ${kind} { ${fields} } } }`, {
        id: Buffer.from(`${kind}:${uuid}`).toString('base64'),
      });
      return r.node;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await services.stop();
      await db.drop();
    },
  };
  return api;
}

/** Every mutation's payload union holds these. */
const MUTATION_ERRORS = '... on Error { code message } ... on InputValidationError { issues { path message } }';

export const CREATE_NETWORK = `mutation($input: CreateNetworkInput!) { createNetwork(input: $input) { __typename
  ... on CreateNetworkSuccess { cursor network { id uuid name revision providerSegmentationId mtu } } ... on Error { code message } } }`;
export const CREATE_SUBNET = `mutation($input: CreateSubnetInput!) { createSubnet(input: $input) { __typename
  ... on CreateSubnetSuccess { subnet { id uuid cidr gatewayIp allocationPools { start end } } } ... on Error { code message } ... on InputValidationError { issues { path message } } } }`;
export const CREATE_PORT = `mutation($input: CreatePortInput!) { createPort(input: $input) { __typename
  ... on CreatePortSuccess { cursor port { id uuid macAddress status fixedIps { subnetId ipAddress } } } ... on Error { code message } } }`;
