import type { EventDefinition } from '../../domain/event-definition.js';
import { networkDecider, networkEvents } from '../../domain/network/index.js';
import { portDecider, portEvents } from '../../domain/port/index.js';
import { subnetDecider, subnetEvents } from '../../domain/subnet/index.js';
import { RESOURCE_KINDS } from '../../domain/kinds.js';
import type { AggregateKind } from '../aggregate-kind.js';
import { lifecycleKind } from './lifecycle-kind.js';
import { floatingIpDecider, floatingIpEvents } from '../../domain/floating-ip/index.js';
import { routerDecider, routerEvents } from '../../domain/router/index.js';
import {
  securityGroupDecider,
  securityGroupEvents,
  type SecurityGroupEvent,
  type SecurityGroupState,
} from '../../domain/security-group/index.js';
import { defineKind, type ResourceRow } from '../aggregate-kind.js';
import { loadBalancerEvents } from '../../domain/loadbalancer/index.js';
import { loadBalancerKind } from './loadbalancer-kind.js';
import {
  firewallEvents,
  firewallGroupDecider,
  firewallGroupEvents,
  firewallPolicyDecider,
  firewallPolicyEvents,
  firewallRuleDecider,
  firewallRuleEvents,
} from '../../domain/firewall/index.js';
import {
  endpointGroupDecider,
  endpointGroupEvents,
  ikePolicyDecider,
  ikePolicyEvents,
  ipsecPolicyDecider,
  ipsecPolicyEvents,
  ipsecSiteConnectionDecider,
  ipsecSiteConnectionEvents,
  vpnEvents,
  vpnServiceDecider,
  vpnServiceEvents,
} from '../../domain/vpn/index.js';

const securityGroupRows = lifecycleKind({ kind: 'security_group', events: securityGroupEvents, decider: securityGroupDecider });

/**
 * A security group and each of its rules as rows of their own kind, so rules count against the
 * security_group_rule quota and can be listed and found by id. A rule keeps the createdAt of its
 * first row (the upsert leaves created_at alone).
 */
const securityGroupKind = defineKind<SecurityGroupState, SecurityGroupEvent>({
  streamType: RESOURCE_KINDS.security_group.streamType,
  eventTypes: securityGroupEvents.map((d) => d.type),
  initialState: securityGroupDecider.initialState,
  evolve: (s, e) => securityGroupDecider.evolve(s, e),
  resources: (s, version) => [
    ...securityGroupRows.resources(s, version),
    ...(s.status !== 'live'
      ? []
      : s.resource.rules.map((r): ResourceRow => ({
          id: r.id,
          kind: 'security_group_rule',
          project: s.resource.project,
          name: '',
          tags: [],
          networkId: null,
          revision: s.revision,
          createdAt: s.resource.updatedAt,
          updatedAt: s.resource.updatedAt,
          doc: { ...r, securityGroupId: s.resource.id },
        }))),
  ],
});

const routingKinds: readonly AggregateKind[] = [
  lifecycleKind({ kind: 'router', events: routerEvents, decider: routerDecider }),
  lifecycleKind({ kind: 'floatingip', events: floatingIpEvents, decider: floatingIpDecider, networkId: (f) => f.floatingNetworkId }),
  securityGroupKind,
];
const routingEvents: readonly EventDefinition[] = [...routerEvents, ...floatingIpEvents, ...securityGroupEvents];

/** Every aggregate type the read model folds. */
export const resourceKinds: readonly AggregateKind[] = [
  lifecycleKind({ kind: 'network', events: networkEvents, decider: networkDecider, networkId: (n) => n.id }),
  lifecycleKind({ kind: 'subnet', events: subnetEvents, decider: subnetDecider, networkId: (s) => s.networkId }),
  lifecycleKind({ kind: 'port', events: portEvents, decider: portDecider, networkId: (p) => p.networkId }),
  loadBalancerKind,
  ...routingKinds,
  lifecycleKind({ kind: 'firewall_rule', events: firewallRuleEvents, decider: firewallRuleDecider }),
  lifecycleKind({ kind: 'firewall_policy', events: firewallPolicyEvents, decider: firewallPolicyDecider }),
  lifecycleKind({ kind: 'firewall_group', events: firewallGroupEvents, decider: firewallGroupDecider }),
  lifecycleKind({ kind: 'ikepolicy', events: ikePolicyEvents, decider: ikePolicyDecider }),
  lifecycleKind({ kind: 'ipsecpolicy', events: ipsecPolicyEvents, decider: ipsecPolicyDecider }),
  lifecycleKind({ kind: 'endpoint_group', events: endpointGroupEvents, decider: endpointGroupDecider }),
  lifecycleKind({ kind: 'vpnservice', events: vpnServiceEvents, decider: vpnServiceDecider }),
  lifecycleKind({ kind: 'ipsec_site_connection', events: ipsecSiteConnectionEvents, decider: ipsecSiteConnectionDecider }),
];

export const resourceEvents: readonly EventDefinition[] = [
  ...networkEvents,
  ...subnetEvents,
  ...portEvents,
  ...loadBalancerEvents,
  ...routingEvents,
  ...firewallEvents,
  ...vpnEvents,
];
