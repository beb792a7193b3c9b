import type { Logger } from 'pino';
import type { AgentMode } from '../domain/agent/index.js';
import type { FloatingIp } from '../domain/floating-ip/index.js';
import { DeviceOwner, type Port } from '../domain/port/index.js';
import type { Router } from '../domain/router/index.js';
import { addFipAgentGatewayPort, addSnatPort, deleteDvrPort, snatSubnetsOf } from '../app/routing/dvr.js';
import type { Services } from '../app/services.js';
import { compareStrings } from '../projections/desired-state/ip.js';
import type { ResourceDoc } from '../projections/topology/index.js';
import { agentMetadata } from './registration.js';

/**
 * The ports distributed routers need (app/routing/dvr.ts), made by the agents:
 *   - every agent makes a missing sg- port of any distributed router with a gateway, bound with
 *     the router's gateway port (its id is named by the router's revision: two agents planning
 *     at once make the same port);
 *   - a dvr/dvr_snat agent makes its own host's fg- port on an external network once an instance
 *     bound to it has a floating IP behind a distributed router there, and deletes it when none is
 *     left (Neutron deletes the agent gateway port with the host's last floating IP).
 */
export interface DvrPortPlan {
  readonly snatPorts: readonly {
    readonly router: ResourceDoc<Router>;
    readonly subnet: { id: string; networkId: string };
    readonly host: string;
  }[];
  readonly addFipGateways: readonly string[];
  readonly deleteFipGateways: readonly string[];
}

export function planDvrPorts(
  host: string,
  mode: AgentMode,
  ports: readonly ResourceDoc<Port>[],
  routers: readonly ResourceDoc<Router>[],
  floatingIps: readonly ResourceDoc<FloatingIp>[],
): DvrPortPlan {
  const byId = new Map(ports.map((p) => [p.id, p.doc]));
  const withSnat = new Set(
    ports
      .filter((p) => p.doc.deviceOwner === DeviceOwner.routerCentralizedSnat)
      .flatMap((p) => p.doc.fixedIps.map((f) => `${p.doc.deviceId} ${f.subnetId}`)),
  );
  const snatPorts: DvrPortPlan['snatPorts'][number][] = [];
  for (const router of [...routers].sort((a, b) => compareStrings(a.id, b.id))) {
    const r = router.doc;
    for (const subnetId of [...snatSubnetsOf(r)].sort(compareStrings)) {
      if (withSnat.has(`${r.id} ${subnetId}`)) continue;
      const i = r.interfaces.find((x) => x.subnetId === subnetId);
      if (!i) continue;
      snatPorts.push({
        router,
        subnet: { id: subnetId, networkId: i.networkId },
        host: byId.get(r.gateway?.portId ?? '')?.bindingHost ?? '',
      });
    }
  }
  const wanted = new Set<string>();
  if (mode !== 'legacy') {
    const distributed = new Map(routers.filter((r) => r.doc.distributed && r.doc.gateway).map((r) => [r.id, r.doc]));
    for (const { doc: f } of floatingIps) {
      const a = f.association;
      const router = a ? distributed.get(a.routerId) : undefined;
      if (!a || !router || byId.get(a.portId)?.bindingHost !== host) continue;
      if (router.gateway?.networkId === f.floatingNetworkId) wanted.add(f.floatingNetworkId);
    }
  }
  const have = ports.filter((p) => p.doc.deviceOwner === DeviceOwner.floatingIpAgentGateway && p.doc.bindingHost === host);
  return {
    snatPorts,
    addFipGateways: [...wanted].filter((n) => !have.some((p) => p.doc.networkId === n)).sort(compareStrings),
    deleteFipGateways: have
      .filter((p) => !wanted.has(p.doc.networkId))
      .map((p) => p.id)
      .sort(compareStrings),
  };
}

/** Carries the plan out; returns how many ports changed (non-zero: read the topology again). */
export async function scheduleDvrPorts(
  s: Services,
  host: string,
  mode: AgentMode,
  ports: readonly ResourceDoc<Port>[],
  routers: readonly ResourceDoc<Router>[],
  floatingIps: readonly ResourceDoc<FloatingIp>[],
  log: Logger,
): Promise<number> {
  const plan = planDvrPorts(host, mode, ports, routers, floatingIps);
  const metadata = agentMetadata(host);
  let changed = 0;
  for (const p of plan.snatPorts) {
    const out = await addSnatPort(s, metadata, p.router, p.subnet, p.host);
    if (out.ok) changed += 1;
    else if (out.error.code !== 'PortAlreadyExists')
      log.warn({ routerId: p.router.id, subnetId: p.subnet.id, error: out.error }, 'could not add an sg- port');
  }
  for (const networkId of plan.addFipGateways) {
    const out = await addFipAgentGatewayPort(s, metadata, host, networkId);
    if (out.ok) changed += 1;
    else if (out.error.code !== 'PortAlreadyExists') log.warn({ networkId, error: out.error }, 'could not add the fip agent gateway port');
  }
  for (const id of plan.deleteFipGateways) {
    const out = await deleteDvrPort(s, metadata, id);
    if (out.ok) changed += 1;
    else log.warn({ portId: id, error: out.error }, 'could not delete the fip agent gateway port');
  }
  return changed;
}
