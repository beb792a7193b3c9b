import { domainError, invalidField, isDomainError, type DomainError } from '../errors.js';
import { formatCidr, formatIp, normaliseMac, parseCidr, parseIp } from '../ipam/index.js';
import type { AddressPairRequest } from './commands.js';
import type { AddressPair } from './events.js';

/** Neutron's max_allowed_address_pair. */
export const MAX_ALLOWED_ADDRESS_PAIRS = 10;

/** Pairs normalised (IP or CIDR, MAC defaulting to the port's), with Neutron's limits. */
export function resolveAddressPairs(requests: readonly AddressPairRequest[], portMac: string): AddressPair[] | DomainError {
  if (requests.length > MAX_ALLOWED_ADDRESS_PAIRS) {
    return domainError(
      'AllowedAddressPairExhausted',
      `The number of allowed address pair exceeds the maximum ${MAX_ALLOWED_ADDRESS_PAIRS}.`,
      {
        field: ['allowedAddressPairs'],
      },
    );
  }
  const pairs: AddressPair[] = [];
  for (const [i, r] of requests.entries()) {
    let ipAddress: string;
    if (r.ipAddress.includes('/')) {
      const cidr = parseCidr(r.ipAddress, { allowZeroPrefix: true });
      if (isDomainError(cidr)) return { ...cidr, field: ['allowedAddressPairs'] };
      ipAddress = formatCidr(cidr);
    } else {
      const ip = parseIp(r.ipAddress);
      if (!ip)
        return invalidField(['allowedAddressPairs', String(i), 'ipAddress'], `'${r.ipAddress}' is not a valid IP address or prefix.`);
      ipAddress = formatIp(ip);
    }
    const macAddress = r.macAddress === undefined ? portMac : normaliseMac(r.macAddress);
    if (macAddress === null)
      return invalidField(['allowedAddressPairs', String(i), 'macAddress'], `'${r.macAddress}' is not a valid MAC address.`);
    if (pairs.some((p) => p.ipAddress === ipAddress && p.macAddress === macAddress)) {
      return domainError(
        'DuplicateAddressPairInRequest',
        `Request contains duplicate address pair: mac_address ${macAddress} ip_address ${ipAddress}.`,
        {
          field: ['allowedAddressPairs'],
        },
      );
    }
    pairs.push({ ipAddress, macAddress });
  }
  return pairs;
}

/**
 * Neutron's `_validate_sgs_for_port`: a port's groups are all stateful or all stateless, since the
 * dataplane tracks a port's connections or it does not. `stateful` knows the groups named.
 */
export function statefulnessConflict(securityGroups: readonly string[], stateful: Readonly<Record<string, boolean>>): DomainError | null {
  const kinds = new Set(securityGroups.flatMap((g) => (stateful[g] === undefined ? [] : [stateful[g]])));
  if (kinds.size < 2) return null;
  return domainError(
    'SecurityGroupConflict',
    'Error Cannot apply both stateful and stateless security groups on the same port at the same time while attempting the operation.',
    { field: ['securityGroupIds'] },
  );
}

/** With port security off there is no filtering, so there is nothing groups or pairs could mean. */
export function portSecurityProblem(
  enabled: boolean,
  securityGroups: readonly string[],
  pairs: readonly AddressPair[],
): DomainError | null {
  if (enabled) return null;
  if (securityGroups.length > 0) {
    return domainError(
      'PortSecurityPortHasSecurityGroup',
      'Port has security group associated. Cannot disable port security or ip address until security group is removed.',
      {
        field: ['portSecurityEnabled'],
      },
    );
  }
  if (pairs.length > 0) {
    return domainError(
      'AddressPairAndPortSecurityRequired',
      'Port Security must be enabled in order to have allowed address pairs on a port.',
      {
        field: ['allowedAddressPairs'],
      },
    );
  }
  return null;
}
