import type { LbAlgorithm, ListenerProtocol, PoolProtocol } from '../../domain/loadbalancer/model.js';
import { DeviceOwner } from '../../domain/port/device-owner.js';
import type { HaproxyServerRef, HaproxySpec, LoadBalancerUnit, NamespaceSpec, Nexthop, RouteSpec, VethSpec } from './host-state.js';
import { cidrContains, cidrOf, ipOf } from '../../domain/ipam/index.js';
import { canonicalCidr, compareStrings, ipVersion } from './ip.js';
import { dhcpPortName, type NamingOptions } from './names.js';
import type {
  TopologyHealthMonitor,
  TopologyListener,
  TopologyLoadBalancer,
  TopologyMember,
  TopologyPool,
  TopologyPort,
  TopologySubnet,
} from './topology.js';

/**
 * Load balancers in the dataplane (issue 7): one `qlbaas-<lb>` namespace per load balancer with
 * the VIP port plugged into its network's bridge, and one HAProxy rendered from the listeners,
 * pools, members and health monitors the way Octavia's amphora template does (reference 5.4).
 * Everything here is pure: the same load balancer renders the same bytes.
 */

export function lbaasNamespace(naming: NamingOptions, loadBalancerId: string): string {
  return `${naming.namespacePrefix}qlbaas-${loadBalancerId}`;
}

export function lbaasDir(naming: Pick<NamingOptions, 'stateDir'>, loadBalancerId: string): string {
  return `${naming.stateDir}/lbaas/${loadBalancerId}`;
}

/** Files of one load balancer's directory (neutron-lbaas keeps `lbaas/v2/<lb>/` the same way). */
export function haproxyPaths(dir: string) {
  return {
    config: `${dir}/haproxy.cfg`,
    pid: `${dir}/haproxy.pid`,
    stats: `${dir}/stats.sock`,
    master: `${dir}/master.sock`,
    log: `${dir}/haproxy.log`,
    /** Digest of the configuration the running master last loaded successfully. */
    live: `${dir}/live`,
    /** Generation the dataplane runs. */
    generation: `${dir}/generation`,
  } as const;
}

export const isLoadBalancerKey = (key: string): key is `lb:${string}` => key.startsWith('lb:');

// ---- compile -------------------------------------------------------------------------------------

/** What the host-state compiler lends: lookups and the plumbing helpers routers and qdhcp use. */
export interface LoadBalancerPlumbing {
  port(id: string): TopologyPort | undefined;
  subnet(id: string): TopologySubnet | undefined;
  /** Ports of a network, sorted by id. */
  portsOfNetwork(networkId: string): readonly TopologyPort[];
  veth(port: TopologyPort, name: string): VethSpec;
  namespace(name: string, interfaces: readonly VethSpec[], routes: readonly RouteSpec[]): NamespaceSpec;
  route(destination: string, nexthops: readonly Nexthop[]): RouteSpec;
}

/**
 * Where a load balancer runs: where its VIP port is bound (the neutron-lbaas agent binds it to
 * its host). An unbound VIP port (Octavia's, which nothing schedules yet) goes with its network:
 * the host of the network's router interface, else of its DHCP port, so the VIP is where the
 * floating IP NAT and the bridge already are.
 */
export function loadBalancerHost(lb: TopologyLoadBalancer, plumbing: Pick<LoadBalancerPlumbing, 'port' | 'portsOfNetwork'>): string | null {
  const vip = plumbing.port(lb.vipPortId);
  if (!vip) return null;
  if (vip.bindingHost) return vip.bindingHost;
  const onNetwork = plumbing.portsOfNetwork(vip.networkId);
  const bound = (owner: string) => onNetwork.find((p) => p.deviceOwner === owner && p.bindingHost)?.bindingHost ?? null;
  return bound(DeviceOwner.routerInterface) ?? bound(DeviceOwner.dhcp);
}

export function compileLoadBalancers(
  list: readonly TopologyLoadBalancer[],
  host: string,
  naming: NamingOptions,
  plumbing: LoadBalancerPlumbing,
): LoadBalancerUnit[] {
  return list
    .filter((lb) => loadBalancerHost(lb, plumbing) === host)
    .sort((a, b) => compareStrings(a.id, b.id))
    .flatMap((lb) => {
      const unit = compileLoadBalancer(lb, naming, plumbing);
      return unit ? [unit] : [];
    });
}

