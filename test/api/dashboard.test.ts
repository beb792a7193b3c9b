import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer, type ApiServer } from '../../src/api/server.js';
import { startServices, type Running } from '../../src/app/bootstrap.js';
import { issueToken } from '../../src/app/tenancy.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { CREATE_NETWORK, CREATE_SUBNET } from '../support/api.js';
import { CHROMIUM, launchChromium, type Browser, type Page } from '../support/chromium.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

/**
 * The dashboard at /ui over the real server and database: served whole from this server, and in
 * headless Chromium kept current by subscriptions, across a server restart.
 */

const OUT = path.resolve('.data/test-artifacts');

let db: TestDatabase;
let services: Running;
let config: ReturnType<typeof loadConfig>;
let server: ApiServer;
let port: number;
let base: string;
let admin: string;
let member: string;

async function listen(at = 0): Promise<void> {
  server = createApiServer(services);
  await new Promise<void>((r) => server.listen(at, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
}

async function gql<T = any>(token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors) throw new Error(body.errors.map((e) => e.message).join('; '));
  return body.data!;
}

async function createNetwork(token: string, name: string): Promise<string> {
  const r = await gql(token, CREATE_NETWORK, { input: { name } });
  expect(r.createNetwork.__typename).toBe('CreateNetworkSuccess');
  return r.createNetwork.network.uuid as string;
}

beforeAll(async () => {
  db = await createTestDatabase();
  config = loadConfig({ ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'warn' });
  services = await startServices(config, createLogger('warn', { pretty: false }), { poolSize: 10 });
  await listen();
  const a = await issueToken(services, { project: 'admin', role: 'admin' });
  const m = await issueToken(services, { project: 'dash-tenant', role: 'member' });
  if (!a.ok || !m.ok) throw new Error('could not issue tokens');
  admin = a.secret;
  member = m.secret;
}, 120_000);

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await services?.stop();
  await db?.drop();
});

