import { domainError, isDomainError, type DomainError } from '../errors.js';
import { addressBits, formatCidr, parseCidr, parseIp } from '../ipam/index.js';
import type { FirewallRuleInput } from './commands.js';
import { FIREWALL_ACTIONS, FIREWALL_PROTOCOLS, type FirewallAction, type FirewallProtocol } from './events.js';
import type { FirewallRule } from './state.js';

type RuleFields = Pick<
  FirewallRule,
  'protocol' | 'ipVersion' | 'sourceIpAddress' | 'destinationIpAddress' | 'sourcePort' | 'destinationPort' | 'action' | 'enabled' | 'shared'
>;

const invalid = (field: string, message: string): DomainError =>
  domainError('InvalidInput', `Invalid input for ${field}. Reason: ${message}.`, { field: [field] });

function protocolOf(input: string | null | undefined): FirewallProtocol | null | DomainError {
  if (input === undefined || input === null) return null;
  const text = input.trim().toLowerCase();
  if (text === '' || text === 'any') return null;
  const known = FIREWALL_PROTOCOLS.find((p) => p === text);
  return known ?? invalid('protocol', `'${input}' is not one of ${FIREWALL_PROTOCOLS.join(', ')} or any`);
}

/** An IP or CIDR, stored as its canonical prefix; its version must be the rule's. */
function addressOf(input: string | null | undefined, field: string, ipVersion: 4 | 6): string | null | DomainError {
  if (input === undefined || input === null || input === '') return null;
  let version: 4 | 6;
  let text: string;
  if (input.includes('/')) {
    const cidr = parseCidr(input, { allowZeroPrefix: true });
    if (isDomainError(cidr)) return invalid(field, `'${input}' is not a valid IP subnet`);
    version = cidr.version;
    text = formatCidr(cidr);
  } else {
    const ip = parseIp(input);
    if (!ip) return invalid(field, `'${input}' is not a valid IP address`);
    version = ip.version;
    text = formatCidr({ version: ip.version, network: ip.value, prefix: addressBits(ip.version) });
  }
  if (version !== ipVersion) {
    return domainError('FirewallIpAddressConflict', 'Invalid input - IP addresses do not agree with IP Version.', { field: [field] });
  }
  return text;
}

/** `N` or `N:M`, 1-65535, min ≤ max; stored as typed, `N:N` as `N`. */
function portOf(input: string | null | undefined, field: string): string | null | DomainError {
  if (input === undefined || input === null || input === '') return null;
  const m = /^(\d{1,5})(?::(\d{1,5}))?$/.exec(input.trim());
  const min = Number(m?.[1]);
  const max = m?.[2] === undefined ? min : Number(m[2]);
  if (!m || min < 1 || max > 65535 || min > max) {
    return domainError('FirewallRuleInvalidPortValue', `Invalid value for port ${input}.`, { field: [field] });
  }
  return min === max ? String(min) : `${min}:${max}`;
}

/** Validates a rule the way neutron-fwaas does and answers it as stored. */
export function normaliseFirewallRule(input: FirewallRuleInput): RuleFields | DomainError {
  const ipVersion = input.ipVersion ?? 4;
  if (ipVersion !== 4 && ipVersion !== 6) return invalid('ip_version', `${ipVersion} is not in [4, 6]`);
  const protocol = protocolOf(input.protocol);
  if (isDomainError(protocol)) return protocol;
  const action = (input.action ?? 'deny').toLowerCase();
  if (!FIREWALL_ACTIONS.some((a) => a === action)) {
    return domainError(
      'FirewallRuleInvalidAction',
      `Action ${input.action} is not supported. Only action values ${FIREWALL_ACTIONS.join(', ')} are supported.`,
      { field: ['action'] },
    );
  }
  const sourceIpAddress = addressOf(input.sourceIpAddress, 'sourceIpAddress', ipVersion);
  if (isDomainError(sourceIpAddress)) return sourceIpAddress;
  const destinationIpAddress = addressOf(input.destinationIpAddress, 'destinationIpAddress', ipVersion);
  if (isDomainError(destinationIpAddress)) return destinationIpAddress;
  const sourcePort = portOf(input.sourcePort, 'sourcePort');
  if (isDomainError(sourcePort)) return sourcePort;
  const destinationPort = portOf(input.destinationPort, 'destinationPort');
  if (isDomainError(destinationPort)) return destinationPort;
  if (sourcePort !== null || destinationPort !== null) {
    if (protocol === null) {
      return domainError('FirewallRuleWithPortWithoutProtocolInvalid', 'Source/destination port requires a protocol.', {
        field: ['protocol'],
      });
    }
    if (protocol === 'icmp' || protocol === 'ipv6-icmp') {
      return domainError('FirewallRuleInvalidICMPParameter', `${protocol.toUpperCase()} does not support source or destination port.`, {
        field: ['protocol'],
      });
    }
  }
  return {
    protocol,
    ipVersion,
    sourceIpAddress,
    destinationIpAddress,
    sourcePort,
    destinationPort,
    action: action as FirewallAction,
    enabled: input.enabled ?? true,
    shared: input.shared ?? false,
  };
}

/** Router interface owners a firewall group may be applied to. */
export const ROUTER_INTERFACE_OWNERS: readonly string[] = [
  'network:router_interface',
  'network:router_interface_distributed',
  'network:ha_router_replicated_interface',
];
