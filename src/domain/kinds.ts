import type { NotFoundKind } from './errors.js';
import type { QuotaResource } from './project/events.js';

/** What every layer needs to know of one resource kind. */
export interface KindFacts {
  /** The stream type (stream id prefix) of the aggregate that holds resources of this kind. */
  readonly streamType: string;
  /** Neutron's (and Octavia's) spelling, as in `<Name>NotFound` (so it must be one) and the GraphQL answer types. */
  readonly neutronName: NotFoundKind;
  /** The project quota a resource of this kind counts against, if any. */
  readonly quota: QuotaResource | null;
  /** Rows carry `shared`/`external` facts that widen who may see them (the policy's shared rules). */
  readonly sharable: boolean;
  /** The dataplane reports a status for it (streamed on `statusChanged`). */
  readonly hasStatus: boolean;
}

/**
 * Every resource kind the read model, the policy, the API and the subscriptions know, named as the
 * read model names them (`rm_resources.kind`). The one table: the lists each layer needs (quota
 * kinds, stream types, not-found names, status kinds, sharable kinds) are derived from it, so a new
 * kind is one line here plus its aggregate.
 */
export const RESOURCE_KINDS = {
  network: { streamType: 'network', neutronName: 'Network', quota: 'network', sharable: true, hasStatus: false },
  subnet: { streamType: 'subnet', neutronName: 'Subnet', quota: 'subnet', sharable: true, hasStatus: false },
  port: { streamType: 'port', neutronName: 'Port', quota: 'port', sharable: false, hasStatus: true },
  router: { streamType: 'router', neutronName: 'Router', quota: 'router', sharable: false, hasStatus: true },
  floatingip: { streamType: 'floatingip', neutronName: 'FloatingIP', quota: 'floatingip', sharable: false, hasStatus: true },
  security_group: { streamType: 'securitygroup', neutronName: 'SecurityGroup', quota: 'security_group', sharable: false, hasStatus: false },
  security_group_rule: {
    streamType: 'securitygroup',
    neutronName: 'SecurityGroupRule',
    quota: 'security_group_rule',
    sharable: false,
    hasStatus: false,
  },
  loadbalancer: { streamType: 'loadbalancer', neutronName: 'LoadBalancer', quota: 'loadbalancer', sharable: false, hasStatus: true },
  listener: { streamType: 'loadbalancer', neutronName: 'Listener', quota: null, sharable: false, hasStatus: true },
  pool: { streamType: 'loadbalancer', neutronName: 'Pool', quota: null, sharable: false, hasStatus: true },
  member: { streamType: 'loadbalancer', neutronName: 'Member', quota: null, sharable: false, hasStatus: true },
  healthmonitor: { streamType: 'loadbalancer', neutronName: 'HealthMonitor', quota: null, sharable: false, hasStatus: true },
  firewall_rule: { streamType: 'firewallrule', neutronName: 'FirewallRule', quota: 'firewall_rule', sharable: true, hasStatus: false },
  firewall_policy: {
    streamType: 'firewallpolicy',
    neutronName: 'FirewallPolicy',
    quota: 'firewall_policy',
    sharable: true,
    hasStatus: false,
  },
  firewall_group: { streamType: 'firewallgroup', neutronName: 'FirewallGroup', quota: 'firewall_group', sharable: false, hasStatus: true },
  ikepolicy: { streamType: 'ikepolicy', neutronName: 'IKEPolicy', quota: null, sharable: false, hasStatus: false },
  ipsecpolicy: { streamType: 'ipsecpolicy', neutronName: 'IPsecPolicy', quota: null, sharable: false, hasStatus: false },
  endpoint_group: { streamType: 'endpointgroup', neutronName: 'VPNEndpointGroup', quota: null, sharable: false, hasStatus: false },
  vpnservice: { streamType: 'vpnservice', neutronName: 'VPNService', quota: null, sharable: false, hasStatus: false },
  ipsec_site_connection: {
    streamType: 'ipsecsiteconnection',
    neutronName: 'IPsecSiteConnection',
    quota: null,
    sharable: false,
    hasStatus: true,
  },
} as const satisfies Readonly<Record<string, KindFacts>>;

export type ResourceKind = keyof typeof RESOURCE_KINDS;

export const ALL_KINDS = Object.keys(RESOURCE_KINDS) as ResourceKind[];

export function isResourceKind(kind: string): kind is ResourceKind {
  return Object.hasOwn(RESOURCE_KINDS, kind);
}

export function kindFacts(kind: ResourceKind): KindFacts {
  return RESOURCE_KINDS[kind];
}

/** The kinds held by streams of this type, in table order (the aggregate's own kind first). */
export function kindsOfStreamType(streamType: string): ResourceKind[] {
  return ALL_KINDS.filter((k) => RESOURCE_KINDS[k].streamType === streamType);
}
