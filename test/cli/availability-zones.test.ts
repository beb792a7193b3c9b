import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAgent } from '../../src/agent/registration.js';
import { startTestApi, type TestApi } from '../support/api.js';

/** `--availability-zone-hint` on network and router create, as openstack takes it, through the real binary and server. */
let api: TestApi;
let member: string;
beforeAll(async () => {
  api = await startTestApi();
  member = await api.token('cli-zones');
}, 120_000);
afterAll(async () => api?.close());

const cli = (args: string[]) =>
  execa(process.execPath, [path.resolve('bin/netledger.mjs'), ...args], {
    reject: false,
    env: { NETLEDGER_URL: api.url, NETLEDGER_TOKEN: member, LOG_LEVEL: 'warn' },
  });

describe('netledger network/router create --availability-zone-hint', () => {
  it('passes the hints, shows them with the zones serving the resource, and reports AvailabilityZoneNotFound', async () => {
    expect((await registerAgent(api.services, 'cli-zone-host', randomUUID(), null, 'legacy', null, 'az-cli')).ok).toBe(true);
    const refused = await cli(['network', 'create', '--availability-zone-hint', 'az-cli', '--availability-zone-hint', 'nowhere', 'n0']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('AvailabilityZoneNotFound: AvailabilityZone nowhere could not be found.');

    const net = await cli(['network', 'create', '--availability-zone-hint', 'az-cli', 'n1', '-f', 'json']);
    expect(net.exitCode, net.stderr).toBe(0);
    expect(JSON.parse(net.stdout)).toMatchObject({ name: 'n1', availability_zone_hints: ['az-cli'], availability_zones: [] });
    const router = await cli(['router', 'create', '--availability-zone-hint', 'az-cli', 'r1', '-f', 'json']);
    expect(router.exitCode, router.stderr).toBe(0);
    expect(JSON.parse(router.stdout)).toMatchObject({ name: 'r1', availability_zone_hints: ['az-cli'], availability_zones: [] });
  });
});
