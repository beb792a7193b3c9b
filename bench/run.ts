/**
 * `npm run bench [-- store api]`: measured figures for the README. Runs against DATABASE_URL or
 * an embedded PostgreSQL of its own (.data/pg-bench), each suite in a fresh database.
 */
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/db/embedded.js';
import { connect } from '../src/db/sql.js';
import { storeBench } from './store.js';
import { apiBench } from './api.js';
import { subscriptionsBench } from './subscriptions.js';
import { dataplaneBench } from './dataplane.js';
import { firewallBench } from './firewall.js';
import { haproxyBench } from './haproxy.js';
import { scaleBench } from './scale.js';
import { hostsBench } from './hosts.js';
import { createPortBench } from './createport.js';

const suites: Record<string, (url: string) => Promise<void>> = {
  store: storeBench,
  api: apiBench,
  dataplane: dataplaneBench,
  firewall: firewallBench,
  subscriptions: subscriptionsBench,
  haproxy: haproxyBench,
  scale: scaleBench,
  hosts: hostsBench,
  createport: createPortBench,
};
const wanted = process.argv.slice(2).filter((a) => a in suites);
const run = wanted.length > 0 ? wanted : Object.keys(suites);

let embedded: EmbeddedDatabase | undefined;
let admin = process.env.DATABASE_URL;
if (!admin) {
  embedded = await startEmbeddedPostgres({ dataDir: '.data/pg-bench', port: Number(process.env.NL_BENCH_PG_PORT ?? 54335) });
  admin = embedded.url;
}
console.log(
  `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
);
try {
  for (const name of run) {
    const db = `nl_bench_${randomBytes(4).toString('hex')}`;
    const a = connect(admin, { max: 1 });
    await a.unsafe(`create database ${db}`);
    const u = new URL(admin);
    u.pathname = `/${db}`;
    try {
      await suites[name]!(u.toString());
    } finally {
      await a.unsafe(`drop database if exists ${db} with (force)`);
      await a.end();
    }
  }
} finally {
  await embedded?.stop();
}
