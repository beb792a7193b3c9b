import { domainError, invalidField, isDomainError, type DomainError } from '../errors.js';
import { addressBits, formatCidr, parseCidr, parseIp, type Cidr } from '../ipam/index.js';
import type { SecurityGroupRuleInput } from './commands.js';
import type { SecurityGroupRule } from './events.js';
import { IP_PROTOCOL_NUMBERS, IPV6_ONLY_PROTOCOLS, PORT_PROTOCOLS, PROTO_ICMP, PROTO_IPV6_ICMP } from './protocols.js';

type Ethertype = SecurityGroupRule['ethertype'];

/** The protocol number a stored protocol stands for; null for "any". */
export function protocolNumber(protocol: string | null): number | null {
  if (protocol === null) return null;
  return IP_PROTOCOL_NUMBERS[protocol] ?? Number(protocol);
}

/** Lower-case name or decimal number; IPv6 ICMP in its canonical spelling. */
function normaliseProtocol(input: SecurityGroupRuleInput['protocol'], ethertype: Ethertype): string | null | DomainError {
  if (input === undefined || input === null) return null;
  const text = String(input).trim().toLowerCase();
  if (text === '' || text === 'any') return null;
  const known = text in IP_PROTOCOL_NUMBERS || (/^\d{1,3}$/.test(text) && Number(text) <= 255);
  if (!known) {
    return domainError(
      'SecurityGroupRuleInvalidProtocol',
      `Security group rule protocol ${String(input)} not supported. Only protocol values [${Object.keys(IP_PROTOCOL_NUMBERS).join(', ')}] and integer representations [0 to 255] are supported.`,
      { field: ['protocol'] },
    );
  }
  const canonical = /^\d+$/.test(text) ? String(Number(text)) : text;
  if (ethertype === 'IPv6') {
    if (canonical === 'icmp' || canonical === 'icmpv6') return 'ipv6-icmp';
    if (canonical === String(PROTO_ICMP)) return String(PROTO_IPV6_ICMP);
  }
  return canonical;
}

function checkPortValue(value: number | null, field: string): DomainError | null {
  if (value !== null && !Number.isInteger(value)) return invalidField([field], `'${value}' is not an integer.`);
  return null;
}

/** Neutron's _validate_port_range, plus the normalisation of 1-65535 to "all ports". */
function normalisePorts(
  protocol: string | null,
  min: number | null,
  max: number | null,
): { min: number | null; max: number | null } | DomainError {
  const notInteger = checkPortValue(min, 'portRangeMin') ?? checkPortValue(max, 'portRangeMax');
  if (notInteger) return notInteger;
  if (min === null && max === null) return { min, max };
  const number = protocolNumber(protocol);
  if (number === null)
    return domainError('SecurityGroupProtocolRequiredWithPorts', 'Must also specify protocol if port range is given.', {
      field: ['protocol'],
    });
  if (PORT_PROTOCOLS.includes(number)) {
    for (const port of [min, max]) {
      if (port !== null && (port < 1 || port > 65535)) {
        return domainError('SecurityGroupInvalidPortValue', `Invalid value for port ${port}`, {
          field: [port === min ? 'portRangeMin' : 'portRangeMax'],
        });
      }
    }
    if (min === null || max === null || min > max) {
      return domainError('SecurityGroupInvalidPortRange', 'For TCP/UDP protocols, port_range_min must be <= port_range_max', {
        field: ['portRangeMin'],
      });
    }
    return min === 1 && max === 65535 ? { min: null, max: null } : { min, max };
  }
  if (number === PROTO_ICMP || number === PROTO_IPV6_ICMP) {
    for (const [value, attr, field] of [
      [min, 'port_range_min', 'type'],
      [max, 'port_range_max', 'code'],
    ] as const) {
      if (value !== null && (value < 0 || value > 255)) {
        return domainError('SecurityGroupInvalidIcmpValue', `Invalid value for ICMP ${field} (${attr}) ${value}. It must be 0 to 255.`, {
          field: [attr === 'port_range_min' ? 'portRangeMin' : 'portRangeMax'],
        });
      }
    }
    if (min === null)
      return domainError(
        'SecurityGroupMissingIcmpType',
        `ICMP code (port-range-max) ${max} is provided but ICMP type (port-range-min) is missing.`,
        { field: ['portRangeMin'] },
      );
    return { min, max };
  }
  return domainError(
    'SecurityGroupInvalidProtocolForPort',
    `Invalid protocol ${protocol} for port range, only supported for TCP, UDP, UDPLITE, SCTP, DCCP and ICMP protocols.`,
    {
      field: ['protocol'],
    },
  );
}

