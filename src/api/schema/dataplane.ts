import { createGraphQLError } from 'graphql-yoga';
import { agentProgress, waitForApplied, type AgentProgress, type AppliedWait } from '../../agent/applied.js';
import { hostedResources } from '../../agent/hosted.js';
import { moveNetworkDhcp, moveRouter } from '../../agent/placement.js';
import { setAgentAdminState } from '../../agent/registration.js';
import { adminOnly } from '../../domain/policy/index.js';
import { commandMetadata, type Context } from '../context.js';
import { defineMutation } from './mutation.js';
import { z } from 'zod';
import { InvalidCursorError } from '../../store/cursor.js';
import { builder } from './builder.js';
import { AgentMode, IpsecMode } from './enums.js';

const DEFAULT_WAIT_MS = 30_000;
const MAX_WAIT_MS = 120_000;

const AgentRef = builder.objectRef<AgentProgress>('Agent').implement({
  description: 'A dataplane agent: one per host (Neutron\'s L3 + DHCP + L2 agents in one).',
  fields: (t) => ({
    host: t.exposeString('host', { description: 'The host name the agent registered with: the key of the agent (one per host), as ports name it in bindingHost.' }),
    alive: t.exposeBoolean('alive', { description: 'Running and heard from within agent_down_time (NETLEDGER_AGENT_DOWN_SECONDS, default 90 s).' }),
    down: t.exposeBoolean('down', {
      description: 'Marked down by a live agent after agent_down_time of silence (an AgentMarkedDown event): its routers, DHCP ports and load balancers were moved. Cleared by its next heartbeat.',
    }),
    stopped: t.exposeBoolean('stopped', { description: 'Stopped on purpose (AgentStopped).' }),
    adminStateUp: t.exposeBoolean('adminStateUp', { description: 'False: disabled by an admin (setAgentAdminState), given no new router or DHCP port.' }),
    registeredAt: t.field({ type: 'DateTime', description: 'When the agent first registered.', resolve: (a) => a.registeredAt }),
    lastHeartbeatAt: t.field({ type: 'DateTime', description: 'When the agent was last heard from.', resolve: (a) => a.lastHeartbeatAt }),
    appliedCursor: t.string({ nullable: true, description: 'The log cursor up to which this host is fully applied.', resolve: (a) => a.appliedCursor }),
    appliedAt: t.field({ type: 'DateTime', nullable: true, description: 'When it reached appliedCursor; null until it has applied anything.', resolve: (a) => a.appliedAt }),
    lastError: t.string({ nullable: true, description: 'Why the host is not converged, while it is not.', resolve: (a) => a.lastError }),
    routerIds: t.stringList({
      description: 'Routers this agent hosts (their ports are bound to its host).',
      resolve: async (a, _args, ctx) => [...(await hostedResources(ctx.services.sql, a.host)).routerIds],
    }),
    dhcpNetworkIds: t.stringList({
      description: 'Networks whose DHCP this agent serves (their DHCP port is bound to its host).',
      resolve: async (a, _args, ctx) => [...(await hostedResources(ctx.services.sql, a.host)).dhcpNetworkIds],
    }),
    underlayAddress: t.string({ nullable: true, description: 'The host\'s VXLAN tunnel endpoint on the underlay; null: the host is not in the overlay.', resolve: (a) => a.underlayAddress }),
    agentMode: t.field({ type: AgentMode, description: 'Neutron\'s agent_mode as the host registered it (NETLEDGER_AGENT_MODE).', resolve: (a) => a.agentMode }),
    ipsecMode: t.field({
      type: IpsecMode,
      nullable: true,
      description: "Where the host does IPsec's ESP for VPN connections: kernel (xfrm) or libipsec (charon in userspace, when the kernel has no ESP); null until the agent reports it.",
      resolve: (a) => a.ipsecMode,
    }),
    availabilityZone: t.string({
      description: "Neutron's availability_zone the agent registered in (NETLEDGER_AVAILABILITY_ZONE, default nova).",
      resolve: (a) => a.availabilityZone,
    }),
    dvrHostMac: t.string({ nullable: true, description: 'The host\'s DVR MAC: distributed routers\' frames leave the host with it as their source.', resolve: (a) => a.dvrHostMac }),
  }),
});

const AppliedWaitRef = builder.objectRef<AppliedWait>('AppliedWait').implement({
  description: 'What waitForApplied answers: whether the dataplane has caught up with a cursor.',
  fields: (t) => ({
    applied: t.exposeBoolean('applied', { description: 'Every live agent has applied the cursor. False with no live agent at all.' }),
    timedOut: t.exposeBoolean('timedOut', { description: 'The wait ended at timeoutMs before every live agent had applied the cursor.' }),
    pendingHosts: t.stringList({ description: 'Live agents still behind (admins only).', resolve: (w) => [...w.pendingHosts] }),
    agents: t.field({ type: [AgentRef], description: 'Every agent as of the answer (admins only).', resolve: (w) => [...w.agents] }),
  }),
});

