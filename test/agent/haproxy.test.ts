import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import {
  alertsOf,
  configDigest,
  diffLoadBalancer,
  haproxyArgs,
  parseShowProc,
  type LoadBalancerObservation,
} from '../../src/agent/drivers/haproxy.js';
import type { NamespaceObservation } from '../../src/agent/probe.js';
import { memberHealthFromStats, memberHealthOf, parseShowStat } from '../../src/agent/lb-health.js';
import { expandExpectedCodes, renderHaproxy } from '../../src/projections/desired-state/haproxy.js';
import type {
  TopologyHealthMonitor,
  TopologyLoadBalancer,
  TopologyMember,
  TopologyPool,
} from '../../src/projections/desired-state/topology.js';
import { compileHostState, type Topology } from '../../src/projections/desired-state/index.js';
import { lbLab, lbTopology } from '../support/lb-lab.js';
import { HOST } from './fixtures.js';
import { hasTool } from './netns-tools.js';

const DIR = '/var/lib/netledger/lbaas/lb-1';
const haveHaproxy = await hasTool('haproxy');

const member = (id: string, address: string, extra: Partial<TopologyMember> = {}): TopologyMember => ({
  id,
  adminStateUp: true,
  address,
  protocolPort: 8080,
  weight: 1,
  backup: false,
  monitorAddress: null,
  monitorPort: null,
  ...extra,
});
const monitor = (extra: Partial<TopologyHealthMonitor> = {}): TopologyHealthMonitor => ({
  id: 'hm',
  adminStateUp: true,
  type: 'HTTP',
  delay: 10,
  timeout: 5,
  maxRetries: 3,
  maxRetriesDown: 2,
  httpMethod: 'GET',
  urlPath: '/healthz',
  expectedCodes: '200-202',
  ...extra,
});
const pool = (extra: Partial<TopologyPool> = {}): TopologyPool => ({
  id: 'pool-1',
  adminStateUp: true,
  protocol: 'HTTP',
  lbAlgorithm: 'ROUND_ROBIN',
  sessionPersistence: null,
  members: [member('m-b', '10.0.0.22', { weight: 2 }), member('m-a', '10.0.0.21')],
  healthMonitor: null,
  ...extra,
});
function lb(pools: TopologyPool[], extra: Partial<TopologyLoadBalancer> = {}): TopologyLoadBalancer {
  return {
    id: 'lb-1',
    adminStateUp: true,
    vipPortId: 'vip',
    vipAddress: '10.0.0.10',
    generation: 1,
    listeners: [
      {
        id: 'lis-1',
        adminStateUp: true,
        protocol: 'HTTP',
        protocolPort: 80,
        connectionLimit: 1000,
        timeoutClientData: 40000,
        timeoutMemberConnect: 3000,
        timeoutMemberData: 45000,
        timeoutTcpInspect: 0,
        defaultPoolId: 'pool-1',
      },
    ],
    pools,
    ...extra,
  };
}
const backend = (config: string) => config.slice(config.indexOf('\nbackend pool-1:lis-1') + 1);

