/**
 * Try netledger on one machine: with `npm start` running as root (so its local agent runs), this
 * builds an external network, a tenant network behind a router, two instances and a floating IP,
 * then shows DHCP, instance-to-instance ping and SNAT with real packets.
 *
 *   NETLEDGER_TOKEN=<admin token printed by npm start> npx tsx scripts/demo.ts
 *
 * Everything it builds lives in network namespaces named with NETLEDGER_NS_PREFIX (default nl-);
 * it prints the commands that unplug the instances it made.
 */
import { execFileSync } from 'node:child_process';

const url = process.env.NETLEDGER_URL ?? 'http://127.0.0.1:4000/graphql';
const admin = process.env.NETLEDGER_TOKEN;
const host = process.env.NETLEDGER_HOST_NAME ?? 'local';
if (!admin) {
  console.error('set NETLEDGER_TOKEN to the admin token printed on the first `npm start`');
  process.exit(2);
}

async function gql(token: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: any; errors?: { message: string }[] };
  if (body.errors) throw new Error(body.errors.map((e) => e.message).join('; '));
  return body.data;
}

/** Runs a mutation and answers its success payload, or stops with the typed error. */
async function m(token: string, name: string, input: Record<string, unknown>, select: string): Promise<any> {
  const cap = name[0]!.toUpperCase() + name.slice(1);
  const q = `mutation($i: ${cap}Input!) { ${name}(input: $i) { __typename ... on ${cap}Success { cursor ${select} } ... on Error { code message } } }`;
  const out = (await gql(token, q, { i: input }))[name];
  if (out.__typename !== `${cap}Success`) throw new Error(`${name}: ${out.code}: ${out.message}`);
  return out;
}

const netledger = (...args: string[]) => execFileSync('npx', ['tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' }).trim();
const inNs = (ns: string, ...cmd: string[]) => execFileSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8' });

async function main(): Promise<void> {
  const step = (s: string) => console.log(`\n== ${s}`);
  step('admin: external network 203.0.113.0/24');
  const ext = (await m(admin!, 'createNetwork', { name: 'public', external: true }, 'network { id uuid }')).network;
  await m(admin!, 'createSubnet', { networkId: ext.id, ipVersion: 4, cidr: '203.0.113.0/24', enableDhcp: false }, 'subnet { uuid }');

  step('a member token for project demo');
  const token = (await m(admin!, 'createToken', { project: 'demo', role: 'member' }, 'token { secret }')).token.secret as string;

  step('member: network, subnet, router with gateway and interface, two instance ports, a floating IP');
  const net = (await m(token, 'createNetwork', { name: 'web' }, 'network { id uuid }')).network;
  const subnet = (await m(token, 'createSubnet', { networkId: net.id, ipVersion: 4, cidr: '10.10.0.0/24' }, 'subnet { id uuid }')).subnet;
  const router = (await m(token, 'createRouter', { name: 'r1' }, 'router { id uuid }')).router;
  await m(token, 'setRouterGateway', { id: router.id, networkId: ext.id }, 'router { uuid }');
  await m(token, 'addRouterInterface', { id: router.id, subnetId: subnet.id }, 'router { uuid }');
  const ports = [];
  for (const name of ['vm1', 'vm2']) {
    ports.push(
      (
        await m(
          token,
          'createPort',
          { networkId: net.id, name, deviceOwner: 'compute:nova', deviceId: name, bindingHost: host },
          'port { uuid fixedIps { ipAddress } }',
        )
      ).port,
    );
  }
  const fip = await m(
    token,
    'createFloatingIp',
    { floatingNetworkId: ext.id, portId: ports[0].uuid },
    'floatingIp { uuid floatingIpAddress }',
  );

  step('wait until the agent has applied all of it (no sleeping)');
  const wait = (await gql(token, `query($c: String!) { waitForApplied(cursor: $c, timeoutMs: 60000) { applied } }`, { c: fip.cursor }))
    .waitForApplied;
  if (!wait.applied) throw new Error('not applied: is `npm start` running as root (or `netledger agent`)?');

  step("plug the two instances: each takes its port's address by DHCP");
  const vms = ports.map((p) => JSON.parse(netledger('instance', 'plug', p.uuid)) as { namespace: string; lease: { address: string } });
  vms.forEach((v, i) => console.log(`${ports[i].uuid.slice(0, 8)} in ${v.namespace}: leased ${JSON.stringify(v.lease)}`));

  step(`ping from vm1 to vm2 (${ports[1].fixedIps[0].ipAddress})`);
  console.log(
    inNs(vms[0]!.namespace, 'ping', '-c', '2', '-W', '1', ports[1].fixedIps[0].ipAddress).trim().split('\n').slice(-2).join('\n'),
  );
  step('ping the router gateway from vm2');
  console.log(inNs(vms[1]!.namespace, 'ping', '-c', '1', '-W', '1', '10.10.0.1').trim().split('\n').slice(-2).join('\n'));

  console.log(`\nvm1 is published as ${fip.floatingIp.floatingIpAddress}. Port status now:`);
  const st = await gql(
    token,
    `query($n: String) { ports(filter: { networkId: $n }) { edges { node { name deviceOwner status fixedIps { ipAddress } } } } }`,
    { n: net.uuid },
  );
  for (const e of st.ports.edges)
    console.log(
      `  ${e.node.name || e.node.deviceOwner}: ${e.node.status} ${e.node.fixedIps.map((f: { ipAddress: string }) => f.ipAddress).join(' ')}`,
    );
  console.log(`\nTry: sudo ip netns exec ${vms[0]!.namespace} ping 203.0.113.1   (SNAT through the router)`);
  console.log(`     npx netledger events tail --follow   (every change, live)`);
  console.log(`Clean up: ${ports.map((p) => `npx netledger instance unplug ${p.uuid}`).join(' && ')}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
