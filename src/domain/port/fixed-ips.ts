import { domainError, invalidField, isDomainError, type DomainError } from '../errors.js';
import { cidrContains, cidrOf, eui64Address, formatIp, isNetworkOrBroadcast, parseIp } from '../ipam/index.js';
import { isAutoAddressSubnet, type SubnetFacts } from '../subnet/index.js';
import type { AddressCandidates, FixedIpRequest } from './commands.js';
import { isRouterPort } from './device-owner.js';
import type { FixedIp } from './events.js';

/**
 * How many fixed IPs one port may hold. Neutron Zed has no such limit (its `max_fixed_ips_per_port`
 * option, default 5, was deprecated in Newton and removed since), so this is only the bound every
 * other list of an input has: it keeps one request's work finite, not a Neutron rule.
 */
export const MAX_FIXED_IPS_PER_PORT = 1000;

export interface AllocationInput {
  readonly networkId: string;
  /** The network's subnets, in creation order. */
  readonly subnets: readonly SubnetFacts[];
  /** Absent: the default allocation. */
  readonly requests: readonly FixedIpRequest[] | undefined;
  readonly deviceOwner: string;
  readonly macAddress: string;
  /** What the port holds now (empty on create). */
  readonly current: readonly FixedIp[];
}

/** One address of the result, before candidates are filled in. */
type Slot =
  | { readonly kind: 'kept'; readonly fixedIp: FixedIp }
  | { readonly kind: 'specific'; readonly fixedIp: FixedIp }
  | { readonly kind: 'auto'; readonly fixedIp: FixedIp }
  /** Any free address from the first of these subnets that has one. */
  | { readonly kind: 'any'; readonly subnets: readonly SubnetFacts[] };

function invalidInput(message: string): DomainError {
  return domainError('InvalidInput', `Invalid input for operation: ${message}`, { field: ['fixedIps'] });
}

function eui64Slot(subnet: SubnetFacts, mac: string): Slot {
  return { kind: 'auto', fixedIp: { subnetId: subnet.id, ipAddress: eui64Address(subnet.cidr, mac) } };
}

/** An exact address request: in the right subnet, not reserved, not on an automatic-address subnet. */
function specificSlot(
  request: FixedIpRequest & { ipAddress: string },
  index: number,
  subnet: SubnetFacts | undefined,
  input: AllocationInput,
): Slot | DomainError {
  const ip = parseIp(request.ipAddress);
  if (!ip) return invalidField(['fixedIps', String(index), 'ipAddress'], `'${request.ipAddress}' is not a valid IP address.`);
  const text = formatIp(ip);
  const target = subnet ?? input.subnets.find((s) => cidrContains(cidrOf(s.cidr), ip));
  if (!target) {
    return domainError('InvalidIpForNetwork', `IP address ${text} is not a valid IP for any of the subnets on the specified network.`, {
      field: ['fixedIps'],
      details: { ipAddress: text, networkId: input.networkId },
    });
  }
  const cidr = cidrOf(target.cidr);
  const anycastForRouter = cidr.version === 6 && ip.value === cidr.network && isRouterPort(input.deviceOwner);
  if (!cidrContains(cidr, ip) || (isNetworkOrBroadcast(cidr, ip) && !anycastForRouter)) {
    return domainError('InvalidIpForSubnet', `IP address ${text} is not a valid IP for the specified subnet.`, {
      field: ['fixedIps'],
      details: { ipAddress: text, subnetId: target.id },
    });
  }
  if (isAutoAddressSubnet(target) && !isRouterPort(input.deviceOwner) && text !== eui64Address(target.cidr, input.macAddress)) {
    return domainError(
      'AllocationOnAutoAddressSubnet',
      `IPv6 address ${text} cannot be directly assigned to a port on subnet ${target.id} as the subnet is configured for automatic addresses.`,
      { field: ['fixedIps'], details: { ipAddress: text, subnetId: target.id } },
    );
  }
  return { kind: 'specific', fixedIp: { subnetId: target.id, ipAddress: text } };
}

