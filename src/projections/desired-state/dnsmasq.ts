import type { DnsmasqFile, DnsmasqSpec } from './host-state.js';
import { canonicalCidr, compareCidr, compareIp, compareStrings, ipVersion, netmask, networkAddress, prefixLength } from './ip.js';
import { DeviceOwner } from '../../domain/port/device-owner.js';
import type { TopologyPort, TopologySubnet } from './topology.js';

/** Ports that never get DHCP host entries (reference 3.3). */
const NO_HOST_ENTRY = new Set<string>([DeviceOwner.dhcp, DeviceOwner.floatingIp, DeviceOwner.routerHaInterface, DeviceOwner.distributed]);
const METADATA_CIDR = '169.254.169.254/32';
const MAX_LEASES = 2 ** 24;

export interface DnsmasqInput {
  readonly dir: string;
  readonly interfaceName: string;
  readonly mtu: number | null;
  /** Served subnets: DHCP-enabled IPv4 ones, then DHCPv6 ones (compile.ts decides which), each sorted by id. */
  readonly subnets: readonly TopologySubnet[];
  /** Every IPv4 subnet of the network (for on-link classless routes). */
  readonly allV4Subnets: readonly TopologySubnet[];
  readonly ports: readonly TopologyPort[];
  /**
   * IPv6 subnets whose `ipv6_ra_mode` asks for advertisements on a network no router serves:
   * dnsmasq sends their RAs (radvd in the router namespace does it where there is a router).
   */
  readonly advertised: readonly TopologySubnet[];
  /** Subnets with a router interface (they get the metadata route via their gateway). */
  readonly routedSubnetIds: ReadonlySet<string>;
  readonly dnsDomain: string;
  /** -1 means infinite. */
  readonly leaseSeconds: number;
}

/** One dnsmasq per network, with Neutron's command line (reference 3.2) and files (3.3). */
export function buildDnsmasq(input: DnsmasqInput): DnsmasqSpec {
  const dir = input.dir;
  const lease = input.leaseSeconds < 0 ? 'infinite' : `${input.leaseSeconds}s`;
  const advertised = new Set(input.advertised.map((s) => s.id));
  const size = input.subnets.reduce((n, s) => n + 2 ** ((s.ipVersion === 4 ? 32 : 128) - prefixLength(s.cidr)), 0);
  const args = [
    '--no-hosts',
    '--no-resolv',
    `--pid-file=${dir}/pid`,
    `--dhcp-hostsfile=${dir}/host`,
    `--addn-hosts=${dir}/addn_hosts`,
    `--dhcp-optsfile=${dir}/opts`,
    `--dhcp-leasefile=${dir}/leases`,
    '--dhcp-match=set:ipxe,175',
    '--dhcp-userclass=set:ipxe6,iPXE',
    '--bind-dynamic',
    `--interface=${input.interfaceName}`,
    ...input.subnets.map((s) => dhcpRange(s, rangeMode(s, advertised), lease)),
    ...input.advertised.filter((s) => !input.subnets.includes(s)).map((s) => dhcpRange(s, rangeMode(s, advertised), lease)),
    ...(input.mtu !== null ? [`--dhcp-option-force=option:mtu,${input.mtu}`] : []),
    // No router here: the advertisements carry the prefixes with a zero router lifetime, so no
    // instance takes the DHCP port for its default router.
    ...(advertised.size > 0
      ? ['--enable-ra', `--ra-param=${input.interfaceName},${input.mtu !== null ? `mtu:${input.mtu},` : ''}0,0`]
      : []),
    `--dhcp-lease-max=${Math.min(size, MAX_LEASES)}`,
    '--conf-file=/dev/null',
    `--domain=${input.dnsDomain}`,
  ];
  const files: DnsmasqFile[] = [
    { name: 'addn_hosts', content: lines(hostEntries(input).map((h) => `${h.ip}\t${h.fqdn} ${h.hostname}`)) },
    { name: 'host', content: lines(hostEntries(input).map((h) => `${h.mac},${h.fqdn},${ipVersion(h.ip) === 6 ? `[${h.ip}]` : h.ip}`)) },
    {
      name: 'opts',
      content: lines(input.subnets.flatMap((s) => (s.ipVersion === 4 ? subnetOptions(s, input) : subnetOptionsV6(s, input)))),
    },
  ];
  return { dir, pidFile: `${dir}/pid`, args, files };
}

