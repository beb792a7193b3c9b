import { z } from 'zod';
import {
  createFirewallGroup, createFirewallPolicy, createFirewallRule, deleteFirewallGroup, deleteFirewallPolicy, deleteFirewallRule, ensureDefaultFirewallGroup,
  insertFirewallRule, removeFirewallRule, updateFirewallGroup, updateFirewallPolicy, updateFirewallRule,
} from '../../app/firewall/firewalls.js';
import type { FirewallGroup, FirewallPolicy, FirewallRule } from '../../domain/firewall/index.js';
import { commandMetadata, type Context } from '../context.js';
import { answerDeleted, answerResource, DeletedRef } from './answer.js';
import { builder } from './builder.js';
import { FirewallAction, FirewallGroupStatus } from './enums.js';
import { baseSchema, changesOf, clean, idArg, revisionSchema, undefIfNull, clientId } from './input.js';
import { defineMutation } from './mutation.js';
import { resourceNode, resourceRef } from './resource-node.js';
import { listResources, parseId, resourceLoader, ResourceFilter, type ResourceRecord, withTotalCount } from './resources.js';

export const FirewallRuleRef = resourceRef<FirewallRule>('FirewallRule');
export const FirewallPolicyRef = resourceRef<FirewallPolicy>('FirewallPolicy');
export const FirewallGroupRef = resourceRef<FirewallGroup>('FirewallGroup');

resourceNode(FirewallRuleRef, 'firewall_rule', 'An FWaaS v2 rule: what it matches and what it does (allow, deny, reject).', (t) => ({
  protocol: t.string({ nullable: true, description: 'tcp, udp, icmp, ipv6-icmp, sctp, dccp; null: any.', resolve: (r) => r.doc.protocol }),
  ipVersion: t.int({ description: '4 or 6.', resolve: (r) => r.doc.ipVersion }),
  sourceIpAddress: t.string({ description: 'Matches this source address or CIDR; null: any.', nullable: true, resolve: (r) => r.doc.sourceIpAddress }),
  destinationIpAddress: t.string({ description: 'Matches this destination address or CIDR; null: any.', nullable: true, resolve: (r) => r.doc.destinationIpAddress }),
  sourcePort: t.string({ nullable: true, description: '`N` or `N:M`.', resolve: (r) => r.doc.sourcePort }),
  destinationPort: t.string({ nullable: true, description: '`N` or `N:M`.', resolve: (r) => r.doc.destinationPort }),
  action: t.field({ description: 'What it does with matching traffic.', type: FirewallAction, resolve: (r) => r.doc.action }),
  enabled: t.boolean({ description: 'false: the rule is skipped.', resolve: (r) => r.doc.enabled }),
  shared: t.boolean({ description: "Usable in other projects' policies.", resolve: (r) => r.doc.shared }),
}));

resourceNode(FirewallPolicyRef, 'firewall_policy', 'An ordered list of firewall rules: the first that matches decides; nothing matching is denied.', (t) => ({
  firewallRuleIds: t.stringList({ description: 'Its rules, in order: the first that matches decides.', resolve: (r) => [...r.doc.firewallRules] }),
  firewallRules: t.field({
    type: [FirewallRuleRef],
    description: 'In evaluation order.',
    resolve: async (r, _a, ctx) => (await resourceLoader<FirewallRule>(ctx, 'firewall_rule').loadMany([...r.doc.firewallRules])).filter((x): x is ResourceRecord<FirewallRule> => !!x && !(x instanceof Error)),
  }),
  audited: t.boolean({ description: 'Set by an auditor; cleared by any change.', resolve: (r) => r.doc.audited }),
  shared: t.boolean({ description: "Usable in other projects' groups.", resolve: (r) => r.doc.shared }),
}));

const policyField = (ctx: Context, id: string | null) => (id === null ? null : resourceLoader<FirewallPolicy>(ctx, 'firewall_policy').load(id));