function compileLoadBalancer(lb: TopologyLoadBalancer, naming: NamingOptions, plumbing: LoadBalancerPlumbing): LoadBalancerUnit | null {
  const vip = plumbing.port(lb.vipPortId);
  if (!vip) return null;
  const dev = dhcpPortName(vip.id);
  const vipSubnet = vip.fixedIps
    .map((f) => plumbing.subnet(f.subnetId))
    .find((s) => s !== undefined && cidrContains(cidrOf(s.cidr), ipOf(lb.vipAddress)));
  // A VIP whose subnet (so network) the topology does not have yet: nothing to plug it into.
  if (!vipSubnet) return null;
  const routes: RouteSpec[] = [];
  if (vipSubnet.ipVersion === 4) {
    // neutron-lbaas: the subnet's host routes, then the default route via its gateway (5.3).
    for (const r of vipSubnet.hostRoutes) {
      if (ipVersion(r.nexthop) !== 4) continue;
      const dest = canonicalCidr(r.destination);
      routes.push(plumbing.route(dest === '0.0.0.0/0' ? 'default' : dest, [{ via: r.nexthop, dev }]));
    }
    if (vipSubnet.gatewayIp && cidrContains(cidrOf(vipSubnet.cidr), ipOf(vipSubnet.gatewayIp))) {
      routes.push(plumbing.route('default', [{ via: vipSubnet.gatewayIp, dev }]));
    }
  }
  const dir = lbaasDir(naming, lb.id);
  return {
    key: `lb:${lb.id}`,
    loadBalancerId: lb.id,
    generation: lb.generation,
    namespace: plumbing.namespace(lbaasNamespace(naming, lb.id), [plumbing.veth(vip, dev)], routes),
    dir,
    haproxy: lb.listeners.length > 0 ? renderHaproxy(lb, dir) : null,
  };
}

// ---- render ----------------------------------------------------------------------------------------

/** Octavia's HAPROXY_DEFAULT_MAXCONN: what an unlimited listener (-1) gets. */
export const UNLIMITED_LISTENER_MAXCONN = 50000;

const BALANCE: Readonly<Record<LbAlgorithm, string>> = {
  ROUND_ROBIN: 'roundrobin',
  LEAST_CONNECTIONS: 'leastconn',
  SOURCE_IP: 'source',
};

/** Helper files a load balancer directory may hold. */
export const PING_WRAPPER = 'ping-wrapper.sh';
export const HAPROXY_HELPER_FILES: readonly string[] = [PING_WRAPPER];

// HAProxy runs an external check as `<cmd> <proxy addr> <proxy port> <server addr> <server port>`.
const PING_WRAPPER_SCRIPT = `#!/bin/sh
# PING health monitor (Octavia's ping-wrapper.sh): one echo request, one second to answer.
case "$3" in
  *:*) exec ping -6 -q -n -w 1 -c 1 "$3" >/dev/null 2>&1 ;;
  *) exec ping -q -n -w 1 -c 1 "$3" >/dev/null 2>&1 ;;
esac
`;

/** `200`, `200,202`, `200-204` → HAProxy's `rstatus` regex `200|202`... (Octavia expands ranges). */
export function expandExpectedCodes(codes: string): string {
  const out: number[] = [];
  for (const part of codes
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [from, to] = part.split('-').map((n) => Number.parseInt(n, 10));
    if (from === undefined || Number.isNaN(from)) continue;
    const last = to === undefined || Number.isNaN(to) ? from : to;
    for (let c = from; c <= last; c++) out.push(c);
  }
  return [...new Set(out)].join('|');
}

const modeOf = (protocol: ListenerProtocol | PoolProtocol): 'http' | 'tcp' => (protocol === 'HTTP' ? 'http' : 'tcp');
const maxconnOf = (l: TopologyListener): number => (l.connectionLimit < 0 ? UNLIMITED_LISTENER_MAXCONN : l.connectionLimit);

/** `addr:port` as the API has it; HAProxy reads the last colon as the port separator, IPv6 included (as Octavia writes it). */
const endpoint = (address: string, port: number): string => `${address}:${port}`;

function persistenceLines(pool: TopologyPool, mode: 'http' | 'tcp'): string[] {
  const sp = pool.sessionPersistence;
  if (!sp) return [];
  if (sp.type === 'SOURCE_IP') return ['stick-table type ipv6 size 10k', 'stick on src'];
  // Cookies need HTTP; Octavia leaves them out of a TCP backend.
  if (mode !== 'http') return [];
  if (sp.type === 'HTTP_COOKIE') return ['cookie SRV insert indirect nocache'];
  if (!sp.cookieName) return [];
  return [
    'stick-table type string len 64 size 10k',
    `stick store-response res.cook(${sp.cookieName})`,
    `stick match req.cook(${sp.cookieName})`,
  ];
}

function monitorLines(hm: TopologyHealthMonitor, dir: string): string[] {
  const lines = [`timeout check ${hm.timeout}s`];
  if (hm.type === 'HTTP' || hm.type === 'HTTPS') {
    lines.push(`option httpchk ${hm.httpMethod ?? 'GET'} ${hm.urlPath ?? '/'}`);
    lines.push(`http-check expect rstatus ${expandExpectedCodes(hm.expectedCodes ?? '200')}`);
  } else if (hm.type === 'PING') {
    lines.push(
      'option external-check',
      'external-check path "/usr/sbin:/usr/bin:/sbin:/bin"',
      `external-check command ${dir}/${PING_WRAPPER}`,
    );
  }
  return lines;
}

