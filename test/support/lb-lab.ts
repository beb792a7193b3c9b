/**
 * The load balancer lab shared by test/agent/haproxy*.test.ts and bench/haproxy.ts: a tenant
 * network with four instance ports, a VIP and a load balancer, member HTTP servers and a client,
 * all inside this run's namespaces (root).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { execa } from 'execa';
import { haproxySocketCommand } from '../../src/agent/drivers/haproxy.js';
import { parseShowStat } from '../../src/agent/lb-health.js';
import { isAlive, terminate } from '../../src/agent/procs.js';
import { haproxyPaths, lbaasDir } from '../../src/projections/desired-state/haproxy.js';
import type {
  Topology,
  TopologyListener,
  TopologyLoadBalancer,
  TopologyMember,
  TopologyPool,
  TopologyPort,
} from '../../src/projections/desired-state/topology.js';
import { port, scenario, type Scenario } from '../agent/fixtures.js';

export const MEMBER_PORT = 8080;
export const LISTENER_PORT = 80;

// A member answers its own name; `/slow/N` streams N lines, one every 100 ms (for reload tests).
const MEMBER_SERVER = `
import http.server, sys, time
name, port = sys.argv[1], int(sys.argv[2])
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.0'
    def do_GET(self):
        if self.path.startswith('/slow/'):
            self.send_response(200); self.send_header('Content-Type', 'text/plain'); self.end_headers()
            for i in range(int(self.path.split('/')[2])):
                self.wfile.write(('%s %d\\n' % (name, i)).encode()); self.wfile.flush(); time.sleep(0.1)
            return
        body = name.encode()
        self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_HEAD(self):
        self.send_response(200); self.end_headers()
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(('0.0.0.0', port), H).serve_forever()
`;

// Sequential requests, a new connection each (so every one is balanced); optional cookie jar.
const CLIENT = `
import http.client, json, sys
host, port, n, jar, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == '1', sys.argv[5]
out, cookie = [], None
for i in range(n):
    try:
        c = http.client.HTTPConnection(host, port, timeout=3)
        c.request('GET', path, headers={'Cookie': cookie} if cookie else {})
        r = c.getresponse(); body = r.read().decode()
        sc = r.getheader('Set-Cookie')
        if jar and sc and not cookie: cookie = sc.split(';')[0]
        out.append(body if r.status == 200 else '!%d' % r.status)
        c.close()
    except Exception as e:
        out.append('!' + type(e).__name__)
print(json.dumps(out))
`;

export interface Process {
  readonly pid: number;
  stop(): Promise<void>;
}

/** Starts a member's HTTP server in `ns` (by PID, stopped by PID) and waits until it answers. */
export async function startMember(ns: string, name: string, listenPort = MEMBER_PORT): Promise<Process> {
  const child = spawn('ip', ['netns', 'exec', ns, 'python3', '-u', '-c', MEMBER_SERVER, name, String(listenPort)], { stdio: 'ignore' });
  const pid = child.pid;
  if (pid === undefined) throw new Error('member server did not start');
  child.unref();
  for (let i = 0; i < 50; i++) {
    const r = await execa('ip', ['netns', 'exec', ns, 'curl', '-s', '--max-time', '1', `http://127.0.0.1:${listenPort}/`], {
      reject: false,
    });
    if (r.exitCode === 0) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  return { pid, stop: async () => (isAlive(pid) ? terminate(pid) : undefined) };
}

/** `n` GETs from namespace `ns`: response bodies, or `!<error>` for failures. */
export async function httpGets(
  ns: string,
  host: string,
  n: number,
  opts: { port?: number; cookies?: boolean; path?: string } = {},
): Promise<string[]> {
  const r = await execa(
    'ip',
    [
      'netns',
      'exec',
      ns,
      'python3',
      '-c',
      CLIENT,
      host,
      String(opts.port ?? LISTENER_PORT),
      String(n),
      opts.cookies ? '1' : '0',
      opts.path ?? '/',
    ],
    {
      reject: false,
      timeout: 60_000,
    },
  );
  if (r.exitCode !== 0) throw new Error(`client failed: ${String(r.stderr)}`);
  return JSON.parse(String(r.stdout)) as string[];
}

export function tally(bodies: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const b of bodies) out[b] = (out[b] ?? 0) + 1;
  return out;
}