resourceNode(FirewallGroupRef, 'firewall_group', 'Ingress and egress policies applied to router interface ports. Each project has a `default` group (ingress deny, egress allow).', (t) => ({
  ingressFirewallPolicyId: t.string({ description: 'The policy for traffic into the ports; null: none.', nullable: true, resolve: (r) => r.doc.ingressFirewallPolicyId }),
  egressFirewallPolicyId: t.string({ description: 'The policy for traffic out of the ports; null: none.', nullable: true, resolve: (r) => r.doc.egressFirewallPolicyId }),
  ingressFirewallPolicy: t.field({ description: 'The policy for traffic into the ports.', type: FirewallPolicyRef, nullable: true, resolve: (r, _a, ctx) => policyField(ctx, r.doc.ingressFirewallPolicyId) }),
  egressFirewallPolicy: t.field({ description: 'The policy for traffic out of the ports.', type: FirewallPolicyRef, nullable: true, resolve: (r, _a, ctx) => policyField(ctx, r.doc.egressFirewallPolicyId) }),
  portIds: t.stringList({ description: 'The router interface ports it applies to.', resolve: (r) => [...r.doc.ports] }),
  adminStateUp: t.boolean({ description: 'false: the group is not applied.', resolve: (r) => r.doc.adminStateUp }),
  shared: t.boolean({ description: 'Visible to every project.', resolve: (r) => r.doc.shared }),
  isDefault: t.boolean({ description: "The project's `default` group.", resolve: (r) => r.doc.isDefault }),
  status: t.field({ description: 'INACTIVE (no ports), PENDING_CREATE or PENDING_UPDATE (until the agent hosting its routers has applied it), ACTIVE (applied), DOWN (admin down), ERROR (applying failed).', type: FirewallGroupStatus, resolve: (r) => r.doc.status }),
}));

async function withDefaultGroup(ctx: Context): Promise<void> {
  const out = await ensureDefaultFirewallGroup(ctx.services, ctx.caller, commandMetadata(ctx));
  if (!out.ok) ctx.log.warn({ error: out.error }, 'could not create the default firewall group');
}

builder.queryFields((t) => ({
  firewallRules: t.connection({
    description: "The firewall rules the caller may see (its own and shared ones), paginated.",
    type: FirewallRuleRef,
    args: { filter: t.arg({ type: ResourceFilter, required: false, description: 'Only the resources that match all of its fields.' }) },
    resolve: (_r, args, ctx) => listResources<FirewallRule>(ctx, 'firewall_rule', args),
  }, withTotalCount),
  firewallPolicies: t.connection({
    description: 'The firewall policies the caller may see (its own and shared ones), paginated.',
    type: FirewallPolicyRef,
    args: { filter: t.arg({ type: ResourceFilter, required: false, description: 'Only the resources that match all of its fields.' }) },
    resolve: (_r, args, ctx) => listResources<FirewallPolicy>(ctx, 'firewall_policy', args),
  }, withTotalCount),
  firewallGroups: t.connection({
    description: "The firewall groups the caller may see, paginated; the project's default group is created on first look.",
    type: FirewallGroupRef,
    args: { filter: t.arg({ type: ResourceFilter, required: false, description: 'Only the resources that match all of its fields.' }) },
    resolve: async (_r, args, ctx) => {
      await withDefaultGroup(ctx);
      return listResources<FirewallGroup>(ctx, 'firewall_group', args);
    },
  }, withTotalCount),
}));

// ---- rules ----

const ruleSchema = {
  protocol: z.string().nullish().describe('tcp, udp, icmp, ipv6-icmp, sctp, dccp, or any/null.'),
  ipVersion: z.number().int().nullish().describe('4 (default) or 6.'),
  sourceIpAddress: z.string().nullish().describe('Matches this source address or CIDR, of ipVersion; null: any.'), destinationIpAddress: z.string().nullish().describe('Matches this destination address or CIDR, of ipVersion; null: any.'),
  sourcePort: z.string().nullish().describe('`N` or `N:M`.'), destinationPort: z.string().nullish().describe('`N` or `N:M`.'),
  action: z.string().nullish().describe('allow | deny (default) | reject'), enabled: z.boolean().nullish(), shared: z.boolean().nullish(),
};
/** An explicit null clears an address or port; absent leaves it. */
const ruleChanges = (input: Record<string, unknown>) => {
  const { id: _id, expectedRevision: _r, ...rest } = input;
  return Object.fromEntries(Object.entries(rest).filter(([k, v]) => v !== undefined && (v !== null || /Address$|Port$|^protocol$/.test(k))));
};

