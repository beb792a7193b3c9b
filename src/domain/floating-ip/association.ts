import { domainError, invalidField, type DomainError } from '../errors.js';
import { formatIp, parseIp } from '../ipam/index.js';
import type { AssociationFacts } from './commands.js';
import type { FloatingIpAssociation } from './events.js';

/** Ports that exist to serve routers and floating IPs themselves cannot be a floating IP's target. */
const UNASSOCIABLE_OWNERS = ['network:router_gateway', 'network:floatingip'];

function badRequest(message: string, field?: string): DomainError {
  return domainError('BadRequest', `Bad floatingip request: ${message}`, field ? { field: [field] } : {});
}

/** Picks the fixed IP and the router a floating IP on `floatingNetworkId` reaches it through. */
export function resolveAssociation(
  facts: AssociationFacts,
  fip: { id: string; floatingNetworkId: string },
): FloatingIpAssociation | DomainError {
  const { port } = facts;
  if (UNASSOCIABLE_OWNERS.includes(port.deviceOwner)) {
    return badRequest(
      `Port ${port.id} has owner ${port.deviceOwner} and therefore cannot be associated with floating IP ${fip.id}`,
      'portId',
    );
  }
  const v4 = port.fixedIps.flatMap((f) => {
    const ip = parseIp(f.ipAddress);
    return ip?.version === 4 ? [{ subnetId: f.subnetId, ipAddress: formatIp(ip) }] : [];
  });
  let fixed: { subnetId: string; ipAddress: string } | undefined;
  if (facts.fixedIpAddress !== undefined) {
    const wanted = parseIp(facts.fixedIpAddress);
    if (!wanted) return invalidField(['fixedIpAddress'], `'${facts.fixedIpAddress}' is not a valid IP address.`);
    const text = formatIp(wanted);
    if (wanted.version !== 4) return badRequest(`Cannot add floating IP to port ${port.id} using IPv6 fixed IP ${text}`, 'fixedIpAddress');
    fixed = v4.find((f) => f.ipAddress === text);
    if (!fixed) return badRequest(`Port ${port.id} does not have fixed ip ${text}`, 'fixedIpAddress');
  } else {
    if (v4.length === 0) return badRequest(`Cannot add floating IP to port ${port.id} that has no fixed IPv4 addresses`, 'portId');
    if (v4.length > 1) {
      return badRequest(
        `Port ${port.id} has multiple fixed IPv4 addresses. Must provide a specific IPv4 address when assigning a floating IP`,
        'fixedIpAddress',
      );
    }
    fixed = v4[0]!;
  }
  const routerId = facts.routerBySubnet[fixed.subnetId];
  if (routerId === undefined) {
    return domainError(
      'ExternalGatewayForFloatingIPNotFound',
      `External network ${fip.floatingNetworkId} is not reachable from subnet ${fixed.subnetId}. Therefore, cannot associate Port ${port.id} with a Floating IP.`,
      { details: { subnetId: fixed.subnetId, externalNetworkId: fip.floatingNetworkId, portId: port.id } },
    );
  }
  const holder = facts.floatingIpByFixedIp[fixed.ipAddress];
  if (holder !== undefined && holder !== fip.id) {
    return domainError(
      'FloatingIPPortAlreadyAssociated',
      `Cannot associate floating IP ${fip.id} with port ${port.id} using fixed IP ${fixed.ipAddress}, as that fixed IP already has a floating IP on external network ${fip.floatingNetworkId}.`,
      { details: { floatingIpId: holder, portId: port.id, fixedIpAddress: fixed.ipAddress } },
    );
  }
  return { portId: port.id, fixedIpAddress: fixed.ipAddress, routerId };
}