function serverLine(m: TopologyMember, pool: TopologyPool, hm: TopologyHealthMonitor | null, mode: 'http' | 'tcp'): string {
  const parts = [`server ${m.id} ${endpoint(m.address, m.protocolPort)} weight ${m.weight}`];
  if (hm) {
    // Octavia: fall is max_retries_down, rise is max_retries.
    parts.push(`check inter ${hm.delay}s fall ${hm.maxRetriesDown} rise ${hm.maxRetries}`);
    if (hm.type === 'HTTPS') parts.push('check-ssl verify none');
    if (m.monitorAddress !== null) parts.push(`addr ${m.monitorAddress}`);
    if (m.monitorPort !== null) parts.push(`port ${m.monitorPort}`);
  }
  if (pool.sessionPersistence?.type === 'HTTP_COOKIE' && mode === 'http') parts.push(`cookie ${m.id}`);
  if (m.backup) parts.push('backup');
  if (!m.adminStateUp) parts.push('disabled');
  return parts.join(' ');
}

const section = (header: string, lines: readonly string[]): string[] => [header, ...lines.map((l) => `    ${l}`), ''];

/**
 * The HAProxy configuration of one load balancer, after Octavia's amphora template: a frontend
 * per listener, a backend `<pool>:<listener>` per listener's default pool. Objects come sorted so
 * the input order never shows in the output.
 *
 * No global `maxconn`: Octavia's sum (50000 per unlimited listener) needs more file descriptors
 * than many hosts allow and HAProxy would refuse to start; without it HAProxy sizes itself from
 * the descriptor limit it gets, and each frontend keeps its own `maxconn`. Octavia's
 * `option splice-request/response` are left out for the same reason: the pipes they need are not
 * counted when HAProxy sizes itself, and it then asks for more descriptors than the limit.
 */
export function renderHaproxy(lb: TopologyLoadBalancer, dir: string): HaproxySpec {
  const paths = haproxyPaths(dir);
  const pools = new Map(lb.pools.map((p) => [p.id, p]));
  const listeners = [...lb.listeners].sort(
    (a, b) => a.protocolPort - b.protocolPort || compareStrings(a.protocol, b.protocol) || compareStrings(a.id, b.id),
  );
  const frontends: string[] = [];
  const backends: string[] = [];
  const servers: HaproxyServerRef[] = [];
  let ping = false;

  for (const l of listeners) {
    const maxconn = maxconnOf(l);
    const pool = l.defaultPoolId !== null ? pools.get(l.defaultPoolId) : undefined;
    const backend = pool ? `${pool.id}:${l.id}` : null;
    frontends.push(
      ...section(`frontend ${l.id}`, [
        ...(!lb.adminStateUp || !l.adminStateUp ? ['disabled'] : []),
        `maxconn ${maxconn}`,
        `bind ${endpoint(lb.vipAddress, l.protocolPort)}`,
        `mode ${modeOf(l.protocol)}`,
        `timeout client ${l.timeoutClientData}`,
        ...(l.timeoutTcpInspect > 0 ? [`tcp-request inspect-delay ${l.timeoutTcpInspect}`] : []),
        ...(backend ? [`default_backend ${backend}`] : []),
      ]),
    );
    if (!pool || !backend) continue;
    const mode = modeOf(pool.protocol);
    const hm = pool.healthMonitor?.adminStateUp ? pool.healthMonitor : null;
    if (hm?.type === 'PING') ping = true;
    const members = [...pool.members].sort((a, b) => compareStrings(a.id, b.id));
    for (const m of members) servers.push({ backend, server: m.id, memberId: m.id });
    backends.push(
      ...section(`backend ${backend}`, [
        ...(!pool.adminStateUp ? ['disabled'] : []),
        `mode ${mode}`,
        `balance ${BALANCE[pool.lbAlgorithm]}`,
        ...persistenceLines(pool, mode),
        ...(hm ? monitorLines(hm, dir) : []),
        `fullconn ${maxconn}`,
        'option allbackups',
        `timeout connect ${l.timeoutMemberConnect}`,
        `timeout server ${l.timeoutMemberData}`,
        ...members.map((m) => serverLine(m, pool, hm, mode)),
      ]),
    );
  }

  const config = [
    `# load balancer ${lb.id}: generated by netledger, rewritten on every change`,
    ...section('global', [
      // expose-fd: a reloaded worker takes the listening sockets over (-x), so none is ever closed.
      `stats socket ${paths.stats} mode 600 level user expose-fd listeners`,
      ...(ping ? ['external-check', 'insecure-fork-wanted'] : []),
    ]),
    ...section('defaults', ['retries 3', 'option redispatch', 'timeout connect 5000', 'timeout client 50000', 'timeout server 50000']),
    ...frontends,
    ...backends,
  ].join('\n');
  return {
    config,
    files: ping ? [{ name: PING_WRAPPER, content: PING_WRAPPER_SCRIPT, mode: 0o755 }] : [],
    servers: servers.sort((a, b) => compareStrings(a.backend, b.backend) || compareStrings(a.server, b.server)),
  };
}
