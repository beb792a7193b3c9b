import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/api.js';
import { freePort } from '../support/ports.js';

/**
 * The resource commands as an operator types them: the real `netledger` binary as a child process,
 * against the real API over HTTP with a token, its output read back as a user or a script would.
 */

const root = path.resolve('.');
let api: TestApi;
let member: string;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'nl-cli-resources-'));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const full: NodeJS.ProcessEnv = {
    ...process.env,
    NETLEDGER_URL: api.url,
    NETLEDGER_TOKEN: member,
    NETLEDGER_CONFIG: undefined,
    LOG_LEVEL: 'warn',
    ...env,
  };
  for (const [k, v] of Object.entries(full)) if (v === undefined) delete full[k];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'bin/netledger.mjs'), ...args], {
      cwd: root,
      env: full,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs and expects exit 0, answering stdout. */
async function ok(args: string[], env: Record<string, string | undefined> = {}): Promise<string> {
  const r = await cli(args, env);
  expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

const json = <T = Record<string, unknown>>(text: string) => JSON.parse(text) as T;

beforeAll(async () => {
  api = await startTestApi();
  member = await api.token('cli-demo');
}, 120_000);

afterAll(async () => {
  await api?.close();
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe('netledger <resource> against a real server', () => {
  it('creates, lists (table, json, value, yaml), shows and deletes a network with a subnet and a port', async () => {
    const net = json(await ok(['network', 'create', 'web', '-f', 'json']));
    expect(net).toMatchObject({ name: 'web', status: 'ACTIVE', admin_state_up: true, subnets: [] });
    const netId = String(net.id);

    const subnet = json(
      await ok([
        'subnet',
        'create',
        '--network',
        'web',
        '--subnet-range',
        '10.20.0.0/24',
        '--dns-nameserver',
        '10.20.0.53',
        'web-v4',
        '-f',
        'json',
      ]),
    );
    expect(subnet).toMatchObject({
      name: 'web-v4',
      network_id: netId,
      cidr: '10.20.0.0/24',
      gateway_ip: '10.20.0.1',
      dns_nameservers: ['10.20.0.53'],
    });

    const table = await ok(['network', 'list']);
    const lines = table.trim().split('\n');
    expect(lines[0]).toMatch(/^\+-+\+-+\+-+\+$/);
    expect(lines[1]).toMatch(/^\| ID +\| Name +\| Subnets +\|$/);
    expect(lines.find((l) => l.includes(netId))).toMatch(new RegExp(`^\\| ${netId} \\| web +\\| ${String(subnet.id)} \\|$`));

    expect(json(await ok(['network', 'list', '-f', 'json', '-c', 'id', '-c', 'Name']))).toEqual([{ id: netId, name: 'web' }]);
    expect(await ok(['subnet', 'list', '--network', 'web', '-f', 'value', '-c', 'cidr', '-c', 'name'])).toBe('10.20.0.0/24 web-v4\n');

    const port = json<{ id: string; fixed_ips: { ip_address: string; subnet_id: string }[]; status: string }>(
      await ok(['port', 'create', '--network', netId, 'web-1', '-f', 'json']),
    );
    expect(port.fixed_ips).toHaveLength(1);
    expect(port.fixed_ips[0]!.subnet_id).toBe(subnet.id);

    const yaml = await ok(['network', 'show', 'web', '-f', 'yaml', '-c', 'name', '-c', 'subnets', '-c', 'admin_state_up']);
    expect(yaml).toBe(`name: web\nsubnets:\n- ${String(subnet.id)}\nadmin_state_up: true\n`);
    const shown = await ok(['port', 'show', 'web-1']);
    expect(shown).toMatch(/^\| Field +\| Value +\|$/m);
    expect(shown).toContain(`ip_address='${port.fixed_ips[0]!.ip_address}', subnet_id='${String(subnet.id)}'`);

    // The API's typed error, on stderr, with exit status 1; nothing was deleted.
    const inUse = await cli(['network', 'delete', 'web']);
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toMatch(/^NetworkInUse: /);

    await ok(['port', 'delete', port.id]);
    await ok(['network', 'delete', 'web']);
    expect(json(await ok(['network', 'list', '-f', 'json']))).toEqual([]);
    const gone = await cli(['network', 'show', netId]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^NetworkNotFound: /);
  });

  it('manages security groups and their rules, floating IPs by address, routers and load balancers', async () => {
    const admin = { NETLEDGER_TOKEN: api.adminToken };
    await ok(['network', 'create', 'public', '--external', '--share'], admin);
    await ok(['subnet', 'create', '--network', 'public', '--subnet-range', '203.0.113.0/24', 'public-v4'], admin);
    const fip = json(await ok(['floating-ip', 'create', 'public', '-f', 'json']));
    expect(fip).toMatchObject({ status: 'DOWN', port_id: null });
    const address = String(fip.floating_ip_address);
    expect(await ok(['floating-ip', 'show', address, '-f', 'value', '-c', 'id'])).toBe(`${String(fip.id)}\n`);
    await ok(['floating-ip', 'delete', address]);

    await ok(['security-group', 'create', 'ssh', '--description', 'ssh from anywhere']);
    const rule = json(
      await ok([
        'security-group',
        'rule',
        'create',
        'ssh',
        '--protocol',
        'tcp',
        '--dst-port',
        '22',
        '--remote-ip',
        '0.0.0.0/0',
        '-f',
        'json',
      ]),
    );
    expect(rule).toMatchObject({
      direction: 'ingress',
      protocol: 'tcp',
      port_range_min: 22,
      port_range_max: 22,
      remote_ip_prefix: '0.0.0.0/0',
    });
    const rules = json<{ protocol: string | null; direction: string }[]>(
      await ok(['security-group', 'rule', 'list', '--security-group', 'ssh', '-f', 'json']),
    );
    expect(rules.map((r) => `${r.direction}/${r.protocol ?? 'any'}`).sort()).toEqual(['egress/any', 'egress/any', 'ingress/tcp']);
    await ok(['security-group', 'rule', 'delete', String(rule.id)]);
    await ok(['security-group', 'delete', 'ssh']);

    const router = json(await ok(['router', 'create', 'edge', '-f', 'json']));
    expect(router).toMatchObject({ name: 'edge', external_gateway_info: null, interfaces_info: [] });

    await ok(['network', 'create', 'lbnet']);
    await ok(['subnet', 'create', '--network', 'lbnet', '--subnet-range', '10.30.0.0/24', 'lbsub']);
    // No agent runs beside this server: --wait says so and fails rather than waiting forever.
    const lb = await cli(['loadbalancer', 'create', '--name', 'lb1', '--vip-subnet-id', 'lbsub', '--wait', '-f', 'json']);
    expect(lb.code).toBe(5);
    expect(lb.stderr).toMatch(/^NoLiveAgent: /);
    expect(json(await ok(['loadbalancer', 'list', '-f', 'json', '-c', 'name', '-c', 'provisioning_status']))).toEqual([
      { name: 'lb1', provisioning_status: 'PENDING_CREATE' },
    ]);
    // Two at once, one of them unknown: each failure reported, the rest done, exit 1.
    const both = await cli(['router', 'delete', 'edge', 'no-such-router']);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('no-such-router: RouterNotFound: ');
    expect(both.stderr).toContain('1 of 2 routers failed to delete');
    expect(json(await ok(['router', 'list', '-f', 'json']))).toEqual([]);
  });

  it('creates a router with its external gateway at once, as openstack router create --external-gateway does', async () => {
    const admin = { NETLEDGER_TOKEN: api.adminToken };
    const subnetId = (await ok(['subnet', 'show', 'public-v4', '-f', 'value', '-c', 'id'])).trim();
    const netId = (await ok(['network', 'show', 'public', '-f', 'value', '-c', 'id'])).trim();

    const plain = json(await ok(['router', 'create', '--external-gateway', 'public', 'edge-1', '-f', 'json']));
    expect(plain.external_gateway_info).toMatchObject({
      network_id: netId,
      enable_snat: true,
      external_fixed_ips: [{ subnet_id: subnetId, ip_address: expect.any(String) }],
    });

    const chosen = json(
      await ok(
        [
          'router',
          'create',
          'edge-2',
          '--disable-snat',
          '--fixed-ip',
          'subnet=public-v4,ip-address=203.0.113.50',
          '--external-gateway',
          'public',
          '-f',
          'json',
        ],
        admin,
      ),
    );
    expect(chosen.external_gateway_info).toEqual({
      network_id: netId,
      enable_snat: false,
      external_fixed_ips: [{ subnet_id: subnetId, ip_address: '203.0.113.50' }],
    });

    // Choosing SNAT or the address is the admin's (Neutron's policy): the API refuses, nothing is made.
    const member = await cli(['router', 'create', '--external-gateway', 'public', '--disable-snat', 'edge-3']);
    expect(member.code).toBe(1);
    expect(member.stderr).toMatch(/^PolicyNotAuthorized: /);
    // Without a gateway they mean nothing: a usage error before any request.
    const alone = await cli(['router', 'create', '--fixed-ip', 'ip-address=203.0.113.51', 'edge-4']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/^BadArgument: --fixed-ip needs --external-gateway/);
    const unknown = await cli(['router', 'create', '--external-gateway', 'no-such-net', 'edge-5']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^NetworkNotFound: /);

    // Nothing made by the refused ones (edge-2 is the admin's project's).
    expect(
      json<{ name: string }[]>(await ok(['router', 'list', '-f', 'json', '-c', 'name'], admin))
        .map((r) => r.name)
        .sort(),
    ).toEqual(['edge-1', 'edge-2']);
    await ok(['router', 'delete', 'edge-1', 'edge-2'], admin);
  });

  it('fails clearly, with an exit status per kind of failure', async () => {
    const emptyConfig = path.join(scratch, 'empty.json');
    fs.writeFileSync(emptyConfig, '{}');
    const [badToken, noToken, unreachable, badColumn, missingOption, badFormat, ambiguous] = await Promise.all([
      cli(['network', 'list'], { NETLEDGER_TOKEN: 'nl_not_a_token' }),
      cli(['network', 'list'], { NETLEDGER_TOKEN: undefined, NETLEDGER_CONFIG: emptyConfig }),
      cli(['network', 'list'], { NETLEDGER_URL: `http://127.0.0.1:${await freePort()}` }),
      cli(['network', 'list', '-c', 'nope']),
      cli(['subnet', 'create', '--network', 'x']),
      cli(['network', 'list', '-f', 'xml']),
      (async () => {
        await ok(['network', 'create', 'twin']);
        await ok(['network', 'create', 'twin']);
        return cli(['network', 'show', 'twin']);
      })(),
    ]);
    expect(badToken.code, badToken.stderr).toBe(3);
    expect(badToken.stderr).toMatch(/^UNAUTHENTICATED: /);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toMatch(/^NoToken: .*NETLEDGER_TOKEN/);
    expect(unreachable.code).toBe(4);
    expect(unreachable.stderr).toMatch(/^Unreachable: cannot reach http:\/\/127\.0\.0\.1:\d+\/graphql: ECONNREFUSED/);
    expect(badColumn.code).toBe(2);
    expect(badColumn.stderr).toMatch(/^UnknownColumn: no column "nope"; the columns are: id, name, status/);
    expect(missingOption.code).toBe(2);
    expect(missingOption.stderr).toContain("required option '--subnet-range <cidr>' not specified");
    expect(badFormat.code).toBe(2);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toMatch(/^NoUniqueMatch: more than one network matches "twin"/);
    for (const r of [badToken, noToken, unreachable, badColumn]) expect(r.stdout).toBe('');
  });

  it('takes the URL and token from a config file when the environment has none', async () => {
    const file = path.join(scratch, 'cli.json');
    fs.writeFileSync(file, JSON.stringify({ url: api.url.replace(/\/graphql$/, ''), token: member }), { mode: 0o600 });
    const args = ['network', 'list', '-f', 'value', '-c', 'name'];
    const fromFile = await ok(args, { NETLEDGER_URL: undefined, NETLEDGER_TOKEN: undefined, NETLEDGER_CONFIG: file });
    expect(fromFile).toContain('twin');
    expect(fromFile).toBe(await ok(args));
    const missing = await cli(args, { NETLEDGER_TOKEN: undefined, NETLEDGER_CONFIG: path.join(scratch, 'absent.json') });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^BadConfig: cannot read .*absent\.json/);
  });
});
