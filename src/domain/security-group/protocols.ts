/** Neutron's IP_PROTOCOL_MAP (neutron-lib constants), `icmpv6` being its legacy alias. */
export const IP_PROTOCOL_NUMBERS: Readonly<Record<string, number>> = {
  ah: 51,
  dccp: 33,
  egp: 8,
  esp: 50,
  gre: 47,
  hopopt: 0,
  icmp: 1,
  igmp: 2,
  ip: 0,
  ipip: 4,
  'ipv6-encap': 41,
  'ipv6-frag': 44,
  'ipv6-icmp': 58,
  icmpv6: 58,
  'ipv6-nonxt': 59,
  'ipv6-opts': 60,
  'ipv6-route': 43,
  ospf: 89,
  pgm: 113,
  rsvp: 46,
  sctp: 132,
  tcp: 6,
  udp: 17,
  udplite: 136,
  vrrp: 112,
};

export const PROTO_ICMP = 1;
export const PROTO_IPV6_ICMP = 58;
/** Protocols whose rules may carry a port range. */
export const PORT_PROTOCOLS: readonly number[] = [6, 17, 132, 136, 33];
/** Protocols that only exist over IPv6. */
export const IPV6_ONLY_PROTOCOLS: readonly number[] = [41, 44, 58, 59, 60, 43];