/** A CIDR, /0 included, or a bare address meaning its host prefix (`10.0.0.5` → `10.0.0.5/32`). */
function parsePrefix(text: string): Cidr | null {
  if (!text.includes('/')) {
    const ip = parseIp(text);
    return ip && { version: ip.version, network: ip.value, prefix: addressBits(ip.version) };
  }
  const cidr = parseCidr(text, { allowZeroPrefix: true });
  return isDomainError(cidr) ? null : cidr;
}

/** Validates rule input the way Neutron does and answers the rule as it will be stored. */
export function normaliseRule(input: SecurityGroupRuleInput): SecurityGroupRule | DomainError {
  if (input.direction !== 'ingress' && input.direction !== 'egress')
    return invalidField(['direction'], `'${input.direction}' is not in ['ingress', 'egress'].`);
  const ethertypeText = (input.ethertype ?? 'IPv4').toLowerCase();
  if (ethertypeText !== 'ipv4' && ethertypeText !== 'ipv6')
    return invalidField(['ethertype'], `'${input.ethertype}' is not in ['IPv4', 'IPv6'].`);
  const ethertype: Ethertype = ethertypeText === 'ipv4' ? 'IPv4' : 'IPv6';
  const protocol = normaliseProtocol(input.protocol, ethertype);
  if (isDomainError(protocol)) return protocol;
  const ports = normalisePorts(protocol, input.portRangeMin ?? null, input.portRangeMax ?? null);
  if (isDomainError(ports)) return ports;
  let remoteIpPrefix: string | null = null;
  if (input.remoteIpPrefix !== undefined && input.remoteIpPrefix !== null) {
    const prefix = parsePrefix(input.remoteIpPrefix);
    if (!prefix) return invalidField(['remoteIpPrefix'], `'${input.remoteIpPrefix}' is not a valid IP prefix.`);
    if (`IPv${prefix.version}` !== ethertype) {
      return domainError(
        'SecurityGroupRuleParameterConflict',
        `Conflicting value ethertype ${ethertype} for CIDR ${input.remoteIpPrefix}`,
        { field: ['remoteIpPrefix'] },
      );
    }
    remoteIpPrefix = formatCidr(prefix);
  }
  const number = protocolNumber(protocol);
  if (ethertype === 'IPv4' && number !== null && IPV6_ONLY_PROTOCOLS.includes(number)) {
    return domainError('SecurityGroupEthertypeConflictWithProtocol', `Invalid ethertype ${ethertype} for protocol ${protocol}.`, {
      field: ['ethertype'],
    });
  }
  const remoteGroupId = input.remoteGroupId ?? null;
  if (remoteIpPrefix !== null && remoteGroupId !== null) {
    return domainError('SecurityGroupRemoteGroupAndRemoteIpPrefix', 'Only remote_ip_prefix or remote_group_id may be provided.', {
      field: ['remoteGroupId'],
    });
  }
  return {
    id: input.id,
    direction: input.direction,
    ethertype,
    protocol,
    portRangeMin: ports.min,
    portRangeMax: ports.max,
    remoteIpPrefix,
    remoteGroupId,
    description: input.description ?? '',
  };
}

/** What makes two rules the same rule (Neutron's _rule_to_key): names and numbers, "anywhere" and none match. */
export function ruleKey(rule: SecurityGroupRule): string {
  const anywhere = rule.remoteIpPrefix === '0.0.0.0/0' || rule.remoteIpPrefix === '::/0' ? null : rule.remoteIpPrefix;
  return JSON.stringify([
    rule.direction,
    rule.ethertype,
    protocolNumber(rule.protocol),
    rule.portRangeMin,
    rule.portRangeMax,
    rule.remoteGroupId,
    anywhere,
  ]);
}

/** The rules every new group starts with: egress anywhere, plus ingress from itself for the default group. */
export function initialRules(groupId: string, isDefault: boolean, ruleIds: readonly string[]): readonly SecurityGroupRule[] | DomainError {
  const shapes = (['IPv4', 'IPv6'] as const).flatMap((ethertype) => [
    ...(isDefault ? [{ direction: 'ingress' as const, ethertype, remoteGroupId: groupId }] : []),
    { direction: 'egress' as const, ethertype, remoteGroupId: null },
  ]);
  if (ruleIds.length < shapes.length)
    return domainError(
      'InvalidInput',
      `Invalid input for ruleIds. Reason: ${shapes.length} rule ids are needed, ${ruleIds.length} given.`,
      { field: ['ruleIds'] },
    );
  return shapes.map((s, i) => ({
    id: ruleIds[i]!,
    protocol: null,
    portRangeMin: null,
    portRangeMax: null,
    remoteIpPrefix: null,
    description: '',
    ...s,
  }));
}