builder.queryFields((t) => ({
  agents: t.field({
    type: [AgentRef],
    description: 'The dataplane agents. Admin only.',
    resolve: async (_r, _a, ctx) => {
      if (!ctx.caller.isAdmin) throw createGraphQLError('agents are visible to admins only', { extensions: { code: 'PolicyNotAuthorized' } });
      return agentProgress(ctx.services.sql, new Date(), ctx.services.config.NETLEDGER_AGENT_DOWN_SECONDS * 1000);
    },
  }),
  waitForApplied: t.field({
    type: AppliedWaitRef,
    description: 'Answers once every live agent has applied the log up to `cursor` (a mutation payload\'s cursor), or after timeoutMs (default 30 s, at most 120 s): wait on this instead of sleeping.',
    args: { cursor: t.arg.string({ required: true, description: "A log cursor, such as a mutation payload's cursor." }), timeoutMs: t.arg.int({ required: false, description: 'How long to wait at most, in milliseconds: default 30000, capped at 120000; 0 checks once.' }) },
    resolve: async (_r, args, ctx) => {
      const timeout = Math.max(0, Math.min(args.timeoutMs ?? DEFAULT_WAIT_MS, MAX_WAIT_MS));
      try {
        const w = await waitForApplied(ctx.services.sql, args.cursor, timeout, undefined, ctx.services.config.NETLEDGER_AGENT_DOWN_SECONDS * 1000);
        return ctx.caller.isAdmin ? w : { ...w, pendingHosts: [], agents: [] };
      } catch (e) {
        if (e instanceof InvalidCursorError) throw createGraphQLError(e.message, { extensions: { code: 'InvalidCursor' } });
        throw e;
      }
    },
  }),
}));

async function agentOf(ctx: Context, host: string): Promise<AgentProgress> {
  const agents = await agentProgress(ctx.services.sql, new Date(), ctx.services.config.NETLEDGER_AGENT_DOWN_SECONDS * 1000);
  return agents.find((a) => a.host === host)!;
}

defineMutation('moveRouterToAgent', {
  description:
    "Places a legacy router (its interface and gateway ports) on the agent of `host`, which must be live and enabled: Neutron's l3-agent-router-add. The move is in each port's history. Admin only.",
  schema: z.object({ routerId: z.string().min(1).max(64), host: z.string().min(1).max(255) }),
  field: 'agent',
  type: AgentRef,
  run: async (input, ctx) => {
    const refused = adminOnly(ctx.caller, 'update_agent');
    if (refused) return { ok: false, error: refused };
    const r = await moveRouter(ctx.services, input.routerId, input.host, commandMetadata(ctx));
    return r.ok ? { ok: true, value: await agentOf(ctx, input.host), cursor: r.cursor } : r;
  },
});

defineMutation('moveNetworkDhcpToAgent', {
  description:
    "Places a network's DHCP port on the agent of `host`, which must be live and enabled: Neutron's dhcp-agent-network-add. The move is in the port's history. Admin only.",
  schema: z.object({ networkId: z.string().min(1).max(64), host: z.string().min(1).max(255) }),
  field: 'agent',
  type: AgentRef,
  run: async (input, ctx) => {
    const refused = adminOnly(ctx.caller, 'update_agent');
    if (refused) return { ok: false, error: refused };
    const r = await moveNetworkDhcp(ctx.services, input.networkId, input.host, commandMetadata(ctx));
    return r.ok ? { ok: true, value: await agentOf(ctx, input.host), cursor: r.cursor } : r;
  },
});

defineMutation('setAgentAdminState', {
  description:
    "Enables or disables a host's agent (Neutron's agent admin_state_up). A disabled agent keeps what it hosts but is given no new router or DHCP port; it stays live and applying. Admin only.",
  schema: z.object({ host: z.string().min(1).max(255), adminStateUp: z.boolean() }),
  field: 'agent',
  type: AgentRef,
  run: async (input, ctx) => {
    const refused = adminOnly(ctx.caller, 'update_agent');
    if (refused) return { ok: false, error: refused };
    const r = await setAgentAdminState(ctx.services, input.host, input.adminStateUp, commandMetadata(ctx));
    if (!r.ok) return r;
    const agents = await agentProgress(ctx.services.sql, new Date(), ctx.services.config.NETLEDGER_AGENT_DOWN_SECONDS * 1000);
    return { ok: true, value: agents.find((a) => a.host === input.host)!, cursor: r.cursor };
  },
});
