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

function bigintToBytes(value: bigint, length: number): number[] {
  const bytes = new Array<number>(length);
  let v = value;
  for (let i = length - 1; i >= 0; i--) {
    bytes[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return bytes;
}

// Dotted decimal without leading zeros: ipaddr.js would read `010` as octal, Neutron refuses it.
const FOUR_PART_DECIMAL = /^(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}$/;

/**
 * Strict parse: IPv4 only in dotted four-part decimal (ipaddr.js would also take `10` or hex
 * parts, which Neutron rejects), IPv6 without a zone id. Answers null for anything else.
 * Hot in the candidate walk (thousands of allocated addresses), so it parses once and converts
 * with one BigInt per IPv4 address.
 */
export function parseIp(text: string): IpAddress | null {
  const t = text.trim();
  if (FOUR_PART_DECIMAL.test(t)) {
    let octets: number[];
    try {
      octets = ipaddr.IPv4.parse(t).octets;
    } catch {
      return null; // an octet above 255
    }
    const [a, b, c, d] = octets as [number, number, number, number];
    return { version: 4, value: BigInt(a * 0x1000000 + b * 0x10000 + c * 0x100 + d) };
  }
  if (!t.includes('%') && ipaddr.IPv6.isValid(t)) {
    let value = 0n;
    for (const part of ipaddr.IPv6.parse(t).parts) value = (value << 16n) | BigInt(part);
    return { version: 6, value };
  }
  return null;
}

/** Canonical text: dotted decimal for IPv4, RFC 5952 (lower case, compressed) for IPv6. */
export function formatIp(address: IpAddress): string {
  if (address.version === 4) {
    // The four octets written directly: a create formats a window of free candidates each time.
    const v = Number(address.value);
    return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
  }
  return (ipaddr.fromByteArray(bigintToBytes(address.value, 16)) as ipaddr.IPv6).toRFC5952String();
}

/** Parses an address that is already known to be valid (stored state, compiled topology). */
export function ipOf(text: string): IpAddress {
  const a = parseIp(text);
  if (!a) throw new Error(`not an IP address: ${text}`);
  return a;
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
