import DataLoader from 'dataloader';
import { agentProgress, type AgentProgress } from '../../agent/applied.js';
import { availabilityZoneRows, zonesOfHosts, type AvailabilityZoneRow } from '../../agent/availability-zones.js';
import { hostsServing } from '../../agent/hosted.js';
import type { Context } from '../context.js';
import { builder } from './builder.js';
import { AvailabilityZoneResource, AvailabilityZoneState } from './enums.js';
import { NetworkRef } from './networking.js';
import { RouterRef } from './routers.js';

/**
 * Neutron's availability_zone extensions: the zones agents registered in (GET
 * /v2.0/availability_zones), and on networks and routers the hints given on create and the zones
 * of the agents that actually serve them.
 */

/** The agents as of this request, read once however many rows ask. */
function agentsOf(ctx: Context): Promise<AgentProgress[]> {
  const key = 'availability-zones:agents';
  let agents = ctx.memo.get(key) as Promise<AgentProgress[]> | undefined;
  if (!agents) {
    agents = agentProgress(ctx.services.sql, new Date(), ctx.services.config.NETLEDGER_AGENT_DOWN_SECONDS * 1000);
    ctx.memo.set(key, agents);
  }
  return agents;
}

/** The zones serving each network or router of a list, in one query per kind. */
function zonesServing(ctx: Context, kind: 'network' | 'router', id: string): Promise<string[]> {
  const key = `availability-zones:${kind}`;
  let loader = ctx.memo.get(key) as DataLoader<string, string[]> | undefined;
  if (!loader) {
    loader = new DataLoader(async (ids: readonly string[]) => {
      const [hosts, agents] = await Promise.all([hostsServing(ctx.services.sql, kind, ids), agentsOf(ctx)]);
      return ids.map((i) => zonesOfHosts(agents, hosts.get(i) ?? []));
    });
    ctx.memo.set(key, loader);
  }
  return loader.load(id);
}

const AvailabilityZoneRef = builder.objectRef<AvailabilityZoneRow>('AvailabilityZone').implement({
  description: "An availability zone some agent registered in (NETLEDGER_AVAILABILITY_ZONE), as Neutron's availability_zones list it: once per resource.",
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The zone, as agents name it and availabilityZoneHints name it.' }),
    resource: t.field({ type: AvailabilityZoneResource, description: 'What the zone is listed for: network (DHCP) or router (L3); every agent here serves both.', resolve: (z) => z.resource }),
    state: t.field({ type: AvailabilityZoneState, description: 'available while a live, enabled agent is in the zone; unavailable otherwise.', resolve: (z) => z.state }),
  }),
});

builder.queryFields((t) => ({
  availabilityZones: t.field({
    type: [AvailabilityZoneRef],
    description: "The availability zones agents registered in, by name then resource (Neutron's GET /v2.0/availability_zones). Any project may read them: they are what availabilityZoneHints may name. Filters as Neutron's: name, resource, state.",
    args: {
      name: t.arg.string({ description: 'Only the zone of this name.' }),
      resource: t.arg.string({ description: 'Only rows for this resource: network or router.' }),
      state: t.arg.string({ description: 'Only rows in this state: available or unavailable.' }),
    },
    resolve: async (_r, a, ctx) =>
      availabilityZoneRows(await agentsOf(ctx)).filter(
        (z) => (a.name == null || z.name === a.name) && (a.resource == null || z.resource === a.resource) && (a.state == null || z.state === a.state),
      ),
  }),
}));

builder.objectFields(NetworkRef, (t) => ({
  availabilityZoneHints: t.stringList({ description: "Neutron's availability_zone_hints, as given on create: the zones its DHCP agents must be in; empty: any zone.", resolve: (r) => [...(r.doc.availabilityZoneHints ?? [])] }),
  availabilityZones: t.stringList({ description: 'The zones of the agents serving its DHCP now (where its DHCP ports are bound), sorted; empty while none is.', resolve: (r, _a, ctx) => zonesServing(ctx, 'network', r.id) }),
}));

builder.objectFields(RouterRef, (t) => ({
  availabilityZoneHints: t.stringList({ description: "Neutron's availability_zone_hints, as given on create: the zones its L3 agents must be in; empty: any zone.", resolve: (r) => [...(r.doc.availabilityZoneHints ?? [])] }),
  availabilityZones: t.stringList({ description: 'The zones of the agents hosting it now (where its ports are bound: one host, or each host of an HA router), sorted; empty while none is.', resolve: (r, _a, ctx) => zonesServing(ctx, 'router', r.id) }),
}));