describe('the dashboard’s files', () => {
  it('serves the page and every module it imports from this server, with no other host named', async () => {
    const page = await fetch(`${base}/ui`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await page.text();
    const queue = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(queue).toEqual(expect.arrayContaining(['/ui/main.js', '/ui/dashboard.css']));
    const fetched = new Set<string>();
    while (queue.length > 0) {
      const url = queue.shift()!;
      if (fetched.has(url)) continue;
      fetched.add(url);
      expect(url, url).toMatch(/^\/ui\/[\w.-]+\.(js|css)$/);
      const r = await fetch(`${base}${url}`);
      expect(r.status, url).toBe(200);
      expect(r.headers.get('content-type'), url).toMatch(url.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
      const text = await r.text();
      // The only absolute URL allowed is SVG's namespace, which is a name, not a request.
      expect(text.replaceAll('http://www.w3.org/2000/svg', ''), url).not.toMatch(/https?:\/\//);
      for (const m of text.matchAll(/from '\.\/([\w.-]+)'/g)) queue.push(`/ui/${m[1]}`);
    }
    expect(fetched.size).toBeGreaterThanOrEqual(7);
    expect((await fetch(`${base}/ui/`)).status).toBe(200);
    expect((await fetch(`${base}/ui/../package.json`)).status).toBe(404);
    expect((await fetch(`${base}/ui/nope.js`)).status).toBe(404);
  });
});

describe.skipIf(!fs.existsSync(CHROMIUM))('the dashboard in headless Chromium', () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium(path.join(OUT, 'dashboard-profile'));
    page = await browser.page();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  const login = async (p: Page, token: string) => {
    await p.goto(`${base}/ui`);
    await p.eval(`document.querySelector('#token').value = ${JSON.stringify(token)}; document.querySelector('#login button').click(); true`);
    await p.waitFor('the app after login', `!document.querySelector('#app').hidden`);
    await p.waitFor('both subscriptions live', `document.querySelector('#conn').textContent === 'live'`);
  };
  const node = (id: string) => `document.querySelector('[data-id="${id}"]')`;
  const show = (view: string) => page.eval(`document.querySelector('nav button[data-view="${view}"]').click(); true`);
  /** The cursors of every event the page holds, oldest first. */
  const pageCursors = () => page.eval<string[]>(`[...document.querySelectorAll('#event-list .event')].map((e) => e.dataset.cursor).reverse()`);

  it('logs in with a token and draws a network created after the page loaded, without a reload', async () => {
    const before = await createNetwork(admin, 'dash-before');
    await login(page, admin);
    await page.waitFor('the network that existed before', node(before));
    await page.eval(`window.__loaded = true`);
    const created = Date.now();
    const net = await createNetwork(admin, 'dash-live');
    await gql(admin, CREATE_SUBNET, { input: { networkId: net, cidr: '10.61.0.0/24', ipVersion: 4, name: 'dash-sub' } });
    await page.waitFor('the new network on the graph', node(net), 15_000);
    console.log(`network drawn ${Date.now() - created} ms after its mutation`);
    await page.waitFor('its subnet under it', `${node(net)}?.textContent.includes('10.61.0.0/24')`);
    // Same document: nothing reloaded the page.
    expect(await page.eval('window.__loaded')).toBe(true);
    expect(await page.eval(`${node(net)}.dataset.status`)).toBe('ACTIVE');
    await page.eval(`${node(net)}.dispatchEvent(new MouseEvent('click', { bubbles: true })); true`);
    await page.waitFor('its history in the details', `document.querySelector('#details').textContent.includes('NetworkCreated')`);
    await page.screenshot(path.join(OUT, 'dashboard-topology.png'));
  }, 120_000);

  it('shows the event stream as it happens, expandable and filterable', async () => {
    await show('events');
    const net = await createNetwork(admin, 'dash-events');
    const entry = `document.querySelector('#event-list .event[data-resource="${net}"][data-type="NetworkCreated"]')`;
    await page.waitFor('the NetworkCreated entry', entry, 15_000);
    await page.eval(`${entry}.querySelector('details').open = true; true`);
    expect(await page.eval(`${entry}.textContent`)).toContain('dash-events');
    expect(await page.eval(`${entry}.textContent`)).toContain('requestId');
    await page.screenshot(path.join(OUT, 'dashboard-events.png'));
    const setFilter = (sel: string, v: string) => page.eval(`{ const i = document.querySelector('${sel}'); i.value = ${JSON.stringify(v)}; i.dispatchEvent(new Event('input')); true }`);
    await setFilter('#filter-kind', 'subnet');
    expect(await page.eval(`!!${entry}`)).toBe(false);
    expect(await page.eval(`[...document.querySelectorAll('#event-list .event')].every((e) => e.dataset.kind === 'subnet' || e.dataset.type.includes('Subnet'))`)).toBe(true);
    await setFilter('#filter-kind', '');
    await setFilter('#filter-resource', net);
    expect(await page.eval(`[...document.querySelectorAll('#event-list .event')].map((e) => e.dataset.resource)`)).toEqual([net]);
    await setFilter('#filter-resource', '');
    // Every event the page holds, in the log's order, with none twice.
    const cursors = await pageCursors();
    expect(new Set(cursors).size).toBe(cursors.length);
  }, 120_000);

  it('travels back in time: a deleted router reappears, and the difference is shown', async () => {
    await show('topology');
    const r = await gql(admin, `mutation { createRouter(input: { name: "dash-router" }) { ... on CreateRouterSuccess { router { uuid } } } }`);
    const router = r.createRouter.router.uuid as string;
    await page.waitFor('the router', node(router), 15_000);
    const withRouter = await page.eval<number>(`document.querySelector('#time').max`);
    await gql(admin, `mutation($id: String!) { deleteRouter(input: { id: $id }) { __typename } }`, { id: router });
    await page.waitFor('the router gone', `!${node(router)}`, 15_000);
    await page.eval(`{ const t = document.querySelector('#time'); t.value = '${withRouter}'; t.dispatchEvent(new Event('input')); true }`);
    await page.waitFor('the router back as of before its deletion', node(router));
    expect(await page.eval<string>(`document.querySelector('#time-label').textContent`)).toMatch(/^as of change/);
    await page.eval(`${node(router)}.dispatchEvent(new MouseEvent('click', { bubbles: true })); true`);
    await page.waitFor('its state as of then, from resourceAsOf', `document.querySelector('#details').textContent.includes('as of the time slider') && document.querySelector('#details').textContent.includes('dash-router')`);
    await page.eval(`document.querySelector('#compare').click(); document.querySelector('#live').click(); true`);
    await page.waitFor('the deleted router marked as removed', `${node(router)}?.classList.contains('diff-removed')`);
    await page.screenshot(path.join(OUT, 'dashboard-time-travel.png'));
    await page.eval(`document.querySelector('#compare').click(); true`);
    await page.waitFor('live again without the router', `!${node(router)}`);
  }, 120_000);

  it('scopes a member to its project; an admin can switch project', async () => {
    const theirs = await createNetwork(member, 'dash-tenant-net');
    const mine = await createNetwork(admin, 'dash-admin-net');
    const tenantPage = await browser.page();
    await login(tenantPage, member);
    await tenantPage.waitFor('the tenant’s network', node(theirs), 15_000);
    expect(await tenantPage.eval(`!!${node(mine)}`)).toBe(false);
    expect(await tenantPage.eval(`document.querySelector('#project').disabled`)).toBe(true);
    await page.waitFor('both networks for the admin', `${node(theirs)} && ${node(mine)}`, 15_000);
    const tenantProject = await page.eval<string>(`[...document.querySelectorAll('#project option')].find((o) => o.textContent === 'dash-tenant').value`);
    await page.eval(`{ const s = document.querySelector('#project'); s.value = '${tenantProject}'; s.dispatchEvent(new Event('change')); true }`);
    await page.waitFor('only the tenant’s network', `${node(theirs)} && !${node(mine)}`);
    await page.eval(`{ const s = document.querySelector('#project'); s.value = ''; s.dispatchEvent(new Event('change')); true }`);
    await tenantPage.close();
  }, 120_000);

  it('reconnects after the server restarts and misses no event', async () => {
    await show('events');
    // A real restart: the server drains, the services stop, new ones start on the same port.
    await server.drain(2000);
    await services.stop();
    await page.waitFor('the page noticing', `document.querySelector('#conn').textContent !== 'live'`, 15_000);
    services = await startServices(config, createLogger('warn', { pretty: false }), { poolSize: 10 });
    await listen(port);
    const net = await createNetwork(admin, 'dash-after-restart');
    await page.waitFor('live again', `document.querySelector('#conn').textContent === 'live'`, 30_000);
    await page.waitFor('the network created after the restart in the events', `document.querySelector('#event-list .event[data-resource="${net}"]')`, 30_000);
    await page.waitFor('the network created after the restart on the graph', node(net), 30_000);
    // The page's events are exactly the log's tail: no gap, no duplicate.
    const cursors = await pageCursors();
    const log = await gql(admin, `query($n: Int!) { events(last: $n) { edges { cursor } } }`, { n: cursors.length });
    expect(cursors).toEqual(log.events.edges.map((e: { cursor: string }) => e.cursor));
    await page.screenshot(path.join(OUT, 'dashboard-after-restart.png'));
  }, 120_000);
});