describe('HAProxy configuration renderer', () => {
  it('renders the reference 5.5 example the Octavia way', () => {
    const { config, servers, files } = renderHaproxy(
      lb([pool({ sessionPersistence: { type: 'HTTP_COOKIE', cookieName: null }, healthMonitor: monitor() })]),
      DIR,
    );
    expect(config).toContain(
      [
        'frontend lis-1',
        '    maxconn 1000',
        '    bind 10.0.0.10:80',
        '    mode http',
        '    timeout client 40000',
        '    default_backend pool-1:lis-1',
      ].join('\n'),
    );
    expect(backend(config)).toBe(
      [
        'backend pool-1:lis-1',
        '    mode http',
        '    balance roundrobin',
        '    cookie SRV insert indirect nocache',
        '    timeout check 5s',
        '    option httpchk GET /healthz',
        '    http-check expect rstatus 200|201|202',
        '    fullconn 1000',
        '    option allbackups',
        '    timeout connect 3000',
        '    timeout server 45000',
        // fall = max_retries_down, rise = max_retries (Octavia); sorted by member id
        '    server m-a 10.0.0.21:8080 weight 1 check inter 10s fall 2 rise 3 cookie m-a',
        '    server m-b 10.0.0.22:8080 weight 2 check inter 10s fall 2 rise 3 cookie m-b',
        '',
      ].join('\n'),
    );
    expect(config).toContain(`stats socket ${DIR}/stats.sock mode 600 level user expose-fd listeners`);
    expect(servers).toEqual([
      { backend: 'pool-1:lis-1', server: 'm-a', memberId: 'm-a' },
      { backend: 'pool-1:lis-1', server: 'm-b', memberId: 'm-b' },
    ]);
    expect(files).toEqual([]);
  });

  it('is deterministic: the order of listeners, pools and members never shows', () => {
    const base = lb([pool(), pool({ id: 'pool-2', members: [member('z', '10.0.0.30'), member('y', '10.0.0.31')] })]);
    const withTwo: TopologyLoadBalancer = {
      ...base,
      listeners: [...base.listeners, { ...base.listeners[0]!, id: 'lis-2', protocol: 'TCP', protocolPort: 22, defaultPoolId: 'pool-2' }],
    };
    const shuffled: TopologyLoadBalancer = {
      ...withTwo,
      listeners: [...withTwo.listeners].reverse(),
      pools: [...withTwo.pools].reverse().map((p) => ({ ...p, members: [...p.members].reverse() })),
    };
    expect(renderHaproxy(shuffled, DIR)).toEqual(renderHaproxy(withTwo, DIR));
    const config = renderHaproxy(withTwo, DIR).config;
    expect(config.indexOf('frontend lis-2')).toBeLessThan(config.indexOf('frontend lis-1')); // port 22 before 80
  });

  it('maps algorithms, persistence and member flags', () => {
    const balance = (a: TopologyPool['lbAlgorithm']) =>
      /balance (\w+)/.exec(renderHaproxy(lb([pool({ lbAlgorithm: a })]), DIR).config)?.[1];
    expect([balance('ROUND_ROBIN'), balance('LEAST_CONNECTIONS'), balance('SOURCE_IP')]).toEqual(['roundrobin', 'leastconn', 'source']);

    const source = backend(renderHaproxy(lb([pool({ sessionPersistence: { type: 'SOURCE_IP', cookieName: null } })]), DIR).config);
    expect(source).toContain('    stick-table type ipv6 size 10k\n    stick on src\n');
    const app = backend(renderHaproxy(lb([pool({ sessionPersistence: { type: 'APP_COOKIE', cookieName: 'JSESSIONID' } })]), DIR).config);
    expect(app).toContain(
      '    stick-table type string len 64 size 10k\n    stick store-response res.cook(JSESSIONID)\n    stick match req.cook(JSESSIONID)\n',
    );
    // Cookies need HTTP: a TCP pool leaves them out, as Octavia does.
    const tcp = backend(
      renderHaproxy(lb([pool({ protocol: 'TCP', sessionPersistence: { type: 'HTTP_COOKIE', cookieName: null } })]), DIR).config,
    );
    expect(tcp).toContain('mode tcp');
    expect(tcp).not.toContain('cookie');

    const flags = backend(
      renderHaproxy(
        lb([
          pool({
            healthMonitor: monitor({ type: 'TCP' }),
            members: [
              member('m1', '10.0.0.21', { adminStateUp: false, backup: true, monitorAddress: '10.0.0.99', monitorPort: 9000, weight: 0 }),
            ],
          }),
        ]),
        DIR,
      ).config,
    );
    expect(flags).toContain(
      '    server m1 10.0.0.21:8080 weight 0 check inter 10s fall 2 rise 3 addr 10.0.0.99 port 9000 backup disabled\n',
    );
    expect(flags).not.toContain('httpchk');
  });

  it('maps monitors: HTTP(S) checks, PING through an external check, a disabled monitor checks nothing', () => {
    const https = renderHaproxy(
      lb([
        pool({ protocol: 'HTTPS', healthMonitor: monitor({ type: 'HTTPS', httpMethod: 'HEAD', urlPath: '/', expectedCodes: '200,204' }) }),
      ]),
      DIR,
    ).config;
    expect(https).toContain('option httpchk HEAD /\n    http-check expect rstatus 200|204\n');
    expect(https).toContain('check inter 10s fall 2 rise 3 check-ssl verify none');

    const ping = renderHaproxy(
      lb([pool({ healthMonitor: monitor({ type: 'PING', delay: 1, timeout: 1, maxRetries: 1, maxRetriesDown: 3 }) })]),
      DIR,
    );
    expect(ping.config).toContain('    external-check\n    insecure-fork-wanted\n');
    expect(ping.config).toContain(
      `option external-check\n    external-check path "/usr/sbin:/usr/bin:/sbin:/bin"\n    external-check command ${DIR}/ping-wrapper.sh\n`,
    );
    expect(ping.files.map((f) => [f.name, f.mode])).toEqual([['ping-wrapper.sh', 0o755]]);

    const off = renderHaproxy(lb([pool({ healthMonitor: monitor({ adminStateUp: false }) })]), DIR).config;
    expect(off).not.toContain(' check');
    expect(off).not.toContain('timeout check');
  });

  it('maps listeners: modes, limits, timeouts, admin state', () => {
    const base = lb([pool()]);
    const l = base.listeners[0]!;
    const tcp = renderHaproxy(
      { ...base, listeners: [{ ...l, protocol: 'HTTPS', connectionLimit: -1, timeoutTcpInspect: 500 }] },
      DIR,
    ).config;
    // HTTPS is passthrough: TCP mode; unlimited is Octavia's 50000.
    expect(tcp).toContain(
      'frontend lis-1\n    maxconn 50000\n    bind 10.0.0.10:80\n    mode tcp\n    timeout client 40000\n    tcp-request inspect-delay 500\n',
    );
    expect(renderHaproxy({ ...base, listeners: [{ ...l, adminStateUp: false }] }, DIR).config).toContain('frontend lis-1\n    disabled\n');
    expect(renderHaproxy({ ...base, adminStateUp: false }, DIR).config).toContain('frontend lis-1\n    disabled\n');
    expect(renderHaproxy(lb([pool({ adminStateUp: false })]), DIR).config).toContain('backend pool-1:lis-1\n    disabled\n');
    // A listener without a default pool has no backend.
    const bare = renderHaproxy({ ...base, listeners: [{ ...l, defaultPoolId: null }] }, DIR);
    expect(bare.config).not.toContain('default_backend');
    expect(bare.config).not.toContain('backend ');
    expect(bare.servers).toEqual([]);
  });

  it('expands expected codes like Octavia', () => {
    expect(expandExpectedCodes('200')).toBe('200');
    expect(expandExpectedCodes('200,202')).toBe('200|202');
    expect(expandExpectedCodes('200-204')).toBe('200|201|202|203|204');
  });

  it.runIf(haveHaproxy)('every rendering passes haproxy -c', async () => {
    const all = lb([pool({ sessionPersistence: { type: 'APP_COOKIE', cookieName: 'S' }, healthMonitor: monitor({ type: 'PING' }) })]);
    const tls = lb([
      pool({
        protocol: 'HTTPS',
        lbAlgorithm: 'SOURCE_IP',
        sessionPersistence: { type: 'SOURCE_IP', cookieName: null },
        healthMonitor: monitor({ type: 'HTTPS' }),
      }),
    ]);
    const https: TopologyLoadBalancer = {
      ...tls,
      listeners: tls.listeners.map((l) => ({ ...l, protocol: 'HTTPS' as const, protocolPort: 443 })),
    };
    for (const config of [
      renderHaproxy(all, '/tmp').config,
      // An HTTPS (passthrough) listener in front of an HTTPS pool; a TCP listener in front of an HTTP pool.
      renderHaproxy(https, '/tmp').config,
      renderHaproxy({ ...all, listeners: all.listeners.map((l) => ({ ...l, protocol: 'TCP' as const })) }, '/tmp').config,
      renderHaproxy(
        lb([
          pool({
            sessionPersistence: { type: 'HTTP_COOKIE', cookieName: null },
            healthMonitor: monitor(),
            members: [member('a', '10.0.0.1', { adminStateUp: false, backup: true, monitorAddress: '10.0.0.2', monitorPort: 81 })],
          }),
        ]),
        '/tmp',
      ).config,
    ]) {
      const r = await execa('sh', ['-c', 'f=$(mktemp) && cat > "$f" && haproxy -c -f "$f"; rc=$?; rm -f "$f"; exit $rc'], {
        input: config,
        reject: false,
      });
      expect(`${String(r.stdout)}${String(r.stderr)}`).toContain('Configuration file is valid');
    }
  });
});