/** Server rows of `show stat`: member id → status. */
export async function serverStatuses(stateDir: string, loadBalancerId: string): Promise<Map<string, string>> {
  const csv = await haproxySocketCommand(haproxyPaths(lbaasDir({ stateDir }, loadBalancerId)).stats, 'show stat -1 4 -1');
  return new Map(parseShowStat(csv).map((r) => [r.server, r.status]));
}

export interface LbLab {
  readonly s: Scenario;
  /** Member instances m1..m4 (m4 starts outside the pool). */
  readonly members: readonly { readonly name: string; readonly port: TopologyPort; readonly member: TopologyMember }[];
  readonly vip: TopologyPort;
  readonly lb: TopologyLoadBalancer;
}

/** The dataplane scenario (tenant network, router, external network) plus four instance ports, a VIP and a load balancer. */
export function lbLab(octet: number): LbLab {
  const s = scenario(octet);
  const extra = [13, 14].map((h) => port(s.net, `10.${octet}.1.${h}`, 'compute:nova'));
  const vip = port(s.net, `10.${octet}.1.100`, 'Octavia', { host: null });
  const members = [s.vm1, s.vm2, ...extra].map((p, i) => ({
    name: `m${i + 1}`,
    port: p,
    member: {
      id: randomUUID(),
      adminStateUp: true,
      address: p.fixedIps[0]?.ipAddress ?? '',
      protocolPort: MEMBER_PORT,
      weight: 1,
      backup: false,
      monitorAddress: null,
      monitorPort: null,
    },
  }));
  const pool: TopologyPool = {
    id: randomUUID(),
    adminStateUp: true,
    protocol: 'HTTP',
    lbAlgorithm: 'ROUND_ROBIN',
    sessionPersistence: null,
    members: members.slice(0, 3).map((m) => m.member),
    healthMonitor: null,
  };
  const listener: TopologyListener = {
    id: randomUUID(),
    adminStateUp: true,
    protocol: 'HTTP',
    protocolPort: LISTENER_PORT,
    connectionLimit: -1,
    timeoutClientData: 50000,
    timeoutMemberConnect: 5000,
    timeoutMemberData: 50000,
    timeoutTcpInspect: 0,
    defaultPoolId: pool.id,
  };
  const lb: TopologyLoadBalancer = {
    id: randomUUID(),
    adminStateUp: true,
    vipPortId: vip.id,
    vipAddress: vip.fixedIps[0]?.ipAddress ?? '',
    generation: 1,
    listeners: [listener],
    pools: [pool],
  };
  return { s, members, vip, lb };
}

/** The lab's topology with `lb` (and the floating IP on the VIP when `fip`). */
export function lbTopology(lab: LbLab, lb: TopologyLoadBalancer | null, fip = false): Topology {
  const t = lab.s.topology;
  return {
    ...t,
    ports: [...t.ports, ...lab.members.slice(2).map((m) => m.port), lab.vip],
    floatingIps: [
      fip ? { ...lab.s.fip, fixedIpAddress: lb?.vipAddress ?? null, portId: lab.vip.id, routerId: lab.s.router.id } : lab.s.fip,
    ],
    loadBalancers: lb ? [lb] : [],
  };
}

/** `lb` with its only pool changed by `change`. */
export function withPool(lb: TopologyLoadBalancer, change: (p: TopologyPool) => TopologyPool): TopologyLoadBalancer {
  return { ...lb, pools: lb.pools.map(change) };
}