/** Section 7.3: one IPv4 address, one DHCPv6-stateful address, EUI-64 on every automatic subnet. */
function defaultSlots(input: AllocationInput): Slot[] {
  const v4 = input.subnets.filter((s) => s.ipVersion === 4);
  const v6Stateful = input.subnets.filter((s) => s.ipVersion === 6 && !isAutoAddressSubnet(s));
  const slots: Slot[] = [];
  if (v4.length > 0) slots.push({ kind: 'any', subnets: v4 });
  if (v6Stateful.length > 0) slots.push({ kind: 'any', subnets: v6Stateful });
  if (!isRouterPort(input.deviceOwner)) {
    for (const s of input.subnets) if (s.ipVersion === 6 && isAutoAddressSubnet(s)) slots.push(eui64Slot(s, input.macAddress));
  }
  return slots;
}

function requestedSlots(requests: readonly FixedIpRequest[], input: AllocationInput): Slot[] | DomainError {
  if (requests.length > MAX_FIXED_IPS_PER_PORT) return invalidInput('Exceeded maximum amount of fixed ips per port.');
  const claimed = new Set<number>();
  const claim = (match: (f: FixedIp) => boolean): FixedIp | undefined => {
    const i = input.current.findIndex((f, k) => !claimed.has(k) && match(f));
    if (i < 0) return undefined;
    claimed.add(i);
    return input.current[i];
  };
  const slots: Slot[] = [];
  for (const [index, request] of requests.entries()) {
    const subnet = request.subnetId === undefined ? undefined : input.subnets.find((s) => s.id === request.subnetId);
    if (request.subnetId !== undefined && !subnet) {
      return invalidInput(
        `Failed to create port on network ${input.networkId}, because fixed_ips included invalid subnet ${request.subnetId}.`,
      );
    }
    if (request.ipAddress !== undefined) {
      const normal = parseIp(request.ipAddress);
      const own = normal && claim((f) => f.ipAddress === formatIp(normal) && (subnet === undefined || f.subnetId === subnet.id));
      if (own) {
        slots.push({ kind: 'kept', fixedIp: own });
        continue;
      }
      const slot = specificSlot({ ...request, ipAddress: request.ipAddress }, index, subnet, input);
      if (isDomainError(slot)) return slot;
      slots.push(slot);
    } else if (subnet) {
      const own = claim((f) => f.subnetId === subnet.id);
      if (own) slots.push({ kind: 'kept', fixedIp: own });
      else if (isAutoAddressSubnet(subnet) && !isRouterPort(input.deviceOwner)) slots.push(eui64Slot(subnet, input.macAddress));
      else slots.push({ kind: 'any', subnets: [subnet] });
    } else {
      return invalidInput('a fixed IP needs a subnetId, an ipAddress, or both.');
    }
  }
  // Neutron keeps automatic (EUI-64) addresses a request does not mention: only removing the subnet drops them.
  input.current.forEach((f, k) => {
    const subnet = input.subnets.find((s) => s.id === f.subnetId);
    if (!claimed.has(k) && subnet && isAutoAddressSubnet(subnet) && !isRouterPort(input.deviceOwner))
      slots.push({ kind: 'kept', fixedIp: f });
  });
  return slots;
}

function plan(input: AllocationInput): Slot[] | DomainError {
  return input.requests === undefined ? defaultSlots(input) : requestedSlots(input.requests, input);
}

/**
 * The subnets for which the application must pick candidate addresses before deciding (see
 * `freeCandidates` / `pickCandidate` in ipam), a subnet once per automatic address the request
 * wants from it (Neutron gives `[{subnet_id: X}, {subnet_id: X}]` two addresses of X). It should
 * leave out of its walk the addresses this same request asks for explicitly. Empty when the
 * request cannot be satisfied anyway.
 */
export function candidateSubnets(input: AllocationInput): string[] {
  const slots = plan(input);
  if (isDomainError(slots)) return [];
  return slots.flatMap((s) => (s.kind === 'any' ? s.subnets.map((x) => x.id) : []));
}

export interface AllocationFactsInput {
  readonly candidates: AddressCandidates;
  readonly taken: readonly string[];
}

export interface AllocationResult {
  readonly fixedIps: FixedIp[];
  readonly allocated: FixedIp[];
  readonly released: FixedIp[];
}

