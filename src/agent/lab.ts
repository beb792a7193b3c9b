import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { externalHostNamespace, instanceNamespace, tapName, bridgeName, deviceName } from '../projections/desired-state/names.js';
import type { AgentConfig } from './config.js';
import type { CommandRunner } from './exec.js';
import { namespaceInode, pidsInNamespaces, processArgs, readPidFile, terminate, waitFor } from './procs.js';
import { Script } from './script.js';

/**
 * Stand-ins for what lives outside the agent, for trying the dataplane out: an "instance"
 * (a namespace plugged like Nova would, getting its address from our dnsmasq with a real DHCP
 * client: busybox udhcpc, or ISC dhclient) and an "external host" on the external network's bridge. All inside our namespaces.
 */

export interface Lease {
  readonly ip: string;
  readonly prefixLength: number;
  readonly router: string | null;
  readonly staticRoutes: string;
  /** The answering server's identifier (option 54): which DHCP port gave the lease. */
  readonly server: string | null;
}

export interface PlugInstanceOptions {
  readonly portId: string;
  readonly networkId: string;
  readonly mac: string;
  readonly mtu?: number;
  /** Default: udhcpc if installed, else dhclient. */
  readonly client?: DhcpClient;
  /** Wait this long for a DHCP lease (default 15 s). */
  readonly timeoutMs?: number;
}

export interface PluggedInstance {
  readonly namespace: string;
  readonly device: 'eth0';
  readonly lease: Lease;
}

const instanceDir = (config: AgentConfig, portId: string): string => `${config.stateDir}/instances/${portId}`;

export type DhcpClient = 'udhcpc' | 'dhclient';

// Client hooks. They touch only the instance's own interface: the stock scripts would rewrite
// /etc/resolv.conf, which `ip netns exec` shares with the host. Both write the same lease file.
const WRITE_LEASE = `printf 'ip=%s\\nmask=%s\\nrouter=%s\\nstaticroutes=%s\\nserver=%s\\n' "$ip" "$mask" "$router" "$staticroutes" "$serverid" > "$lease.tmp"
    mv "$lease.tmp" "$lease"`;

function udhcpcScript(leaseFile: string): string {
  return `#!/bin/sh
lease=${leaseFile}
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    rm -f "$lease"
    ;;
  bound|renew)
    [ "$1" = bound ] && ip -4 addr flush dev "$interface"
    ip addr replace "$ip/\${mask:-24}" dev "$interface"
    if [ -n "$staticroutes" ]; then
      set -- $staticroutes
      while [ $# -ge 2 ]; do
        if [ "$2" = 0.0.0.0 ]; then ip route replace "$1" dev "$interface" scope link
        else ip route replace "$1" via "$2" dev "$interface"; fi
        shift 2
      done
    elif [ -n "$router" ]; then
      set -- $router
      ip route replace default via "$1" dev "$interface"
    fi
    ${WRITE_LEASE}
    ;;
esac
exit 0
`;
}

function dhclientScript(leaseFile: string): string {
  return `#!/bin/sh
lease=${leaseFile}
case "$reason" in
  PREINIT) ip link set "$interface" up ;;
  BOUND|RENEW|REBIND|REBOOT)
    ip=$new_ip_address; mask=$new_subnet_mask; router=$new_routers; staticroutes=; serverid=$new_dhcp_server_identifier
    [ "$reason" = BOUND ] && ip -4 addr flush dev "$interface"
    ip addr replace "$ip/$mask" dev "$interface"
    if [ -n "$router" ]; then
      set -- $router
      ip route replace default via "$1" dev "$interface"
    fi
    ${WRITE_LEASE}
    ;;
  EXPIRE|FAIL|RELEASE|STOP) ip -4 addr flush dev "$interface"; rm -f "$lease" ;;
esac
exit 0
`;
}

/** busybox udhcpc when present (light, fast), else ISC dhclient. */
async function pickDhcpClient(exec: CommandRunner): Promise<DhcpClient> {
  const r = await exec.run('sh', ['-c', 'command -v udhcpc || command -v dhclient'], { mutating: false, reject: false });
  if (r.stdout.includes('udhcpc')) return 'udhcpc';
  if (r.stdout.includes('dhclient')) return 'dhclient';
  throw new Error('no DHCP client: install udhcpc or isc-dhcp-client (scripts/dataplane-deps.sh)');
}

function maskToPrefix(mask: string | undefined): number {
  if (!mask) return 24;
  if (!mask.includes('.')) return Number(mask);
  return mask.split('.').reduce((n, o) => n + (Number(o).toString(2).match(/1/g)?.length ?? 0), 0);
}

async function readLease(path: string): Promise<Lease | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return null;
  }
  const fields = new Map(
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const ip = fields.get('ip');
  if (!ip) return null;
  const router = fields.get('router')?.split(' ')[0] || null;
  return {
    ip,
    prefixLength: maskToPrefix(fields.get('mask')),
    router,
    staticRoutes: fields.get('staticroutes') ?? '',
    server: fields.get('server') || null,
  };
}

