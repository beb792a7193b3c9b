import { alreadyExists, baseFields, basePatch, liveResource, notFound } from '../common/index.js';
import type { Decision } from '../decider.js';
import { domainError, invalidField, isDomainError, type DomainError } from '../errors.js';
import { formatIp, normaliseIp, parseIp } from '../ipam/index.js';
import { adminOnly } from '../policy/index.js';
import { resolveAssociation } from './association.js';
import type { CreateFloatingIp, DisassociateFloatingIp, FloatingIpCommand, FollowFixedIpChange } from './commands.js';
import type { FloatingIpEvent } from './events.js';
import type { FloatingIp, FloatingIpState } from './state.js';

// Neutron's exception names spell it FloatingIP: FloatingIPNotFound, FloatingIPAlreadyExists.
const KIND = 'FloatingIP';

function sameCreate(c: CreateFloatingIp, base: { name: string; description: string; tags: string[] }, f: FloatingIp): boolean {
  return (
    f.project === c.project &&
    f.floatingNetworkId === c.network.id &&
    f.name === base.name &&
    f.description === base.description &&
    f.tags.length === base.tags.length &&
    f.tags.every((t, i) => t === base.tags[i]) &&
    // The allocation is left out: the application allocates afresh for a retry.
    (c.floatingIpAddress === undefined || normaliseIp(c.floatingIpAddress) === f.floatingIpAddress)
  );
}

function gatewayTaken(c: CreateFloatingIp, address: string): DomainError | null {
  if (!c.gatewayIps.some((g) => normaliseIp(g) === address)) return null;
  return domainError('BadRequest', `Bad floatingip request: ${address} is the gateway address of a subnet of network ${c.network.id}.`, {
    field: ['floatingIpAddress'],
  });
}

function create(c: CreateFloatingIp, s: FloatingIpState): Decision<FloatingIpEvent> {
  // Checked before anything else, so a member learns nothing about which addresses exist or are taken.
  const refused = c.floatingIpAddress !== undefined ? adminOnly(c, 'create_floatingip:floating_ip_address') : null;
  if (refused) return refused;
  const base = baseFields(c);
  if (isDomainError(base)) return base;
  if (s.status === 'live') return sameCreate(c, base, s.resource) ? [] : alreadyExists(KIND, c.id);
  if (s.status === 'deleted') return notFound(KIND, c.id);
  if (!c.network.external) {
    return domainError('BadRequest', `Bad floatingip request: Network ${c.network.id} is not a valid external network.`, {
      field: ['floatingNetworkId'],
    });
  }
  const requested = c.floatingIpAddress === undefined ? undefined : parseIp(c.floatingIpAddress);
  if (requested === null) return invalidField(['floatingIpAddress'], `'${c.floatingIpAddress}' is not a valid IP address.`);
  if (requested?.version === 6) {
    return domainError('InvalidInput', `Invalid input for operation: '${c.floatingIpAddress}' is not a valid IPv4 address.`, {
      field: ['floatingIpAddress'],
    });
  }
  const onGateway = requested ? gatewayTaken(c, formatIp(requested)) : null;
  if (onGateway) return onGateway;
  const { allocation } = c;
  if (allocation.kind === 'exhausted') {
    return domainError('ExternalIpAddressExhausted', `Unable to find any IP address on external network ${c.network.id}.`, {
      details: { networkId: c.network.id },
    });
  }
  const address = normaliseIp(allocation.address);
  if (address === null || (c.floatingIpAddress !== undefined && normaliseIp(c.floatingIpAddress) !== address)) {
    return domainError(
      'InvalidInput',
      `Invalid input for operation: allocated address '${allocation.address}' does not match the request.`,
      { field: ['floatingIpAddress'] },
    );
  }
  const allocatedGateway = gatewayTaken(c, address);
  if (allocatedGateway) return allocatedGateway;
  const association = c.association ? resolveAssociation(c.association, { id: c.id, floatingNetworkId: c.network.id }) : null;
  if (isDomainError(association)) return association;
  return [
    {
      type: 'FloatingIpCreated',
      data: {
        id: c.id,
        project: c.project,
        ...base,
        floatingNetworkId: c.network.id,
        floatingSubnetId: allocation.subnetId,
        floatingIpAddress: address,
        floatingPortId: allocation.portId,
        status: 'DOWN',
        association,
        createdAt: c.now,
      },
    },
  ];
}

function disassociate(c: DisassociateFloatingIp, fip: FloatingIp): Decision<FloatingIpEvent> {
  const current = fip.association;
  if (!current || (c.portId !== undefined && current.portId !== c.portId)) return [];
  return [{ type: 'FloatingIpDisassociated', data: { id: fip.id, ...current, cause: c.cause ?? 'request', updatedAt: c.now } }];
}

function followFixedIpChange(c: FollowFixedIpChange, fip: FloatingIp): Decision<FloatingIpEvent> {
  const current = fip.association;
  if (!current || current.portId !== c.portId) return [];
  const gone = c.released.find((f) => normaliseIp(f.ipAddress) === current.fixedIpAddress);
  if (!gone) return [];
  const successors = c.allocated.filter((f) => f.subnetId === gone.subnetId && parseIp(f.ipAddress)?.version === 4);
  const successor = successors.length === 1 ? normaliseIp(successors[0]!.ipAddress) : null;
  if (successor !== null)
    return [
      {
        type: 'FloatingIpAssociated',
        data: { id: fip.id, portId: c.portId, fixedIpAddress: successor, routerId: current.routerId, updatedAt: c.now },
      },
    ];
  return [{ type: 'FloatingIpDisassociated', data: { id: fip.id, ...current, cause: 'fixedIpRemoved', updatedAt: c.now } }];
}

export function decideFloatingIp(c: FloatingIpCommand, s: FloatingIpState): Decision<FloatingIpEvent> {
  if (c.type === 'CreateFloatingIp') return create(c, s);
  const fip = liveResource(s, KIND, c.id, c.expectedRevision);
  if (isDomainError(fip)) return fip;
  switch (c.type) {
    case 'UpdateFloatingIp': {
      const changes = basePatch(c.changes);
      if (isDomainError(changes)) return changes;
      return [{ type: 'FloatingIpUpdated', data: { id: fip.id, changes, updatedAt: c.now } }];
    }
    case 'AssociateFloatingIp': {
      const association = resolveAssociation(c, fip);
      if (isDomainError(association)) return association;
      return [{ type: 'FloatingIpAssociated', data: { id: fip.id, ...association, updatedAt: c.now } }];
    }
    case 'DisassociateFloatingIp':
      return disassociate(c, fip);
    case 'FollowFixedIpChange':
      return followFixedIpChange(c, fip);
    case 'SetFloatingIpStatus': {
      const reason = c.reason ?? null;
      if (fip.status === c.status && fip.statusReason === reason) return [];
      return [{ type: 'FloatingIpStatusChanged', data: { id: fip.id, status: c.status, reason, updatedAt: c.now } }];
    }
    case 'DeleteFloatingIp': {
      const { id, floatingNetworkId, floatingIpAddress, floatingPortId, association } = fip;
      return [
        { type: 'FloatingIpDeleted', data: { id, floatingNetworkId, floatingIpAddress, floatingPortId, association, deletedAt: c.now } },
      ];
    }
  }
}
