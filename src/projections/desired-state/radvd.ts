import type { RadvdSpec } from './host-state.js';
import { canonicalCidr, compareCidr, compareStrings, normalizeIp } from './ip.js';
import type { TopologySubnet } from './topology.js';

/** RFC 8200's minimum link MTU: a smaller network MTU is not advertised (as Neutron). */
const IPV6_MIN_MTU = 1280;
const MAX_RDNSS = 3;
/** Neutron's min/max_rtr_adv_interval defaults. */
const MIN_RTR_ADV_INTERVAL = 30;
const MAX_RTR_ADV_INTERVAL = 100;
/** The IPv6 metadata address, routed through the router like 169.254.169.254 for IPv4. */
const METADATA_V6 = 'fe80::a9fe:a9fe/128';

export interface RadvdInterface {
  /** The qr- device. */
  readonly name: string;
  readonly mtu: number;
  /** The interface port's IPv6 subnets. */
  readonly subnets: readonly TopologySubnet[];
}

/**
 * Neutron's radvd.conf (reference 2.9, `neutron/agent/linux/ra.py`): one block per router
 * interface with a subnet whose `ipv6_ra_mode` is set. slaac and dhcpv6-stateless prefixes are
 * autonomous, dhcpv6-stateful ones are on-link only with the M flag; stateless sets the O flag.
 * Null when no interface advertises anything.
 */
export function buildRadvd(dir: string, interfaces: readonly RadvdInterface[]): RadvdSpec | null {
  const blocks = [...interfaces]
    .sort((a, b) => compareStrings(a.name, b.name))
    .map(interfaceBlock)
    .filter((b): b is string => b !== null);
  if (blocks.length === 0) return null;
  const configFile = `${dir}/radvd.conf`;
  const pidFile = `${dir}/radvd.pid`;
  return {
    dir,
    configFile,
    pidFile,
    config: blocks.join(''),
    args: ['-C', configFile, '-p', pidFile, '-m', 'logfile', '-l', `${dir}/radvd.log`],
  };
}

function interfaceBlock(i: RadvdInterface): string | null {
  const advertised = i.subnets
    .filter((s) => s.ipVersion === 6 && (s.ipv6RaMode ?? null) !== null)
    .sort((a, b) => compareCidr(canonicalCidr(a.cidr), canonicalCidr(b.cidr)));
  if (advertised.length === 0) return null;
  const modes = new Set(advertised.map((s) => s.ipv6RaMode));
  const dns = [...new Set(advertised.flatMap((s) => s.dnsNameservers.map(normalizeIp)))].slice(0, MAX_RDNSS);
  const lines = [
    `interface ${i.name}`,
    '{',
    '   AdvSendAdvert on;',
    `   MinRtrAdvInterval ${MIN_RTR_ADV_INTERVAL};`,
    `   MaxRtrAdvInterval ${MAX_RTR_ADV_INTERVAL};`,
    ...(i.mtu >= IPV6_MIN_MTU ? [`   AdvLinkMTU ${i.mtu};`] : []),
    ...(modes.has('dhcpv6-stateless') ? ['   AdvOtherConfigFlag on;'] : []),
    ...(modes.has('dhcpv6-stateful') ? ['   AdvManagedFlag on;'] : []),
    ...(dns.length > 0 ? [`   RDNSS ${dns.join(' ')} {};`] : []),
    ...advertised.flatMap((s) => [
      `   prefix ${canonicalCidr(s.cidr)}`,
      '   {',
      '        AdvOnLink on;',
      `        AdvAutonomous ${s.ipv6RaMode === 'dhcpv6-stateful' ? 'off' : 'on'};`,
      '   };',
    ]),
    `   route ${METADATA_V6} {`,
    '   };',
    '};',
  ];
  return lines.map((l) => `${l}\n`).join('');
}
