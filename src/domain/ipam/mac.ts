/** Neutron's default base_mac: the OpenStack OUI; the last three octets are random. */
export const MAC_PREFIX = 'fa:16:3e';

const MAC_PATTERN = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i;

/** Lower case, colon separated; null when not a 48-bit MAC. */
export function normaliseMac(text: string): string | null {
  const t = text.trim();
  if (!MAC_PATTERN.test(t)) return null;
  return t.toLowerCase().replace(/-/g, ':');
}

export function macOctets(mac: string): number[] {
  return mac.split(':').map((o) => parseInt(o, 16));
}

/** Group bit set, or all zero: neither can be a port's address. */
export function isUnusableMac(mac: string): boolean {
  const octets = macOctets(mac);
  return (octets[0]! & 1) === 1 || octets.every((o) => o === 0);
}

/** A MAC under fa:16:3e from three caller-supplied random bytes (the domain draws no randomness). */
export function macFromRandomBytes(bytes: ArrayLike<number>): string {
  if (bytes.length < 3) throw new Error('macFromRandomBytes needs 3 random bytes');
  const tail = [bytes[0]!, bytes[1]!, bytes[2]!].map((b) => (b & 0xff).toString(16).padStart(2, '0'));
  return `${MAC_PREFIX}:${tail.join(':')}`;
}
