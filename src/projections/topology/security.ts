import type { FirewallGroup, FirewallPolicy, FirewallRule } from '../../domain/firewall/index.js';
import type { SecurityGroup } from '../../domain/security-group/index.js';
import type { TopologyFirewallGroup, TopologyFirewallRule, TopologySecurityGroup } from '../desired-state/index.js';
import { docsOf, type TopologyFragment, type TopologySource } from './source.js';

/**
 * Security groups (with their rules) and FWaaS groups (with their policies' enabled rules in
 * order) for the dataplane. The ports' own fields (portSecurityEnabled, securityGroups,
 * allowedAddressPairs) come with the core part.
 */

export function securityGroupToTopology(g: SecurityGroup): TopologySecurityGroup {
  return {
    id: g.id,
    stateful: g.stateful,
    rules: g.rules.map((r) => ({
      id: r.id,
      direction: r.direction,
      ethertype: r.ethertype,
      protocol: r.protocol,
      portRangeMin: r.portRangeMin,
      portRangeMax: r.portRangeMax,
      remoteIpPrefix: r.remoteIpPrefix,
      remoteGroupId: r.remoteGroupId,
    })),
  };
}

function firewallRuleToTopology(r: FirewallRule): TopologyFirewallRule {
  return {
    id: r.id,
    protocol: r.protocol,
    ipVersion: r.ipVersion,
    sourceIpAddress: r.sourceIpAddress,
    destinationIpAddress: r.destinationIpAddress,
    sourcePort: r.sourcePort,
    destinationPort: r.destinationPort,
    action: r.action,
  };
}

/** A policy's enabled rules in order; null for no policy (or one that is gone). */
function policyRules(
  id: string | null,
  policies: ReadonlyMap<string, FirewallPolicy>,
  rules: ReadonlyMap<string, FirewallRule>,
): TopologyFirewallRule[] | null {
  const policy = id === null ? undefined : policies.get(id);
  if (!policy) return null;
  return policy.firewallRules.flatMap((rid) => {
    const r = rules.get(rid);
    return r && r.enabled ? [firewallRuleToTopology(r)] : [];
  });
}

export function firewallGroupsToTopology(
  groups: readonly FirewallGroup[],
  policies: readonly FirewallPolicy[],
  rules: readonly FirewallRule[],
): TopologyFirewallGroup[] {
  const p = new Map(policies.map((x) => [x.id, x]));
  const r = new Map(rules.map((x) => [x.id, x]));
  return groups.map((g) => ({
    id: g.id,
    adminStateUp: g.adminStateUp,
    portIds: [...g.ports],
    ingressRules: policyRules(g.ingressFirewallPolicyId, p, r),
    egressRules: policyRules(g.egressFirewallPolicyId, p, r),
  }));
}

export async function securityTopologyPart(source: TopologySource): Promise<TopologyFragment> {
  return {
    securityGroups: (await docsOf<SecurityGroup>(source, 'security_group')).map(securityGroupToTopology),
    firewallGroups: firewallGroupsToTopology(
      await docsOf<FirewallGroup>(source, 'firewall_group'),
      await docsOf<FirewallPolicy>(source, 'firewall_policy'),
      await docsOf<FirewallRule>(source, 'firewall_rule'),
    ),
  };
}