describe('load balancer units', () => {
  it('compile where the network is served, with the VIP on the bridge and a default route via the gateway', () => {
    const lab = lbLab(9);
    const opts = { namespacePrefix: 'x-', hostNamespace: 'x-host', stateDir: '/s' };
    const state = compileHostState(lbTopology(lab, lab.lb), HOST, opts);
    expect(state.loadBalancers).toHaveLength(1);
    const unit = state.loadBalancers[0]!;
    expect(unit).toMatchObject({ key: `lb:${lab.lb.id}`, generation: 1, dir: `/s/lbaas/${lab.lb.id}` });
    expect(unit.namespace.name).toBe(`x-qlbaas-${lab.lb.id}`);
    expect(unit.namespace.interfaces).toEqual([
      expect.objectContaining({
        name: `ns-${lab.vip.id}`.slice(0, 14),
        addresses: ['10.9.1.100/24'],
        bridge: `brq${lab.s.net.id}`.slice(0, 14),
      }),
    ]);
    expect(unit.namespace.routes).toEqual([
      { destination: 'default', nexthops: [{ via: '10.9.1.1', dev: `ns-${lab.vip.id}`.slice(0, 14) }] },
    ]);
    // Not on another host; deterministic JSON whatever the input order.
    expect(compileHostState(lbTopology(lab, lab.lb), 'other', opts).loadBalancers).toEqual([]);
    const t: Topology = lbTopology(lab, lab.lb);
    expect(JSON.stringify(compileHostState({ ...t, ports: [...t.ports].reverse() }, HOST, opts))).toBe(JSON.stringify(state));
    // A load balancer without listeners plumbs the VIP and runs no HAProxy.
    expect(compileHostState(lbTopology(lab, { ...lab.lb, listeners: [] }), HOST, opts).loadBalancers[0]?.haproxy).toBeNull();
  });

  it('diff: start when nothing runs, reload on a new config, only mark a new generation, nothing when converged', () => {
    const lab = lbLab(9);
    const opts = { namespacePrefix: 'x-', hostNamespace: 'x-host', stateDir: '/s' };
    const unit = compileHostState(lbTopology(lab, lab.lb), HOST, opts).loadBalancers[0]!;
    const hp = unit.haproxy!;
    const host: NamespaceObservation = {
      name: 'x-host',
      exists: true,
      broken: false,
      links: new Map(),
      routes: [],
      sysctls: new Map(),
      nft: null,
    };
    const absent: NamespaceObservation = { ...host, name: unit.namespace.name, exists: false };
    const empty: LoadBalancerObservation = {
      host,
      own: absent,
      dirExists: false,
      config: null,
      live: null,
      generation: null,
      files: new Map(),
      process: null,
    };
    expect(diffLoadBalancer(unit, empty, 'x-host').map((a) => a.kind)).toEqual(['links', 'start', 'mark']);

    const running: LoadBalancerObservation = {
      ...empty,
      own: { ...absent, exists: true },
      dirExists: true,
      config: hp.config,
      live: configDigest(hp.config),
      generation: '1\n',
      process: { pid: 4242, args: [...haproxyArgs(unit.dir), '-x', `${unit.dir}/stats.sock`, '-sf', '99'], inNamespace: true },
    };
    // (links differ here because the fake namespace has no devices; leave them out of the question)
    const kinds = (o: LoadBalancerObservation, u = unit) =>
      diffLoadBalancer(u, o, 'x-host')
        .filter((a) => a.kind !== 'links')
        .map((a) => a.kind);
    expect(kinds(running)).toEqual([]);
    expect(kinds({ ...running, live: 'other' })).toEqual(['reload']);
    expect(kinds({ ...running, config: 'edited by hand' })).toEqual(['write-config']);
    expect(kinds(running, { ...unit, generation: 2 })).toEqual(['mark']);
    expect(kinds({ ...running, process: { ...running.process!, inNamespace: false } })).toEqual(['stop', 'start']);
    expect(diffLoadBalancer(null, running, 'x-host').map((a) => a.kind)).toEqual(['stop', 'links', 'remove-dir']);
  });
});