function clientCommand(client: DhcpClient, dir: string): string[] {
  if (client === 'udhcpc') {
    // Without -f it stays in the foreground until it has a lease (or, with -b, until its tries
    // are used up), then daemonizes and writes the pid file.
    return ['udhcpc', '-i', 'eth0', '-s', `${dir}/client.script`, '-p', `${dir}/client.pid`, '-t', '10', '-T', '1', '-A', '1', '-b'];
  }
  return [
    'dhclient',
    '-4',
    '-nw',
    '-cf',
    `${dir}/dhclient.conf`,
    '-sf',
    `${dir}/client.script`,
    '-pf',
    `${dir}/client.pid`,
    '-lf',
    `${dir}/dhclient.leases`,
    'eth0',
  ];
}

/**
 * The instance's namespace and its eth0 on the network's bridge, with no DHCPv4 client: what an
 * IPv6-only instance is (the kernel autoconfigures from router advertisements by itself).
 */
export async function plugInstanceLink(
  exec: CommandRunner,
  config: AgentConfig,
  opts: Pick<PlugInstanceOptions, 'portId' | 'networkId' | 'mac' | 'mtu'>,
): Promise<string> {
  const ns = instanceNamespace(config, opts.portId);
  const tap = tapName(opts.portId);
  const mtu = opts.mtu ?? 1500;
  await unplugInstance(exec, config, opts.portId);
  const script = new Script()
    .command(['ip', 'netns', 'add', ns])
    .commandWithInput(
      ['ip', '-n', config.hostNamespace, '-batch', '-'],
      [
        `link add ${tap} mtu ${mtu} type veth peer name eth0 address ${opts.mac.toLowerCase()} mtu ${mtu} netns ${ns}`,
        `link set ${tap} master ${bridgeName(opts.networkId)} up`,
      ],
    )
    .commandWithInput(['ip', '-n', ns, '-batch', '-'], ['link set lo up', 'link set eth0 up']);
  await exec.run('sh', ['-c', script.render()], { mutating: true });
  return ns;
}

export async function plugInstance(exec: CommandRunner, config: AgentConfig, opts: PlugInstanceOptions): Promise<PluggedInstance> {
  const ns = instanceNamespace(config, opts.portId);
  const dir = instanceDir(config, opts.portId);
  const client = opts.client ?? (await pickDhcpClient(exec));
  await plugInstanceLink(exec, config, opts);
  await exec.mutate(`write ${dir}`, async () => {
    await mkdir(dir, { recursive: true, mode: 0o755 });
    const script = client === 'udhcpc' ? udhcpcScript(`${dir}/lease`) : dhclientScript(`${dir}/lease`);
    await writeFile(`${dir}/client.script`, script, { mode: 0o755 });
    await writeFile(`${dir}/dhclient.conf`, 'timeout 20;\nretry 1;\nrequest subnet-mask, broadcast-address, routers;\n');
  });
  await exec.run('ip', ['netns', 'exec', ns, ...clientCommand(client, dir)], {
    mutating: true,
    logFile: `${dir}/client.log`,
    timeoutMs: 60_000,
  });
  const lease = await waitFor(() => readLease(`${dir}/lease`), opts.timeoutMs ?? 15_000, 50);
  if (!lease) {
    const log = (await readFile(`${dir}/client.log`, 'utf8').catch(() => '')).slice(-500);
    throw new Error(`instance ${opts.portId} got no DHCP lease: ${log}`);
  }
  return { namespace: ns, device: 'eth0', lease };
}

// dhclient -6 hook: the leased address as a /128 (the on-link prefix comes from the RA, as on a real host).
function dhclient6Script(leaseFile: string): string {
  return `#!/bin/sh
lease=${leaseFile}
case "$reason" in
  BOUND6|RENEW6|REBIND6|REBOOT6|INFORM6)
    [ -n "$new_ip6_address" ] && ip -6 addr replace "$new_ip6_address/128" dev "$interface"
    printf 'ipv6=%s\\ndns=%s\\n' "$new_ip6_address" "$new_dhcp6_name_servers" > "$lease.tmp"
    mv "$lease.tmp" "$lease"
    ;;
  EXPIRE6|RELEASE6|STOP6) [ -n "$old_ip6_address" ] && ip -6 addr del "$old_ip6_address/128" dev "$interface"; rm -f "$lease" ;;
esac
exit 0
`;
}

export interface Lease6 {
  /** null: a stateless answer (options only). */
  readonly ip: string | null;
  readonly dns: string;
}

