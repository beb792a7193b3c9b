import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApiServer } from '../src/api/server.js';
import { startServices, type Running } from '../src/app/bootstrap.js';
import { issueToken, setQuota } from '../src/app/tenancy.js';
import { loadConfig } from '../src/config.js';
import type { QuotaResource } from '../src/domain/project/index.js';
import { createLogger } from '../src/log.js';

/** The API over real HTTP on a loopback port, and a member token of its own project: what the HTTP benches measure. */
export interface BenchApi {
  readonly services: Running;
  readonly server: Server;
  readonly endpoint: string;
  /** The member's project. */
  readonly projectId: string;
  /** Runs one operation as the member; a GraphQL error throws (a bench counts only answers). */
  gql(query: string, variables?: Record<string, unknown>): Promise<any>;
  stop(): Promise<void>;
}

export async function startBenchApi(
  url: string,
  project: string,
  /** Quotas lifted for the project, so a long run is not refused. */
  unlimited: readonly QuotaResource[],
  /** Runs before the server listens (e.g. to wrap its request handling). */
  beforeListen: (server: Server) => void = () => {},
): Promise<BenchApi> {
  const services = await startServices(
    loadConfig({ ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' }),
    createLogger('warn', { pretty: false }),
    { poolSize: 20 },
  );
  const server = createApiServer(services);
  beforeListen(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  const tok = await issueToken(services, { project, role: 'member' });
  if (!tok.ok) throw new Error(tok.error.message);
  for (const r of unlimited) await setQuota(services, tok.projectId, r, -1);
  const agent = new http.Agent({ keepAlive: true });
  return {
    services,
    server,
    endpoint,
    projectId: tok.projectId,
    async gql(query, variables = {}) {
      const body = (await postJson(agent, endpoint, tok.secret, JSON.stringify({ query, variables }))) as {
        data: unknown;
        errors?: unknown;
      };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return body.data;
    },
    async stop() {
      agent.destroy();
      server.closeAllConnections();
      server.close();
      await services.stop();
    },
  };
}

/**
 * The benches' HTTP client: node:http over kept-alive connections. fetch (undici) cost this process
 * 0.5-1 ms of CPU per request more, which the benches would have counted as the server's.
 */
export function postJson(agent: http.Agent, endpoint: string, token: string, body: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      endpoint,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve(JSON.parse(text));
          } catch {
            reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
          }
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
