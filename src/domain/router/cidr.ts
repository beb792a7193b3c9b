import ipaddr from 'ipaddr.js';

/*
 * Private IP math for routers, floating IPs and security groups, until the shared IPAM module
 * (src/domain/ipam) lands; then these should be served by it.
 */

export type IpVersion = 4 | 6;

export interface ParsedIp {
  readonly version: IpVersion;
  /** Canonical text: dotted quad, or RFC 5952 for IPv6. */
  readonly address: string;
}

export interface ParsedCidr {
  readonly version: IpVersion;
  /** Canonical network form, host bits cleared: `10.0.0.1/24` becomes `10.0.0.0/24`. */
  readonly cidr: string;
  readonly prefix: number;
}

type Addr = ReturnType<typeof ipaddr.parse>;

function text(addr: Addr): string {
  return addr.kind() === 'ipv6' ? (addr as ipaddr.IPv6).toRFC5952String() : addr.toString();
}

function parseStrict(value: string): Addr | null {
  // ipaddr.js also accepts "10", "0x0a.1" and friends for IPv4; Neutron does not.
  if (ipaddr.IPv4.isValidFourPartDecimal(value)) return ipaddr.IPv4.parse(value);
  if (!value.includes('%') && ipaddr.IPv6.isValid(value)) return ipaddr.IPv6.parse(value);
  return null;
}

export function parseIp(value: string): ParsedIp | null {
  const addr = parseStrict(value);
  return addr ? { version: addr.kind() === 'ipv4' ? 4 : 6, address: text(addr) } : null;
}

/** Parses `a.b.c.d/n` or `x::/n`; with `allowBareIp`, a plain address means a host prefix. */
export function parseCidr(value: string, options: { allowBareIp?: boolean } = {}): ParsedCidr | null {
  const slash = value.indexOf('/');
  if (slash < 0) {
    if (!options.allowBareIp) return null;
    const ip = parseIp(value);
    return ip ? { version: ip.version, cidr: `${ip.address}/${ip.version === 4 ? 32 : 128}`, prefix: ip.version === 4 ? 32 : 128 } : null;
  }
  const addr = parseStrict(value.slice(0, slash));
  const prefixText = value.slice(slash + 1);
  if (!addr || !/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  const version: IpVersion = addr.kind() === 'ipv4' ? 4 : 6;
  if (prefix > (version === 4 ? 32 : 128)) return null;
  const bytes = addr.toByteArray().map((byte, i) => {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    return byte & ((0xff << (8 - keep)) & 0xff);
  });
  return { version, cidr: `${text(ipaddr.fromByteArray(bytes))}/${prefix}`, prefix };
}

export function cidrContains(cidr: string, ip: string): boolean {
  const net = parseCidr(cidr);
  const addr = parseStrict(ip);
  if (!net || !addr || addr.kind() !== (net.version === 4 ? 'ipv4' : 'ipv6')) return false;
  return addr.match(ipaddr.parseCIDR(net.cidr));
}

/** Two prefixes overlap when either one's network address lies inside the other. */
export function cidrsOverlap(a: string, b: string): boolean {
  const pa = parseCidr(a);
  const pb = parseCidr(b);
  if (!pa || !pb || pa.version !== pb.version) return false;
  const netA = pa.cidr.slice(0, pa.cidr.indexOf('/'));
  const netB = pb.cidr.slice(0, pb.cidr.indexOf('/'));
  return cidrContains(pa.cidr, netB) || cidrContains(pb.cidr, netA);
}
