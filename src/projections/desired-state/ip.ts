import ipaddr from 'ipaddr.js';

/** Small IP helpers for the compiler; inputs come from the read model, so they are trusted to parse. */

export function ipVersion(ip: string): 4 | 6 {
  return ipaddr.parse(ip).kind() === 'ipv4' ? 4 : 6;
}

export function prefixLength(cidr: string): number {
  return ipaddr.parseCIDR(cidr)[1];
}

export function cidrContains(cidr: string, ip: string): boolean {
  const [net, bits] = ipaddr.parseCIDR(cidr);
  const addr = ipaddr.parse(ip);
  return addr.kind() === net.kind() && addr.match(net, bits);
}

export function networkAddress(cidr: string): string {
  const [net, bits] = ipaddr.parseCIDR(cidr);
  if (net.kind() === 'ipv4') return ipaddr.IPv4.networkAddressFromCIDR(`${net.toString()}/${bits}`).toString();
  return ipaddr.IPv6.networkAddressFromCIDR(`${net.toString()}/${bits}`).toString();
}

/** Canonical `network/prefix` (dnsmasq and the kernel print it that way). */
export function canonicalCidr(cidr: string): string {
  return `${networkAddress(cidr)}/${prefixLength(cidr)}`;
}

export function netmask(cidr: string): string {
  return ipaddr.IPv4.subnetMaskFromPrefixLength(prefixLength(cidr)).toString();
}

/** Normalized text form (the kernel prints IPv6 compressed, lower case). */
export function normalizeIp(ip: string): string {
  return ipaddr.parse(ip).toString();
}

function bytes(ip: string): number[] {
  const a = ipaddr.parse(ip);
  const b = a.toByteArray();
  // v4 sorts before v6: pad v4 with a leading marker byte lower than any v6 length marker.
  return a.kind() === 'ipv4' ? [4, ...b] : [6, ...b];
}

export function compareIp(a: string, b: string): number {
  const x = bytes(a);
  const y = bytes(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? -1) - (y[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/** Compare `ip/len` strings: by address, then by prefix length. */
export function compareCidr(a: string, b: string): number {
  const [ia = '', la = '0'] = a.split('/');
  const [ib = '', lb = '0'] = b.split('/');
  return compareIp(ia, ib) || Number(la) - Number(lb);
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
