import { agentProgress } from '../../agent/applied.js';
import { DeviceOwner } from '../../domain/port/index.js';
import type { HaState, Router } from '../../domain/router/index.js';
import type { Context } from '../context.js';
import type { ResourceRecord } from './resources.js';
import { builder } from './builder.js';
import { HaState as HaStateEnum } from './enums.js';
import { RouterRef } from './routers.js';

/** One host of an HA router, as Neutron's l3-agents-hosting-router lists it with its ha_state. */
interface L3AgentOfRouter {
  readonly host: string;
  readonly alive: boolean;
  readonly haState: HaState;
}

const L3AgentRef = builder.objectRef<L3AgentOfRouter>('RouterL3Agent').implement({
  description: "A host the router is scheduled on, with its keepalived's VRRP state (HA routers).",
  fields: (t) => ({
    host: t.exposeString('host', { description: 'The host name, as its L3 agent registered it.' }),
    alive: t.exposeBoolean('alive', { description: "Whether the host's agent has reported within NETLEDGER_AGENT_DOWN_SECONDS (default 90 s)." }),
    haState: t.field({
      type: HaStateEnum,
      resolve: (a) => a.haState,
      description:
        'active, standby or unknown: as the host last reported it; unknown before its first report and while its agent is dead (its last word is stale).',
    }),
  }),
});

async function l3AgentsOf(r: ResourceRecord<Router>, ctx: Context): Promise<L3AgentOfRouter[]> {
  if (!r.doc.ha) return [];
  const rows = await ctx.services.sql<{ host: string }[]>`
    select doc->>'bindingHost' as host from rm_resources
     where kind = 'port' and doc->>'deviceOwner' = ${DeviceOwner.routerHaInterface} and doc->>'deviceId' = ${r.id}
     order by 1`;
  const agents = await agentProgress(ctx.services.sql, new Date(), ctx.services.config.NETLEDGER_AGENT_DOWN_SECONDS * 1000);
  const alive = new Set(agents.filter((a) => a.alive).map((a) => a.host));
  return rows
    .filter((row) => row.host !== '')
    .map((row) => ({
      host: row.host,
      alive: alive.has(row.host),
      haState: alive.has(row.host) ? (r.doc.haStates?.[row.host] ?? 'unknown') : 'unknown',
    }));
}

builder.objectFields(RouterRef, (t) => ({
  l3Agents: t.field({
    type: [L3AgentRef],
    description:
      "HA routers: every host with the router's HA port, and its VRRP state (admins only; others get an empty list). Exactly one is active in steady state.",
    resolve: async (r, _a, ctx) => (ctx.caller.isAdmin ? l3AgentsOf(r, ctx) : []),
  }),
  haSplitBrain: t.boolean({
    description: 'HA routers: more than one live host reports active (split brain: both hold the addresses).',
    resolve: async (r, _a, ctx) => (await l3AgentsOf(r, ctx)).filter((a) => a.haState === 'active').length > 1,
  }),
}));
