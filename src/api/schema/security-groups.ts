import { z } from 'zod';
import {
  createSecurityGroup, createSecurityGroupRule, deleteSecurityGroup, deleteSecurityGroupRule, ensureDefaultSecurityGroup, updateSecurityGroup,
} from '../../app/security/security-groups.js';
import type { SecurityGroup, SecurityGroupRule } from '../../domain/security-group/index.js';
import { commandMetadata, type Context } from '../context.js';
import { answerDeleted, answerResource, DeletedRef } from './answer.js';
import { builder } from './builder.js';
import { Ethertype, RuleDirection } from './enums.js';
import { baseSchema, changesOf, clean, idArg, revisionSchema, undefIfNull, clientId } from './input.js';
import { defineMutation } from './mutation.js';
import { resourceNode, resourceRef } from './resource-node.js';
import { listResources, parseId, resourceLoader, ResourceFilter, type ResourceRecord, withTotalCount } from './resources.js';

type RuleDoc = SecurityGroupRule & { readonly securityGroupId: string };

export const SecurityGroupRef = resourceRef<SecurityGroup>('SecurityGroup');
export const SecurityGroupRuleRef = resourceRef<RuleDoc>('SecurityGroupRule');

/** A group's rules from the group's own row: the same documents the rule rows hold. */
const rulesOf = (g: ResourceRecord<SecurityGroup>): ResourceRecord<RuleDoc>[] =>
  g.doc.rules.map((r) => ({ id: r.id, kind: 'security_group_rule', project: g.project, revision: g.revision, createdAt: g.createdAt, updatedAt: g.updatedAt, doc: { ...r, securityGroupId: g.id } }));

resourceNode(SecurityGroupRef, 'security_group', 'A set of allow rules applied to ports. Each project has a `default` group, created on its first request.', (t) => ({
  stateful: t.boolean({ description: 'false: its rules do not track connections, so replies need rules of their own.', resolve: (r) => r.doc.stateful }),
  isDefault: t.boolean({ description: "The project's `default` group, which new ports get.", resolve: (r) => r.doc.isDefault }),
  rules: t.field({ description: 'Its rules.', type: [SecurityGroupRuleRef], resolve: (r) => rulesOf(r) }),
}));

resourceNode(SecurityGroupRuleRef, 'security_group_rule', 'An allow rule of a security group, stored normalised (1-65535 is no range; IPv6 ICMP is ipv6-icmp).', (t) => ({
  securityGroupId: t.string({ description: 'The group the rule belongs to.', resolve: (r) => r.doc.securityGroupId }),
  securityGroup: t.field({ description: 'The group the rule belongs to.', type: SecurityGroupRef, nullable: true, resolve: (r, _a, ctx) => resourceLoader<SecurityGroup>(ctx, 'security_group').load(r.doc.securityGroupId) }),
  direction: t.field({ description: 'Which traffic it admits.', type: RuleDirection, resolve: (r) => r.doc.direction }),
  ethertype: t.field({ description: 'The IP version it applies to.', type: Ethertype, resolve: (r) => r.doc.ethertype }),
  protocol: t.string({ nullable: true, description: 'null: any protocol.', resolve: (r) => r.doc.protocol }),
  portRangeMin: t.int({ nullable: true, description: 'For ICMP: the type.', resolve: (r) => r.doc.portRangeMin }),
  portRangeMax: t.int({ nullable: true, description: 'For ICMP: the code.', resolve: (r) => r.doc.portRangeMax }),
  remoteIpPrefix: t.string({ description: 'Admits only this source (ingress) or destination (egress) CIDR; null: any.', nullable: true, resolve: (r) => r.doc.remoteIpPrefix }),
  remoteGroupId: t.string({ description: 'Admits only the addresses of ports in this group; null: any.', nullable: true, resolve: (r) => r.doc.remoteGroupId }),
}));

/** Neutron creates a project's default group on its first request; listing groups is the usual one. */
async function withDefaultGroup(ctx: Context): Promise<void> {
  const out = await ensureDefaultSecurityGroup(ctx.services, ctx.caller, commandMetadata(ctx));
  if (!out.ok) ctx.log.warn({ error: out.error }, 'could not create the default security group');
}

const RuleFilter = builder.inputType('SecurityGroupRuleFilter', {
  description: 'Rule fields to filter on; each given one must match exactly.',
  fields: (t) => ({ securityGroupId: t.string({ required: false, description: 'Only the rules of this security group (uuid or global id).' }), direction: t.string({ required: false, description: 'Only rules of this direction: ingress or egress.' }), ethertype: t.string({ required: false, description: 'Only rules for this IP version: IPv4 or IPv6.' }) }),
});

