import type { Queryable } from '../db/sql.js';
import { notFound } from '../domain/common/index.js';
import { domainError, isDomainError, type DomainError } from '../domain/errors.js';
import { DeviceOwner } from '../domain/port/index.js';
import { platformPrincipal } from '../domain/policy/index.js';
import type { PlannedAppend, Tx } from '../app/command-runtime.js';
import { isUuid } from '../app/networking/facts.js';
import { planUpdatePort } from '../app/networking/ports.js';
import type { Services } from '../app/services.js';
import type { EventMetadata } from '../store/types.js';
import { agentProgress } from './applied.js';

/**
 * An admin places a legacy router, or a network's DHCP port, on the agent of `host`: Neutron's
 * l3-agent-router-add and dhcp-agent-network-add. The scheduler never moves what sits on a live
 * agent, so the choice holds until that agent dies. Each port's move is in its history, with the
 * admin's request and the reason.
 */
export function moveRouter(s: Services, routerId: string, host: string, metadata: EventMetadata) {
  return movePorts(s, host, metadata, async (tx) => {
    if (!isUuid(routerId)) return notFound('Router', routerId);
    const [router] = await tx<{ ha: boolean; distributed: boolean }[]>`
      select coalesce((doc->>'ha')::boolean, false) as ha, coalesce((doc->>'distributed')::boolean, false) as distributed
        from rm_resources where kind = 'router' and id = ${routerId}`;
    if (!router) return notFound('Router', routerId);
    if (router.ha || router.distributed) {
      return domainError(
        'BadRequest',
        `Router ${routerId} is ${router.ha ? 'HA' : 'distributed'}: its scheduler places it on several hosts.`,
      );
    }
    return tx<{ id: string }[]>`
      select id from rm_resources where kind = 'port' and doc->>'deviceId' = ${routerId}
         and doc->>'deviceOwner' = any(${[DeviceOwner.routerInterface, DeviceOwner.routerGateway]}::text[]) order by id`;
  });
}

export function moveNetworkDhcp(s: Services, networkId: string, host: string, metadata: EventMetadata) {
  return movePorts(s, host, metadata, async (tx) => {
    if (!isUuid(networkId)) return notFound('Network', networkId);
    const [network] = await tx`select 1 from rm_resources where kind = 'network' and id = ${networkId}`;
    if (!network) return notFound('Network', networkId);
    const ports = await tx<{ id: string; host: string }[]>`
      select id, doc->>'bindingHost' as host from rm_resources
       where kind = 'port' and network_id = ${networkId} and doc->>'deviceOwner' = ${DeviceOwner.dhcp} order by id`;
    if (ports.length === 0) return domainError('BadRequest', `Network ${networkId} has no DHCP port to move (no DHCP-enabled subnet).`);
    // With several DHCP agents per network the network gains this agent: one of its ports moves
    // (an unbound one first), none when one is there already.
    if (ports.some((p) => p.host === host)) return [];
    return [ports.find((p) => p.host === '') ?? ports[0]!];
  });
}

async function usableAgent(q: Queryable, s: Services, host: string): Promise<DomainError | null> {
  const agent = (await agentProgress(q, new Date(), s.config.NETLEDGER_AGENT_DOWN_SECONDS * 1000)).find((a) => a.host === host);
  if (!agent) return domainError('AgentNotFound', `No agent on host ${host}.`);
  if (!agent.alive || !agent.adminStateUp) {
    return domainError(
      'BadRequest',
      `The agent on host ${host} is ${agent.alive ? 'disabled' : 'not alive'}: nothing can be placed on it.`,
    );
  }
  return null;
}

function movePorts(s: Services, host: string, metadata: EventMetadata, find: (tx: Tx) => Promise<readonly { id: string }[] | DomainError>) {
  return s.runtime.execute({ ...metadata, reason: `placed on agent ${host} by an admin` }, async (tx) => {
    const refused = await usableAgent(tx, s, host);
    if (refused) return refused;
    const ports = await find(tx);
    if (isDomainError(ports)) return ports;
    const now = new Date().toISOString();
    const appends: PlannedAppend[] = [];
    for (const { id } of ports) {
      const planned = await planUpdatePort(s, tx, platformPrincipal(''), id, { bindingHost: host }, undefined, now);
      if (isDomainError(planned)) return planned;
      appends.push(planned.append);
    }
    return { appends, result: host };
  });
}
