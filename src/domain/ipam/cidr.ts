import { domainError, isDomainError, type DomainError } from '../errors.js';
import { addressBits, formatIp, parseIp, type IpAddress, type IpVersion } from './address.js';

/** A CIDR with its host bits cleared. */
export interface Cidr {
  readonly version: IpVersion;
  readonly network: bigint;
  readonly prefix: number;
}

export interface AddressRange {
  readonly first: bigint;
  readonly last: bigint;
}

function invalidCidr(text: string): DomainError {
  return domainError('InvalidInput', `Invalid input for operation: '${text}' is not a valid IP subnet.`, { details: { cidr: text } });
}

/**
 * Parses and normalises (`10.0.0.1/24` → `10.0.0.0/24`). A /0 is refused unless the caller says
 * otherwise: a subnet may not be /0, but a host route or address pair to 0.0.0.0/0 is fine.
 */
export function parseCidr(text: string, options: { allowZeroPrefix?: boolean } = {}): Cidr | DomainError {
  const match = /^([^/\s]+)\/(\d{1,3})$/.exec(text.trim());
  if (!match) return invalidCidr(text);
  const address = parseIp(match[1] ?? '');
  if (!address) return invalidCidr(text);
  const prefix = Number(match[2]);
  if (prefix > addressBits(address.version)) return invalidCidr(text);
  if (prefix === 0 && !options.allowZeroPrefix) {
    return domainError('InvalidInput', 'Invalid input for operation: 0 is not allowed as CIDR prefix length.', { details: { cidr: text } });
  }
  const hostBits = BigInt(addressBits(address.version) - prefix);
  return { version: address.version, prefix, network: (address.value >> hostBits) << hostBits };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp({ version: cidr.version, value: cidr.network })}/${cidr.prefix}`;
}

/** Parses a CIDR that is already known to be valid (stored state, facts from other aggregates). */
export function cidrOf(text: string): Cidr {
  const c = parseCidr(text, { allowZeroPrefix: true });
  if (isDomainError(c)) throw new Error(`not a CIDR: ${text}`);
  return c;
}

export function cidrRange(cidr: Cidr): AddressRange {
  const size = 1n << BigInt(addressBits(cidr.version) - cidr.prefix);
  return { first: cidr.network, last: cidr.network + size - 1n };
}

export function cidrContains(cidr: Cidr, address: IpAddress): boolean {
  if (address.version !== cidr.version) return false;
  const { first, last } = cidrRange(cidr);
  return address.value >= first && address.value <= last;
}

/** Same family and one contains the other (equal, sub- or supernet). */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.version !== b.version) return false;
  const ra = cidrRange(a);
  const rb = cidrRange(b);
  return ra.first <= rb.last && rb.first <= ra.last;
}

/**
 * The addresses a host may hold. IPv4 loses network and broadcast except in /31 and /32
 * (RFC 3021 point-to-point); IPv6 loses the subnet-router anycast (network) address, except in a /128.
 */
export function hostRange(cidr: Cidr): AddressRange {
  const { first, last } = cidrRange(cidr);
  if (cidr.version === 4) return cidr.prefix >= 31 ? { first, last } : { first: first + 1n, last: last - 1n };
  return cidr.prefix === 128 ? { first, last } : { first: first + 1n, last };
}

/**
 * IPv4 network/broadcast (none in /31, /32) and the IPv6 subnet-router anycast address: the
 * addresses an ordinary port may not ask for.
 */
export function isNetworkOrBroadcast(cidr: Cidr, address: IpAddress): boolean {
  if (!cidrContains(cidr, address)) return false;
  const host = hostRange(cidr);
  return address.value < host.first || address.value > host.last;
}
