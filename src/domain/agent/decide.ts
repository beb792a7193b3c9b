import ipaddr from 'ipaddr.js';
import type { Decision } from '../decider.js';
import { domainError, isDomainError, type DomainError } from '../errors.js';
import type { AgentCommand, MarkAgentDown, RecordHeartbeat, RegisterAgent } from './commands.js';
import type { AgentEvent } from './events.js';
import { allocateDvrHostMac, DEFAULT_AGENT_MODE } from './modes.js';
import { HEARTBEAT_INTERVAL_MS, isAgentSilent, type Agent, type AgentState } from './state.js';

// Host names end up as binding hosts and in log lines; keep them to what a hostname may hold.
const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,253}$/;
const MAX_ERROR = 2000;

/** VXLAN endpoints are IPv4 here: the kernel device takes one `local` family, and every VTEP must share it. */
function isUnicastIpv4(address: string): boolean {
  if (!ipaddr.IPv4.isValidFourPartDecimal(address)) return false;
  return !['unspecified', 'broadcast', 'multicast', 'loopback'].includes(ipaddr.IPv4.parse(address).range());
}

function register(c: RegisterAgent, s: AgentState): Decision<AgentEvent> {
  if (!HOST_NAME.test(c.host)) {
    return domainError('InvalidInput', `Invalid input for operation: agent host '${c.host}' must be letters, digits, '.', '_' or '-'.`, {
      field: ['host'],
    });
  }
  const underlayAddress = c.underlayAddress ?? null;
  if (underlayAddress !== null && !isUnicastIpv4(underlayAddress)) {
    return domainError(
      'InvalidInput',
      `Invalid input for operation: underlay address '${underlayAddress}' must be a unicast IPv4 address.`,
      { field: ['underlayAddress'] },
    );
  }
  if (s.status === 'known') {
    if (s.agent.host !== c.host)
      return domainError('InvalidInput', `Agent ${c.id} is registered for host ${s.agent.host}, not ${c.host}.`, { field: ['host'] });
    if (s.agent.instanceId === c.instanceId) return [];
  }
  const agentMode = c.agentMode ?? DEFAULT_AGENT_MODE;
  // A host keeps its DVR MAC for life: frames already on the wire and other hosts' learned state name it.
  const known = s.status === 'known' ? s.agent.dvrHostMac : null;
  const dvrHostMac = known ?? allocateDvrHostMac(c.host, c.takenDvrMacs ?? new Set());
  return [
    {
      type: 'AgentRegistered',
      data: {
        id: c.id,
        host: c.host,
        instanceId: c.instanceId,
        registeredAt: c.now,
        ...(underlayAddress !== null ? { underlayAddress } : {}),
        agentMode,
        dvrHostMac,
        ...(c.ipsecMode ? { ipsecMode: c.ipsecMode } : {}),
        ...(c.availabilityZone !== undefined ? { availabilityZone: c.availabilityZone } : {}),
      },
    },
  ];
}

/** A newer start of the same host took over: the old process must not speak for it. */
function current(s: AgentState, id: string, instanceId: string): Agent | DomainError {
  if (s.status !== 'known') return domainError('AgentNotFound', `Agent ${id} could not be found.`);
  if (s.agent.instanceId !== instanceId) {
    return domainError('AgentConflict', `Agent ${id} on host ${s.agent.host} was registered again by another process.`, {
      details: { host: s.agent.host },
    });
  }
  return s.agent;
}

function heartbeat(c: RecordHeartbeat, s: AgentState): Decision<AgentEvent> {
  const agent = current(s, c.id, c.instanceId);
  if (isDomainError(agent)) return agent;
  if (agent.stopped) return domainError('AgentNotFound', `Agent ${c.id} has stopped.`);
  const lastError = c.lastError === null ? null : c.lastError.slice(0, MAX_ERROR);
  // An agent marked down says at once that it is back: the others reschedule from that.
  const due = agent.down === true || Date.parse(c.now) - Date.parse(agent.lastHeartbeatAt) >= (c.intervalMs ?? HEARTBEAT_INTERVAL_MS);
  if (!due && lastError === agent.lastError) return [];
  return [{ type: 'AgentHeartbeat', data: { id: c.id, instanceId: c.instanceId, lastError, at: c.now } }];
}

function markDown(c: MarkAgentDown, s: AgentState): Decision<AgentEvent> {
  if (s.status !== 'known') return domainError('AgentNotFound', `Agent ${c.id} could not be found.`);
  const a = s.agent;
  // Decided on the folded state, inside the append's transaction: a heartbeat that raced the
  // observer's read wins, and of several observers only the first records anything.
  if (a.stopped || a.down === true || !isAgentSilent(a, c.now, c.downMs)) return [];
  return [
    { type: 'AgentMarkedDown', data: { id: c.id, instanceId: a.instanceId, lastHeartbeatAt: a.lastHeartbeatAt, by: c.by, at: c.now } },
  ];
}

export function decideAgent(c: AgentCommand, s: AgentState): Decision<AgentEvent> {
  switch (c.type) {
    case 'RegisterAgent':
      return register(c, s);
    case 'RecordHeartbeat':
      return heartbeat(c, s);
    case 'MarkAgentDown':
      return markDown(c, s);
    case 'SetAgentAdminState': {
      if (s.status !== 'known') return domainError('AgentNotFound', `Agent ${c.id} could not be found.`);
      if ((s.agent.adminStateUp !== false) === c.adminStateUp) return [];
      return [{ type: 'AgentAdminStateChanged', data: { id: c.id, adminStateUp: c.adminStateUp, at: c.now } }];
    }
    case 'StopAgent': {
      const agent = current(s, c.id, c.instanceId);
      if (isDomainError(agent)) return agent;
      return agent.stopped ? [] : [{ type: 'AgentStopped', data: { id: c.id, instanceId: c.instanceId, at: c.now } }];
    }
  }
}