/**
 * The port's addresses after the request: specific addresses first checked against
 * `taken`, then each "any address" slot filled with its subnet's candidate, then duplicates refused.
 */
export function allocateFixedIps(input: AllocationInput, facts: AllocationFactsInput): AllocationResult | DomainError {
  const slots = plan(input);
  if (isDomainError(slots)) return slots;
  const taken = new Set(
    facts.taken.flatMap((t) => {
      const ip = parseIp(t);
      return ip ? [formatIp(ip)] : [];
    }),
  );
  const specific = slots.flatMap((s) => (s.kind === 'specific' || s.kind === 'kept' ? [s.fixedIp.ipAddress] : []));
  for (const s of slots) {
    if (s.kind === 'specific' && taken.has(s.fixedIp.ipAddress)) {
      return domainError(
        'IpAddressAlreadyAllocated',
        `IP address ${s.fixedIp.ipAddress} already allocated in subnet ${s.fixedIp.subnetId}`,
        {
          field: ['fixedIps'],
          details: { ...s.fixedIp },
        },
      );
    }
  }
  const fixedIps: FixedIp[] = [];
  // Addresses already given to an earlier slot of this request, so two slots on one subnet differ.
  const chosenHere = new Set<string>();
  for (const s of slots) {
    if (s.kind !== 'any') {
      fixedIps.push(s.fixedIp);
      continue;
    }
    const chosen = s.subnets
      .map((subnet) => ({
        subnet,
        ip:
          (facts.candidates[subnet.id] ?? [])
            .map((c) => usableCandidate(subnet, c, specific))
            .find((ip) => ip !== null && !chosenHere.has(ip)) ?? null,
      }))
      .find((c) => c.ip !== null);
    if (!chosen || chosen.ip === null) {
      return domainError('IpAddressGenerationFailure', `No more IP addresses available on network ${input.networkId}.`, {
        details: { networkId: input.networkId },
      });
    }
    chosenHere.add(chosen.ip);
    fixedIps.push({ subnetId: chosen.subnet.id, ipAddress: chosen.ip });
  }
  const seen = new Set<string>();
  for (const f of fixedIps) {
    if (seen.has(f.ipAddress)) return invalidInput(`Duplicate IP address '${f.ipAddress}' in fixed_ips.`);
    seen.add(f.ipAddress);
  }
  return diffFixedIps(input.current, fixedIps);
}

/** A port's new address list with what it gains and loses against `before`, as FixedIpsChanged carries it. */
export function diffFixedIps(before: readonly FixedIp[], fixedIps: FixedIp[]): AllocationResult {
  const holds = (list: readonly FixedIp[], f: FixedIp) => list.some((x) => x.ipAddress === f.ipAddress && x.subnetId === f.subnetId);
  return {
    fixedIps,
    allocated: fixedIps.filter((f) => !holds(before, f)),
    released: before.filter((f) => !holds(fixedIps, f)),
  };
}

/**
 * The addresses after the port's MAC changes: each EUI-64 address on an automatic-address subnet
 * is derived again from the new MAC, as Neutron recomputes a port's SLAAC addresses; every other
 * address stays.
 */
export function readdressForMac(
  current: readonly FixedIp[],
  subnets: readonly SubnetFacts[],
  deviceOwner: string,
  oldMac: string,
  newMac: string,
): FixedIp[] {
  if (isRouterPort(deviceOwner)) return [...current];
  return current.map((f) => {
    const subnet = subnets.find((s) => s.id === f.subnetId);
    if (!subnet || !isAutoAddressSubnet(subnet) || f.ipAddress !== eui64Address(subnet.cidr, oldMac)) return f;
    return { subnetId: f.subnetId, ipAddress: eui64Address(subnet.cidr, newMac) };
  });
}

/** A candidate is trusted only if it is a host address of its subnet that this request does not already name. */
function usableCandidate(subnet: SubnetFacts, candidate: string, requested: readonly string[]): string | null {
  const ip = parseIp(candidate);
  if (!ip) return null;
  const cidr = cidrOf(subnet.cidr);
  if (!cidrContains(cidr, ip) || isNetworkOrBroadcast(cidr, ip)) return null;
  const text = formatIp(ip);
  return requested.includes(text) ? null : text;
}
