import ipaddr from 'ipaddr.js';

/**
 * The compiler's text-form IP helpers: addresses and prefixes as the kernel and nft print them.
 * Inputs come from the read model, so they are trusted to parse. What an address or a CIDR *is*
 * (parsing, containment, ranges) is domain/ipam's; these only shape and order text.
 */

export function ipVersion(ip: string): 4 | 6 {
  return ipaddr.parse(ip).kind() === 'ipv4' ? 4 : 6;
}

export function prefixLength(cidr: string): number {
  return ipaddr.parseCIDR(cidr)[1];
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

/** Canonical element text: bare address for a host prefix. */
export function canonicalPrefix(text: string): string {
  if (!text.includes('/')) return normalizeIp(text);
  const [addr, bits] = ipaddr.parseCIDR(text);
  const full = addr.kind() === 'ipv4' ? 32 : 128;
  const network =
    addr.kind() === 'ipv4'
      ? ipaddr.IPv4.networkAddressFromCIDR(`${addr.toString()}/${bits}`).toString()
      : ipaddr.IPv6.networkAddressFromCIDR(`${addr.toString()}/${bits}`).toString();
  return bits === full ? network : `${network}/${bits}`;
}

export const asCidr = (p: string): string => (p.includes('/') ? p : `${p}/${ipVersion(p) === 4 ? 32 : 128}`);

export function prefixContains(outer: string, inner: string): boolean {
  const [o, ob] = ipaddr.parseCIDR(asCidr(outer));
  const [i, ib] = ipaddr.parseCIDR(asCidr(inner));
  return o.kind() === i.kind() && ib >= ob && i.match(o, ob);
}
