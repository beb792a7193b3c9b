import ipaddr from 'ipaddr.js';

export type IpVersion = 4 | 6;

/** An address as a number, so ranges can be compared and walked without re-parsing. */
export interface IpAddress {
  readonly version: IpVersion;
  readonly value: bigint;
}

export function addressBits(version: IpVersion): number {
  return version === 4 ? 32 : 128;
}

function bytesToBigint(bytes: readonly number[]): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

function bigintToBytes(value: bigint, length: number): number[] {
  const bytes = new Array<number>(length);
  let v = value;
  for (let i = length - 1; i >= 0; i--) {
    bytes[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return bytes;
}

/**
 * Strict parse: IPv4 only in dotted four-part decimal (ipaddr.js would also take `10` or hex
 * parts, which Neutron rejects), IPv6 without a zone id. Answers null for anything else.
 */
export function parseIp(text: string): IpAddress | null {
  const t = text.trim();
  if (ipaddr.IPv4.isValidFourPartDecimal(t)) {
    return { version: 4, value: bytesToBigint(ipaddr.IPv4.parse(t).toByteArray()) };
  }
  if (!t.includes('%') && ipaddr.IPv6.isValid(t)) {
    return { version: 6, value: bytesToBigint(ipaddr.IPv6.parse(t).toByteArray()) };
  }
  return null;
}

/** Canonical text: dotted decimal for IPv4, RFC 5952 (lower case, compressed) for IPv6. */
export function formatIp(address: IpAddress): string {
  if (address.version === 4) return ipaddr.fromByteArray(bigintToBytes(address.value, 4)).toString();
  return (ipaddr.fromByteArray(bigintToBytes(address.value, 16)) as ipaddr.IPv6).toRFC5952String();
}

export function normaliseIp(text: string): string | null {
  const a = parseIp(text);
  return a ? formatIp(a) : null;
}

export function ipVersionOf(text: string): IpVersion | null {
  return parseIp(text)?.version ?? null;
}

/** Neutron refuses DHCP on these: nothing sensible can lease from them. */
export function isMulticastOrLoopback(address: IpAddress): boolean {
  const range = ipaddr.parse(formatIp(address)).range();
  return range === 'multicast' || range === 'loopback';
}