async function readLease6(path: string): Promise<Lease6 | null> {
  const text = await readFile(path, 'utf8').catch(() => null);
  if (text === null) return null;
  const fields = new Map(
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return { ip: fields.get('ipv6') || null, dns: fields.get('dns') ?? '' };
}

/**
 * DHCPv6 in a plugged instance with ISC `dhclient -6`: a stateful lease, or with `stateless` an
 * information-request (`-S`, options only). Resolves with the first answer.
 */
export async function startDhcpv6Client(
  exec: CommandRunner,
  config: AgentConfig,
  portId: string,
  opts: { stateless?: boolean; timeoutMs?: number } = {},
): Promise<Lease6> {
  const ns = instanceNamespace(config, portId);
  const dir = instanceDir(config, portId);
  const timeoutMs = opts.timeoutMs ?? 20_000;
  // dhclient binds to the link-local address: wait until duplicate address detection is done with it.
  const linkLocal = await waitFor(
    async () => {
      const r = await exec.run('ip', ['-n', ns, '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'link'], { mutating: false, reject: false });
      return r.stdout.includes('fe80::') && !r.stdout.includes('tentative') ? true : null;
    },
    timeoutMs,
    50,
  );
  if (!linkLocal) throw new Error(`instance ${portId} has no usable link-local address`);
  await exec.mutate(`write ${dir}/client6.script`, async () => {
    await mkdir(dir, { recursive: true, mode: 0o755 });
    await writeFile(`${dir}/client6.script`, dhclient6Script(`${dir}/lease6`), { mode: 0o755 });
    await writeFile(`${dir}/dhclient6.conf`, 'timeout 20;\nretry 1;\n');
  });
  const argv = [
    'dhclient',
    '-6',
    '-nw',
    ...(opts.stateless ? ['-S'] : []),
    '-cf',
    `${dir}/dhclient6.conf`,
    '-sf',
    `${dir}/client6.script`,
    '-pf',
    `${dir}/client6.pid`,
    '-lf',
    `${dir}/dhclient6.leases`,
    'eth0',
  ];
  await exec.run('ip', ['netns', 'exec', ns, ...argv], { mutating: true, logFile: `${dir}/client6.log`, timeoutMs: 60_000 });
  const lease = await waitFor(() => readLease6(`${dir}/lease6`), timeoutMs, 50);
  if (!lease) {
    const log = (await readFile(`${dir}/client6.log`, 'utf8').catch(() => '')).slice(-500);
    throw new Error(`instance ${portId} got no DHCPv6 answer: ${log}`);
  }
  return lease;
}

/** Stop the DHCP clients (by PID) and everything else in the namespace, then remove it. */
export async function unplugInstance(exec: CommandRunner, config: AgentConfig, portId: string): Promise<void> {
  const dir = instanceDir(config, portId);
  for (const file of [`${dir}/client.pid`, `${dir}/client6.pid`]) {
    const pid = await readPidFile(file);
    if (pid !== null && (await processArgs(pid))?.includes(file)) {
      await exec.mutate(`stop DHCP client ${pid}`, () => terminate(pid));
    }
  }
  await removeNamespace(exec, instanceNamespace(config, portId));
  await exec.run('ip', ['-n', config.hostNamespace, 'link', 'del', tapName(portId)], { mutating: true, reject: false });
  await exec.mutate(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
}

/** Kill whatever still runs inside a namespace of ours (by PID), then delete it. */
export async function removeNamespace(exec: CommandRunner, ns: string): Promise<void> {
  const ino = await namespaceInode(ns);
  if (ino === null) return;
  for (const p of await pidsInNamespaces(new Set([ino]))) await exec.mutate(`kill ${p} in ${ns}`, () => terminate(p));
  await exec.run('ip', ['netns', 'del', ns], { mutating: true });
}

export interface ExternalHostOptions {
  readonly name: string;
  readonly networkId: string;
  /** `ip/prefixlen`, e.g. the external subnet's gateway `203.0.113.1/24`. */
  readonly address: string;
  readonly routes?: readonly { readonly destination: string; readonly via: string }[];
}

/** A namespace on the external network's bridge: the "internet" the routers' gateways face. */
export async function createExternalHost(exec: CommandRunner, config: AgentConfig, opts: ExternalHostOptions): Promise<string> {
  const ns = externalHostNamespace(config, opts.name);
  const dev = deviceName('ext', opts.name);
  await removeNamespace(exec, ns);
  const script = new Script()
    .command(['ip', 'netns', 'add', ns])
    .commandWithInput(
      ['ip', '-n', config.hostNamespace, '-batch', '-'],
      [`link add ${dev} type veth peer name eth0 netns ${ns}`, `link set ${dev} master ${bridgeName(opts.networkId)} up`],
    )
    .commandWithInput(
      ['ip', '-n', ns, '-batch', '-'],
      [
        'link set lo up',
        'link set eth0 up',
        `addr add ${opts.address} dev eth0`,
        ...(opts.routes ?? []).map((r) => `route add ${r.destination} via ${r.via}`),
      ],
    );
  await exec.run('sh', ['-c', script.render()], { mutating: true });
  return ns;
}

export async function removeExternalHost(exec: CommandRunner, config: AgentConfig, name: string): Promise<void> {
  await removeNamespace(exec, externalHostNamespace(config, name));
}
