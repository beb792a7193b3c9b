import { formatIp } from './address.js';
import { cidrOf, formatCidr } from './cidr.js';
import { macOctets, normaliseMac } from './mac.js';

/**
 * The SLAAC address of a MAC on a /64: the prefix, then the MAC with the universal/local bit
 * flipped and ff:fe in the middle (RFC 4291 appendix A).
 */
export function eui64Address(prefix: string, mac: string): string {
  const cidr = cidrOf(prefix);
  if (cidr.version !== 6 || cidr.prefix > 64) throw new Error(`EUI-64 needs an IPv6 prefix of /64 or shorter, got ${formatCidr(cidr)}`);
  const normal = normaliseMac(mac);
  if (!normal) throw new Error(`not a MAC: ${mac}`);
  const o = macOctets(normal);
  const bytes = [o[0]! ^ 0x02, o[1]!, o[2]!, 0xff, 0xfe, o[3]!, o[4]!, o[5]!];
  const iid = bytes.reduce((v, b) => (v << 8n) | BigInt(b), 0n);
  const network = (cidr.network >> 64n) << 64n;
  return formatIp({ version: 6, value: network | iid });
}