describe('reading HAProxy back', () => {
  it('parses show stat and maps server states the way Octavia does', () => {
    const csv = [
      '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status',
      'lis,FRONTEND,,,0,0,50000,0,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,0,',
      'p:lis,a,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1,1,0,0,0,5,0,,1,3,1,,0,,2,0,,0,L7OK',
      'p:lis,b,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN 1/2,1,1,0,0,0,5,0,,1,3,2,,0,,2,0,,0,L4CON',
      'p:lis,c,0,0,0,0,,0,0,0,,0,,0,0,0,0,MAINT,1,1,0,0,0,5,0,,1,3,3,,0,,2,0,,0,',
      'p:lis,d,0,0,0,0,,0,0,0,,0,,0,0,0,0,no check,1,1,0,0,0,5,0,,1,3,4,,0,,2,0,,0,',
      'p:lis,e,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP 1/3,1,1,0,0,0,5,0,,1,3,5,,0,,2,0,,0,L7STS',
      'p:lis,f,0,0,0,0,,0,0,0,,0,,0,0,0,0,DRAIN,0,1,0,0,0,5,0,,1,3,6,,0,,2,0,,0,L7OK',
      'p:lis,BACKEND,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1,1,0,,0,5,0,,1,3,0,,0,,1,0,,0,',
    ].join('\n');
    const rows = parseShowStat(csv);
    expect(rows.map((r) => [r.server, r.status])).toEqual([
      ['a', 'UP'],
      ['b', 'DOWN 1/2'],
      ['c', 'MAINT'],
      ['d', 'no check'],
      ['e', 'UP 1/3'],
      ['f', 'DRAIN'],
    ]);
    const refs = ['a', 'b', 'c', 'd', 'e', 'f'].map((s) => ({ backend: 'p:lis', server: s, memberId: `member-${s}` }));
    expect(Object.fromEntries(memberHealthFromStats(refs, rows))).toEqual({
      'member-a': 'ONLINE',
      'member-b': 'ERROR',
      'member-d': 'NO_MONITOR',
      'member-e': 'ONLINE',
      'member-f': 'DRAINING',
    });
    expect(memberHealthOf('MAINT (via p/x)')).toBeNull();
  });

  it('parses the master CLI show proc and HAProxy alerts', () => {
    const text = [
      '#<PID>          <type>          <reloads>       <uptime>        <version>',
      '5720            master          2 [failed: 1]   0d00h20m08s     2.6.12',
      '# workers',
      '31518           worker          0               0d00h00m01s     2.6.12',
      '# old workers',
      '31000           worker          1               0d00h00m09s     2.6.12',
      '# programs',
      '',
    ].join('\n');
    expect(parseShowProc(text)).toEqual({ reloads: 2, failedReloads: 1, workers: [31518] });
    expect(parseShowProc('')).toBeNull();
    expect(alertsOf("[NOTICE]   (1) : x\n[ALERT]    (5162) : config : [/s/haproxy.cfg.new:5] : 'server y/a' : bad")).toBe(
      "config : [/s/haproxy.cfg:5] : 'server y/a' : bad",
    );
  });
});