defineMutation('createFirewallRule', {
  description: 'Creates a firewall rule (action deny unless told otherwise).',
  schema: z.object({ ...baseSchema, id: clientId.nullish(), ...ruleSchema }),
  field: 'firewallRule',
  type: FirewallRuleRef,
  run: async (input, ctx) => answerResource(ctx, 'firewall_rule', 'FirewallRule', await createFirewallRule(ctx.services, ctx.caller, clean(input), commandMetadata(ctx))),
});

defineMutation('updateFirewallRule', {
  description: 'Changes a firewall rule; the whole rule is validated again.',
  schema: z.object({ id: idArg, ...revisionSchema, ...baseSchema, ...ruleSchema }),
  field: 'firewallRule',
  type: FirewallRuleRef,
  run: async (input, ctx) => answerResource(ctx, 'firewall_rule', 'FirewallRule',
    await updateFirewallRule(ctx.services, ctx.caller, parseId(input.id, 'FirewallRule'), ruleChanges(input), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});

defineMutation('deleteFirewallRule', {
  description: 'Deletes a firewall rule; FirewallRuleInUse while a policy lists it.',
  schema: z.object({ id: idArg, ...revisionSchema }),
  field: 'deleted',
  type: DeletedRef,
  run: async (input, ctx) => answerDeleted(await deleteFirewallRule(ctx.services, ctx.caller, parseId(input.id, 'FirewallRule'), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});

// ---- policies ----

const ruleIds = (ids: readonly string[] | null | undefined) => (ids ? ids.map((i) => parseId(i, 'FirewallRule')) : undefined);

defineMutation('createFirewallPolicy', {
  description: 'Creates a firewall policy from an ordered list of rules.',
  schema: z.object({ ...baseSchema, id: clientId.nullish(), firewallRules: z.array(z.string()).max(1000).nullish().describe('Its rules (uuids or global ids), in evaluation order: the first that matches decides. Default none.'), audited: z.boolean().nullish().describe('Marks it audited. Default false.'), shared: z.boolean().nullish() }),
  field: 'firewallPolicy',
  type: FirewallPolicyRef,
  run: async (input, ctx) => answerResource(ctx, 'firewall_policy', 'FirewallPolicy',
    await createFirewallPolicy(ctx.services, ctx.caller, { ...(clean(input) as object), firewallRules: ruleIds(input.firewallRules) }, commandMetadata(ctx))),
});

defineMutation('updateFirewallPolicy', {
  description: 'Changes a firewall policy; a new rule list replaces the old one. Any change un-audits it unless `audited` is sent.',
  schema: z.object({ id: idArg, ...revisionSchema, ...baseSchema, firewallRules: z.array(z.string()).max(1000).nullish().describe('Its rules (uuids or global ids), in evaluation order; replaces the list; null leaves it.'), audited: z.boolean().nullish().describe('Marks it audited; omitted, any change clears it.'), shared: z.boolean().nullish() }),
  field: 'firewallPolicy',
  type: FirewallPolicyRef,
  run: async (input, ctx) => answerResource(ctx, 'firewall_policy', 'FirewallPolicy',
    await updateFirewallPolicy(ctx.services, ctx.caller, parseId(input.id, 'FirewallPolicy'), { ...changesOf(input), firewallRules: ruleIds(input.firewallRules) }, undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});

defineMutation('insertFirewallRule', {
  description: 'Inserts a rule into a policy before or after a listed rule (at the top when neither is given).',
  schema: z.object({ id: idArg, firewallRuleId: idArg.describe('The rule to insert (uuid or global id); not yet in the policy.'), insertBefore: z.string().nullish().describe('Insert just before this rule of the policy (uuid or global id).'), insertAfter: z.string().nullish().describe('Insert just after this rule of the policy (uuid or global id); used when insertBefore is not given.') }),
  field: 'firewallPolicy',
  type: FirewallPolicyRef,
  run: async (input, ctx) => answerResource(ctx, 'firewall_policy', 'FirewallPolicy',
    await insertFirewallRule(ctx.services, ctx.caller, parseId(input.id, 'FirewallPolicy'), {
      ruleId: parseId(input.firewallRuleId, 'FirewallRule'),
      insertBefore: input.insertBefore ? parseId(input.insertBefore, 'FirewallRule') : null,
      insertAfter: input.insertAfter ? parseId(input.insertAfter, 'FirewallRule') : null,
    }, commandMetadata(ctx))),
});

defineMutation('removeFirewallRule', {
  description: 'Removes a rule from a policy (the rule itself stays).',
  schema: z.object({ id: idArg, firewallRuleId: idArg.describe('The rule to remove from the policy (uuid or global id).') }),
  field: 'firewallPolicy',
  type: FirewallPolicyRef,
  run: async (input, ctx) => answerResource(ctx, 'firewall_policy', 'FirewallPolicy',
    await removeFirewallRule(ctx.services, ctx.caller, parseId(input.id, 'FirewallPolicy'), parseId(input.firewallRuleId, 'FirewallRule'), commandMetadata(ctx))),
});

defineMutation('deleteFirewallPolicy', {
  description: 'Deletes a firewall policy; FirewallPolicyInUse while a group uses it.',
  schema: z.object({ id: idArg, ...revisionSchema }),
  field: 'deleted',
  type: DeletedRef,
  run: async (input, ctx) => answerDeleted(await deleteFirewallPolicy(ctx.services, ctx.caller, parseId(input.id, 'FirewallPolicy'), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});

// ---- groups ----

const groupSchema = {
  ingressFirewallPolicyId: z.string().nullish().describe('The policy for traffic into the ports (uuid or global id); null: none.'), egressFirewallPolicyId: z.string().nullish().describe('The policy for traffic out of the ports (uuid or global id); null: none.'), portIds: z.array(z.string()).max(100).nullish().describe('Router interface ports.'),
  adminStateUp: z.boolean().nullish(), shared: z.boolean().nullish(),
};
/** Policy ids: an explicit null detaches the policy; absent leaves it. */
function groupChanges(input: z.infer<z.ZodObject<typeof groupSchema>> & { name?: string | null; description?: string | null; tags?: string[] | null }) {
  const policy = (v: string | null | undefined) => (v === undefined ? undefined : v === null ? null : parseId(v, 'FirewallPolicy'));
  return {
    ...clean({ name: input.name, description: input.description, tags: input.tags, adminStateUp: input.adminStateUp, shared: input.shared }),
    ...(input.ingressFirewallPolicyId !== undefined ? { ingressFirewallPolicyId: policy(input.ingressFirewallPolicyId) } : {}),
    ...(input.egressFirewallPolicyId !== undefined ? { egressFirewallPolicyId: policy(input.egressFirewallPolicyId) } : {}),
    ...(input.portIds ? { ports: input.portIds.map((p) => parseId(p, 'Port')) } : {}),
  };
}

defineMutation('createFirewallGroup', {
  description: 'Creates a firewall group; with ports it is applied to those router interfaces at once.',
  schema: z.object({ ...baseSchema, id: clientId.nullish(), ...groupSchema }),
  field: 'firewallGroup',
  type: FirewallGroupRef,
  run: async (input, ctx) => answerResource(ctx, 'firewall_group', 'FirewallGroup',
    await createFirewallGroup(ctx.services, ctx.caller, { ...(input.id ? { id: input.id } : {}), ...groupChanges(input) }, commandMetadata(ctx))),
});

defineMutation('updateFirewallGroup', {
  description: 'Changes a firewall group: policies, ports (a new list replaces the old one), admin state.',
  schema: z.object({ id: idArg, ...revisionSchema, ...baseSchema, ...groupSchema }),
  field: 'firewallGroup',
  type: FirewallGroupRef,
  run: async (input, ctx) => answerResource(ctx, 'firewall_group', 'FirewallGroup',
    await updateFirewallGroup(ctx.services, ctx.caller, parseId(input.id, 'FirewallGroup'), groupChanges(input), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});

defineMutation('deleteFirewallGroup', {
  description: 'Deletes a firewall group; FirewallGroupInUse while it has ports. Only an admin may delete a default group.',
  schema: z.object({ id: idArg, ...revisionSchema }),
  field: 'deleted',
  type: DeletedRef,
  run: async (input, ctx) => answerDeleted(await deleteFirewallGroup(ctx.services, ctx.caller, parseId(input.id, 'FirewallGroup'), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});
