import { startBenchApi } from './http-api.js';
import { fmt, load } from './stats.js';
import { LIST_QUERY, listBench } from './list.js';
import { loadAvg } from './scale.js';

/** createPort and list over real HTTP, beside Neutron's figures measured on the same kind of machine. */
export async function apiBench(url: string): Promise<void> {
  const api = await startBenchApi(url, 'bench', ['port']);
  const { gql, stop } = api;
  const net = (await gql(`mutation { createNetwork(input: { name: "bench" }) { ... on CreateNetworkSuccess { network { id uuid } } } }`))
    .createNetwork.network;
  await gql(`mutation($n: String!) { createSubnet(input: { networkId: $n, ipVersion: 4, cidr: "10.64.0.0/21" }) { __typename } }`, {
    n: net.id,
  });
  const create = `mutation($n: String!) { createPort(input: { networkId: $n }) { __typename ... on CreatePortSuccess { port { uuid fixedIps { ipAddress } } } ... on Error { code } } }`;
  console.log('\n## API (HTTP, GraphQL) beside Neutron');
  console.log('| operation | netledger req/s | p50 ms | p99 ms | Neutron (same machine kind) |');
  console.log('|---|---|---|---|---|');
  const neutron: Record<number, string> = { 1: '8.6 req/s, p99 157 ms', 8: '13.0 req/s, p99 931 ms', 32: 'not measured' };
  let created = 0;
  for (const [c, n] of [
    [1, 150],
    [8, 400],
    [32, 450],
  ] as const) {
    const r = await load(n, c, async () => {
      const out = (await gql(create, { n: net.id })).createPort;
      if (out.__typename !== 'CreatePortSuccess') throw new Error(out.code);
    });
    created += n;
    console.log(
      `| createPort, concurrency ${c} (subnet at ${created - n}-${created} ports) | ${fmt(r.rate)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${neutron[c]} |`,
    );
  }
  const warm = (await gql(LIST_QUERY, { n: net.uuid })).ports.totalCount;
  const l = await load(30, 1, () => gql(LIST_QUERY, { n: net.uuid }));
  console.log(`| list ${warm} ports (load ${loadAvg()}) | ${fmt(l.rate)} | ${fmt(l.p50)} | ${fmt(l.p99)} | 4.3 req/s, p50 224 ms |`);
  await listBench(api, net.uuid);
  await stop();
}