builder.queryFields((t) => ({
  securityGroups: t.connection({
    description: "The security groups the caller may see, paginated; the project's default group is created on first look.",
    type: SecurityGroupRef,
    args: { filter: t.arg({ type: ResourceFilter, required: false, description: 'Only the resources that match all of its fields.' }) },
    resolve: async (_r, args, ctx) => {
      await withDefaultGroup(ctx);
      return listResources<SecurityGroup>(ctx, 'security_group', args);
    },
  }, withTotalCount),
  securityGroupRules: t.connection({
    description: 'The security group rules the caller may see, paginated.',
    type: SecurityGroupRuleRef,
    args: { filter: t.arg({ type: ResourceFilter, required: false, description: 'Only the resources that match all of its fields.' }), ruleFilter: t.arg({ type: RuleFilter, required: false, description: 'Only the rules that match all of its rule-specific fields.' }) },
    resolve: async (_r, args, ctx) => {
      await withDefaultGroup(ctx);
      const f = args.ruleFilter;
      return listResources<RuleDoc>(ctx, 'security_group_rule', {
        ...args,
        docFilter: { securityGroupId: f?.securityGroupId ? parseId(f.securityGroupId, 'SecurityGroup') : undefined, direction: f?.direction ?? undefined, ethertype: f?.ethertype ?? undefined },
      });
    },
  }, withTotalCount),
}));

defineMutation('createSecurityGroup', {
  description: 'Creates a security group with egress-anywhere rules for IPv4 and IPv6. The name `default` is taken by the project\'s default group.',
  schema: z.object({ ...baseSchema, id: clientId.nullish(), stateful: z.boolean().nullish().describe('Whether its rules track connections, so replies are admitted without rules of their own. Default true.') }),
  field: 'securityGroup',
  type: SecurityGroupRef,
  run: async (input, ctx) => answerResource(ctx, 'security_group', 'SecurityGroup', await createSecurityGroup(ctx.services, ctx.caller, clean(input), commandMetadata(ctx))),
});

defineMutation('updateSecurityGroup', {
  description: 'Changes a security group. The default group cannot be renamed.',
  schema: z.object({ id: idArg, ...revisionSchema, ...baseSchema, stateful: z.boolean().nullish().describe('Whether its rules track connections; null leaves it unchanged.') }),
  field: 'securityGroup',
  type: SecurityGroupRef,
  run: async (input, ctx) => answerResource(ctx, 'security_group', 'SecurityGroup',
    await updateSecurityGroup(ctx.services, ctx.caller, parseId(input.id, 'SecurityGroup'), changesOf(input), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});

defineMutation('deleteSecurityGroup', {
  description: 'Deletes a security group with its rules; SecurityGroupInUse while ports use it. Only an admin may delete a default group.',
  schema: z.object({ id: idArg, ...revisionSchema }),
  field: 'deleted',
  type: DeletedRef,
  run: async (input, ctx) => answerDeleted(await deleteSecurityGroup(ctx.services, ctx.caller, parseId(input.id, 'SecurityGroup'), undefIfNull(input.expectedRevision), commandMetadata(ctx))),
});

defineMutation('createSecurityGroupRule', {
  description: 'Adds an allow rule, validated and normalised as Neutron does (protocol names or numbers, port ranges, ICMP type/code, prefixes).',
  schema: z.object({
    id: clientId.nullish(), securityGroupId: idArg.describe('The security group the rule is added to (uuid or global id).'), direction: z.string().describe('ingress | egress'), ethertype: z.string().nullish().describe('IPv4 (default) | IPv6'),
    protocol: z.string().nullish().describe('A name (tcp, udp, icmp, ...), a number 0-255, or any/null for all.'),
    portRangeMin: z.number().int().nullish().describe('Lowest port admitted (1-65535) for TCP, UDP, UDP-Lite, SCTP, DCCP; for ICMP the type (0-255). null: all.'),
    portRangeMax: z.number().int().nullish().describe('Highest port admitted (1-65535, at least portRangeMin); for ICMP the code (0-255). null: all.'),
    remoteIpPrefix: z.string().nullish().describe('Admits only this source (ingress) or destination (egress) CIDR (or address), of the ethertype; null: any.'),
    remoteGroupId: z.string().nullish().describe('Admits only the addresses of ports in this security group (uuid or global id); null: any.'),
    description: z.string().max(255).nullish(),
  }),
  field: 'securityGroupRule',
  type: SecurityGroupRuleRef,
  run: async (input, ctx) => {
    const { securityGroupId, remoteGroupId, ...rule } = input;
    const remote = remoteGroupId ? { remoteGroupId: parseId(remoteGroupId, 'SecurityGroup') } : {};
    return answerResource(ctx, 'security_group_rule', 'SecurityGroupRule',
      await createSecurityGroupRule(ctx.services, ctx.caller, parseId(securityGroupId, 'SecurityGroup'), { ...clean(rule), ...remote }, commandMetadata(ctx)));
  },
});

defineMutation('deleteSecurityGroupRule', {
  description: 'Removes a rule from its group.',
  schema: z.object({ id: idArg }),
  field: 'deleted',
  type: DeletedRef,
  run: async (input, ctx) => answerDeleted(await deleteSecurityGroupRule(ctx.services, ctx.caller, parseId(input.id, 'SecurityGroupRule'), commandMetadata(ctx))),
});
