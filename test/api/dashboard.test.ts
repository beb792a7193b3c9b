import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer, type ApiServer } from '../../src/api/server.js';
import { startServices, type Running } from '../../src/app/bootstrap.js';
import { issueToken } from '../../src/app/tenancy.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { logHead, recordApplied } from '../../src/agent/applied.js';
import { registerAgent } from '../../src/agent/registration.js';
import { reportStatuses } from '../../src/agent/reports.js';
import { CREATE_NETWORK, CREATE_PORT, CREATE_SUBNET } from '../support/api.js';
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
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
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
}, 300_000);

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
  }, 300_000);

  afterEach(() => {
    // Whatever went wrong inside the page is in the test output.
    if (page?.errors.length) console.log(`errors in the page: ${page.errors.splice(0).join('\n')}`);
  });

  afterAll(async () => {
    await browser?.close();
  });

  const login = async (p: Page, token: string) => {
    await p.goto(`${base}/ui`);
    await p.eval(
      `document.querySelector('#token').value = ${JSON.stringify(token)}; document.querySelector('#login button').click(); true`,
    );
    await p.waitFor('the app after login', `!document.querySelector('#app').hidden`);
    await p.waitFor('both subscriptions live', `document.querySelector('#conn').textContent === 'live'`);
  };
  const node = (id: string) => `document.querySelector('[data-id="${id}"]')`;
  const show = (view: string) => page.eval(`document.querySelector('nav button[data-view="${view}"]').click(); true`);
  /** The cursors of every event the page holds, oldest first. */
  const pageCursors = () =>
    page.eval<string[]>(`[...document.querySelectorAll('#event-list .event')].map((e) => e.dataset.cursor).reverse()`);

  it('logs in with a token and draws a network created after the page loaded, without a reload', async () => {
    const before = await createNetwork(admin, 'dash-before');
    await login(page, admin);
    await page.waitFor('the network that existed before', node(before));
    await page.eval(`window.__loaded = true`);
    const created = Date.now();
    const net = await createNetwork(admin, 'dash-live');
    await gql(admin, CREATE_SUBNET, { input: { networkId: net, cidr: '10.61.0.0/24', ipVersion: 4, name: 'dash-sub' } });
    await page.waitFor('the new network on the graph', node(net), 90_000);
    console.log(`network drawn ${Date.now() - created} ms after its mutation`);
    await page.waitFor('its subnet under it', `${node(net)}?.textContent.includes('10.61.0.0/24')`);
    // Same document: nothing reloaded the page.
    expect(await page.eval('window.__loaded')).toBe(true);
    expect(await page.eval(`${node(net)}.dataset.status`)).toBe('ACTIVE');
    await page.eval(`${node(net)}.dispatchEvent(new MouseEvent('click', { bubbles: true })); true`);
    await page.waitFor('its history in the details', `document.querySelector('#details').textContent.includes('NetworkCreated')`);
    await page.screenshot(path.join(OUT, 'dashboard-topology.png'));
  }, 300_000);

  it('colours a port by the status its agent reports, as the report happens', async () => {
    const net = await createNetwork(admin, 'dash-ports');
    await gql(admin, CREATE_SUBNET, { input: { networkId: net, cidr: '10.62.0.0/24', ipVersion: 4 } });
    const r = await gql(admin, CREATE_PORT, {
      input: {
        networkId: net,
        name: 'dash-vm-port',
        deviceOwner: 'compute:nova',
        deviceId: '5f0f6a1e-0000-4000-8000-000000000001',
        bindingHost: 'dash-host',
      },
    });
    const port = r.createPort.port.uuid as string;
    await page.waitFor('the port, down until an agent wires it', `${node(port)}?.classList.contains('st-down')`, 90_000);
    const stroke = () => page.eval<string>(`getComputedStyle(${node(port)}.querySelector('rect')).stroke`);
    const down = await stroke();
    // What an agent does once the port is wired: report it ACTIVE.
    expect(await reportStatuses(services, 'dash-host', [{ id: port, status: 'ACTIVE', reason: null }], [])).toBe(1);
    await page.waitFor('the port turned active', `${node(port)}?.classList.contains('st-active')`, 90_000);
    expect(await stroke()).not.toBe(down);
  }, 300_000);

  it('wires routers, load balancers and their members to their networks', async () => {
    const net = await createNetwork(admin, 'dash-web');
    const sub = await gql(admin, CREATE_SUBNET, { input: { networkId: net, cidr: '10.63.0.0/24', ipVersion: 4 } });
    const subnet = sub.createSubnet.subnet.uuid as string;
    const rr = await gql(
      admin,
      `mutation { createRouter(input: { name: "dash-edge" }) { ... on CreateRouterSuccess { router { uuid } } } }`,
    );
    const router = rr.createRouter.router.uuid as string;
    const ri = await gql(
      admin,
      `mutation($id: String!, $s: String!) { addRouterInterface(input: { id: $id, subnetId: $s }) { __typename ... on Error { code message } } }`,
      { id: router, s: subnet },
    );
    expect(ri.addRouterInterface.__typename).not.toMatch(/Error|Invalid|NotFound/);
    const lb = await gql(
      admin,
      `mutation($s: String!) { createLoadBalancer(input: { name: "dash-lb", vipSubnetId: $s }) { ... on CreateLoadBalancerSuccess { loadBalancer { uuid } } ... on Error { code message } } }`,
      { s: subnet },
    );
    const lbId = lb.createLoadBalancer.loadBalancer.uuid as string;
    const pool = await gql(
      admin,
      `mutation($lb: String!) { createPool(input: { loadBalancerId: $lb, lbAlgorithm: "ROUND_ROBIN", protocol: "TCP", name: "dash-pool" }) { ... on CreatePoolSuccess { pool { uuid } } ... on Error { code message } } }`,
      { lb: lbId },
    );
    const poolId = pool.createPool.pool.uuid as string;
    const m = await gql(
      admin,
      `mutation($p: String!, $s: String!) { addMember(input: { poolId: $p, subnetId: $s, address: "10.63.0.20", protocolPort: 80, name: "dash-web-1" }) { ... on AddMemberSuccess { member { uuid } } ... on Error { code message } } }`,
      { p: poolId, s: subnet },
    );
    const member = m.addMember.member.uuid as string;
    for (const [what, id] of [
      ['router', router],
      ['load balancer', lbId],
      ['member', member],
    ] as const)
      await page.waitFor(`the ${what}`, node(id), 90_000);
    // Each sits in its network's column, wired to its bar.
    const barX = await page.eval<number>(`+${node(net)}.querySelector('rect').getAttribute('x')`);
    for (const id of [router, lbId, member]) {
      const x = await page.eval<number>(`+/translate\\((\\d+)/.exec(${node(id)}.getAttribute('transform'))[1]`);
      expect(x - barX, id).toBeGreaterThan(0);
      expect(x - barX, id).toBeLessThan(100);
    }
    // The router's and the VIP's ports are drawn as their owners, not as ports.
    expect(await page.eval<number>(`document.querySelectorAll('#graph [data-kind="port"]').length`)).toBe(1);
    await page.screenshot(path.join(OUT, 'dashboard-topology-wired.png'));
  }, 300_000);

  it('shows the dataplane: each agent, what it hosts and how far behind it is; load balancer members', async () => {
    // What an agent does on start and after a pass: register, and record how far it applied.
    await registerAgent(services, 'dash-host', randomUUID());
    await recordApplied(services.sql, 'dash-host', await logHead(services.sql));
    await createNetwork(admin, 'dash-after-apply');
    await show('dataplane');
    const row = `document.querySelector('#agents tr[data-host="dash-host"]')`;
    await page.waitFor('the agent’s row', row, 90_000);
    const text = await page.eval<string>(`${row}.textContent`);
    expect(text).toContain('1 port: dash-vm-port');
    expect(text).toMatch(/\d+ behind/);
    await page.waitFor('the member’s health', `document.querySelector('#members').textContent.includes('dash-web-1')`);
    await page.screenshot(path.join(OUT, 'dashboard-dataplane.png'));
  }, 60_000);

  it('shows the event stream as it happens, expandable and filterable', async () => {
    await show('events');
    const net = await createNetwork(admin, 'dash-events');
    const entry = `document.querySelector('#event-list .event[data-resource="${net}"][data-type="NetworkCreated"]')`;
    await page.waitFor('the NetworkCreated entry', entry, 90_000);
    await page.eval(`${entry}.querySelector('details').open = true; true`);
    expect(await page.eval(`${entry}.textContent`)).toContain('dash-events');
    expect(await page.eval(`${entry}.textContent`)).toContain('requestId');
    await page.screenshot(path.join(OUT, 'dashboard-events.png'));
    const setFilter = (sel: string, v: string) =>
      page.eval(
        `{ const i = document.querySelector('${sel}'); i.value = ${JSON.stringify(v)}; i.dispatchEvent(new Event('input')); true }`,
      );
    await setFilter('#filter-kind', 'subnet');
    expect(await page.eval(`!!${entry}`)).toBe(false);
    expect(
      await page.eval(
        `[...document.querySelectorAll('#event-list .event')].every((e) => e.dataset.kind === 'subnet' || e.dataset.type.includes('Subnet'))`,
      ),
    ).toBe(true);
    await setFilter('#filter-kind', '');
    await setFilter('#filter-resource', net);
    expect(await page.eval(`[...document.querySelectorAll('#event-list .event')].map((e) => e.dataset.resource)`)).toEqual([net]);
    await setFilter('#filter-resource', '');
    // Every event the page holds, in the log's order, with none twice.
    const cursors = await pageCursors();
    expect(new Set(cursors).size).toBe(cursors.length);
  }, 300_000);

  it('travels back in time: a deleted router reappears, and the difference is shown', async () => {
    await show('topology');
    const r = await gql(
      admin,
      `mutation { createRouter(input: { name: "dash-router" }) { ... on CreateRouterSuccess { router { uuid } } } }`,
    );
    const router = r.createRouter.router.uuid as string;
    await page.waitFor('the router', node(router), 90_000);
    const withRouter = await page.eval<number>(`document.querySelector('#time').max`);
    await gql(admin, `mutation($id: String!) { deleteRouter(input: { id: $id }) { __typename } }`, { id: router });
    await page.waitFor('the router gone', `!${node(router)}`, 90_000);
    await page.eval(`{ const t = document.querySelector('#time'); t.value = '${withRouter}'; t.dispatchEvent(new Event('input')); true }`);
    await page.waitFor('the router back as of before its deletion', node(router));
    expect(await page.eval<string>(`document.querySelector('#time-label').textContent`)).toMatch(/^as of change/);
    await page.eval(`${node(router)}.dispatchEvent(new MouseEvent('click', { bubbles: true })); true`);
    await page.waitFor(
      'its state as of then, from resourceAsOf',
      `document.querySelector('#details').textContent.includes('as of the time slider') && document.querySelector('#details').textContent.includes('dash-router')`,
    );
    await page.eval(`document.querySelector('#compare').click(); document.querySelector('#live').click(); true`);
    await page.waitFor('the deleted router marked as removed', `${node(router)}?.classList.contains('diff-removed')`);
    await page.screenshot(path.join(OUT, 'dashboard-time-travel.png'));
    await page.eval(`document.querySelector('#compare').click(); true`);
    await page.waitFor('live again without the router', `!${node(router)}`);
  }, 300_000);

  it('scopes a member to its project; an admin can switch project', async () => {
    const theirs = await createNetwork(member, 'dash-tenant-net');
    const mine = await createNetwork(admin, 'dash-admin-net');
    const tenantPage = await browser.page();
    try {
      await login(tenantPage, member);
      await tenantPage.waitFor('the tenant’s network', node(theirs), 90_000);
      expect(await tenantPage.eval(`!!${node(mine)}`)).toBe(false);
      expect(await tenantPage.eval(`document.querySelector('#project').disabled`)).toBe(true);
      // Back to the admin's tab: a hidden page draws nothing until it is looked at again.
      await page.bringToFront();
      await page.waitFor('both networks for the admin', `${node(theirs)} && ${node(mine)}`, 90_000);
      const tenantProject = await page.eval<string>(
        `[...document.querySelectorAll('#project option')].find((o) => o.textContent === 'dash-tenant').value`,
      );
      await page.eval(
        `{ const s = document.querySelector('#project'); s.value = '${tenantProject}'; s.dispatchEvent(new Event('change')); true }`,
      );
      await page.waitFor('only the tenant’s network', `${node(theirs)} && !${node(mine)}`);
      await page.eval(`{ const s = document.querySelector('#project'); s.value = ''; s.dispatchEvent(new Event('change')); true }`);
    } finally {
      await tenantPage.close();
      await page.bringToFront();
    }
  }, 300_000);

  it('reconnects after the server restarts and misses no event', async () => {
    await show('events');
    // A real restart: the server drains, the services stop, new ones start on the same port.
    await server.drain(2000);
    await services.stop();
    await page.waitFor('the page noticing', `document.querySelector('#conn').textContent !== 'live'`, 90_000);
    services = await startServices(config, createLogger('warn', { pretty: false }), { poolSize: 10 });
    await listen(port);
    const net = await createNetwork(admin, 'dash-after-restart');
    await page.waitFor('live again', `document.querySelector('#conn').textContent === 'live'`, 90_000);
    await page.waitFor(
      'the network created after the restart in the events',
      `document.querySelector('#event-list .event[data-resource="${net}"]')`,
      90_000,
    );
    await page.waitFor('the network created after the restart on the graph', node(net), 90_000);
    // The page's events are exactly the log's tail: no gap, no duplicate.
    const cursors = await pageCursors();
    const log = await gql(admin, `query($n: Int!) { events(last: $n) { edges { cursor } } }`, { n: cursors.length });
    expect(cursors).toEqual(log.events.edges.map((e: { cursor: string }) => e.cursor));
    await page.screenshot(path.join(OUT, 'dashboard-after-restart.png'));
  }, 300_000);
  it('measures how long drawing the topology takes at 100, 1,000 and 5,000 resources', async () => {
    // A page of its own: a 5,000-node drawing must not hold up the live page's subscriptions.
    const bench = await browser.page();
    await bench.goto(`${base}/ui`);
    const timings = await bench.eval<Record<string, { cold: number; live: number }>>(`(async () => {
      const { renderTopology } = await import('/ui/topology.js');
      let svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
      document.body.append(svg);
      const out = {};
      for (const n of [100, 1000, 5000]) {
        // One network per 20 resources, the rest ports on them: a plausible project shape.
        const resources = new Map();
        const nets = Math.max(1, Math.floor(n / 20));
        const netIds = [];
        for (let i = 0; i < n; i++) {
          const id = crypto.randomUUID();
          const isNet = i < nets;
          if (isNet) netIds.push(id);
          resources.set(id, isNet
            ? { id, kind: 'network', revision: 1, state: { name: 'net-' + i, createdAt: String(i), adminStateUp: true, status: 'ACTIVE' } }
            : { id, kind: 'port', revision: 1, state: { name: 'port-' + i, networkId: netIds[i % nets], deviceOwner: 'compute:nova', status: i % 3 ? 'ACTIVE' : 'DOWN' } });
        }
        // The best of three: the machine's other load only ever adds. A cold draw starts from an
        // empty graph; a live redraw follows one port's status change on a graph already drawn.
        let cold = Infinity;
        let live = Infinity;
        for (let k = 0; k < 3; k++) {
          const fresh = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
          svg.replaceWith(fresh);
          svg = fresh;
          let t0 = performance.now();
          renderTopology(svg, resources, { project: '', selected: null, diff: null, onSelect: () => {} });
          svg.getBBox();
          cold = Math.min(cold, performance.now() - t0);
          const [id, port] = [...resources].find(([, r]) => r.kind === 'port');
          resources.set(id, { ...port, revision: port.revision + 1, state: { ...port.state, status: port.state.status === 'ACTIVE' ? 'DOWN' : 'ACTIVE' } });
          t0 = performance.now();
          const drawn = renderTopology(svg, resources, { project: '', selected: null, diff: null, onSelect: () => {} });
          svg.getBBox();
          live = Math.min(live, performance.now() - t0);
          if (svg.querySelectorAll('[data-id]').length !== drawn) throw new Error('the redraw lost or doubled nodes: ' + drawn);
          if (svg.querySelector('[data-id="' + id + '"]').dataset.status !== resources.get(id).state.status) throw new Error('the redraw missed the change');
        }
        out[n] = { cold: Math.round(cold), live: Math.round(live) };
      }
      svg.remove();
      return out;
    })()`);
    console.log(
      `topology draw time (ms) by resource count, cold and after one change: ${JSON.stringify(timings)}, load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`,
    );
    expect(Object.keys(timings)).toEqual(['100', '1000', '5000']);
    await bench.close();
  }, 300_000);
});