function dhcpRange(s: TopologySubnet, mode: string, lease: string): string {
  return `--dhcp-range=set:subnet-${s.id},${networkAddress(s.cidr)},${mode},${s.ipVersion === 4 ? netmask(s.cidr) : prefixLength(s.cidr)},${lease}`;
}

/**
 * `static` serves only the addresses of the host file. With RA on, each range's mode sets the
 * advertisement's flags: `ra-only` (A: SLAAC), `ra-stateless` (A and O), `static` (M).
 */
function rangeMode(s: TopologySubnet, advertised: ReadonlySet<string>): string {
  if (s.ipVersion === 4 || !advertised.has(s.id)) return 'static';
  if (s.ipv6RaMode === 'slaac') return 'ra-only';
  if (s.ipv6RaMode === 'dhcpv6-stateless') return 'ra-stateless';
  return 'static';
}

function lines(items: readonly string[]): string {
  return items.map((l) => `${l}\n`).join('');
}

interface HostEntry {
  readonly mac: string;
  readonly ip: string;
  readonly hostname: string;
  readonly fqdn: string;
}

function hostEntries(input: DnsmasqInput): HostEntry[] {
  // A stateless subnet's addresses are EUI-64 (SLAAC): dnsmasq hands out options there, no address.
  const served = new Set(input.subnets.filter((s) => s.ipVersion === 4 || s.ipv6AddressMode !== 'dhcpv6-stateless').map((s) => s.id));
  const entries: HostEntry[] = [];
  for (const port of input.ports) {
    if (NO_HOST_ENTRY.has(port.deviceOwner)) continue;
    for (const fip of port.fixedIps) {
      if (!served.has(fip.subnetId)) continue;
      const hostname = `host-${fip.ipAddress.replace(/[.:]/g, '-')}`;
      entries.push({
        mac: port.macAddress.toLowerCase(),
        ip: fip.ipAddress,
        hostname,
        fqdn: `${hostname}.${input.dnsDomain}`,
      });
    }
  }
  return entries.sort((a, b) => compareIp(a.ip, b.ip) || compareStrings(a.mac, b.mac));
}

/** DHCPv6 options: DNS servers and the search domain; routes come from the RA, not DHCPv6. */
function subnetOptionsV6(subnet: TopologySubnet, input: DnsmasqInput): string[] {
  const tag = `tag:subnet-${subnet.id}`;
  const out: string[] = [];
  if (subnet.dnsNameservers.length > 0) out.push(`${tag},option6:dns-server,${subnet.dnsNameservers.map((d) => `[${d}]`).join(',')}`);
  out.push(`${tag},option6:domain-search,${input.dnsDomain}`);
  return out;
}

function subnetOptions(subnet: TopologySubnet, input: DnsmasqInput): string[] {
  const tag = `tag:subnet-${subnet.id}`;
  const out: string[] = [];
  if (subnet.dnsNameservers.length > 0) {
    out.push(`${tag},option:dns-server,${subnet.dnsNameservers.join(',')}`);
  }
  // A 0.0.0.0/0 host route stands in for a missing gateway.
  const defaultRoute = subnet.hostRoutes.find((r) => canonicalCidr(r.destination) === '0.0.0.0/0');
  const gateway = subnet.gatewayIp ?? defaultRoute?.nexthop ?? null;
  const onLink = input.allV4Subnets
    .filter((s) => s.id !== subnet.id)
    .map((s) => canonicalCidr(s.cidr))
    .sort(compareCidr)
    .map((c) => `${c},0.0.0.0`);
  const hostRoutes = subnet.hostRoutes
    .filter((r) => canonicalCidr(r.destination) !== '0.0.0.0/0')
    .map((r) => ({ destination: canonicalCidr(r.destination), nexthop: r.nexthop }))
    .sort((a, b) => compareCidr(a.destination, b.destination) || compareIp(a.nexthop, b.nexthop));
  const classless = [...onLink, ...hostRoutes.map((r) => `${r.destination},${r.nexthop}`)];
  if (gateway !== null && input.routedSubnetIds.has(subnet.id) && !hostRoutes.some((r) => r.destination === METADATA_CIDR)) {
    classless.push(`${METADATA_CIDR},${gateway}`);
  }
  if (classless.length > 0 && gateway !== null) classless.push(`0.0.0.0/0,${gateway}`);
  if (classless.length > 0) {
    out.push(`${tag},option:classless-static-route,${classless.join(',')}`);
    out.push(`${tag},249,${classless.join(',')}`);
  }
  // An empty router option tells clients there is no default route.
  out.push(gateway !== null ? `${tag},option:router,${gateway}` : `${tag},option:router`);
  return out;
}
