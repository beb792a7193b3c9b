import { createHash } from 'node:crypto';
import type { CommandOutcome } from '../app/command-runtime.js';
import { decideAppend } from '../app/plan.js';
import type { Principal } from '../domain/policy/index.js';
import type { Services } from '../app/services.js';
import {
  agentDecider,
  agentStreamId,
  DEFAULT_AGENT_MODE,
  type AgentCommand,
  type AgentMode,
  type IpsecMode,
} from '../domain/agent/index.js';
import { domainError, isDomainError } from '../domain/errors.js';
import { listAgents, loadAgentState } from '../projections/agents-projection.js';
import type { EventMetadata } from '../store/types.js';

/** The agents speak for the platform: they see and report on every project's resources. */
export const AGENT_ACTOR: Principal = { projectId: '', isAdmin: true };

export const agentMetadata = (host: string): EventMetadata => ({ actor: `agent:${host}` });

/** One stream per host, whichever process runs there: a name-based (v5-style) uuid of the host. */
export function agentIdOf(host: string): string {
  const h = createHash('sha1').update(`netledger-agent:${host}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Agent commands go through the one command runtime, whose inline projections include rm_agents. */
function runAgentCommand(s: Services, host: string, command: AgentCommand): Promise<CommandOutcome<string>> {
  return s.runtime.execute(agentMetadata(host), async (tx) => {
    const loaded = await loadAgentState(tx, command.id);
    const append = decideAppend(agentDecider, loaded, agentStreamId(command.id), command);
    return isDomainError(append) ? append : { appends: [append], result: command.id };
  });
}

export async function registerAgent(
  s: Services,
  host: string,
  instanceId: string,
  underlayAddress: string | null = null,
  agentMode: AgentMode = DEFAULT_AGENT_MODE,
  ipsecMode: IpsecMode | null = null,
  availabilityZone: string | null = null,
) {
  const takenDvrMacs = new Set(
    (await listAgents(s.sql)).filter((a) => a.host !== host).flatMap((a) => (a.dvrHostMac ? [a.dvrHostMac] : [])),
  );
  return runAgentCommand(s, host, {
    type: 'RegisterAgent',
    id: agentIdOf(host),
    host,
    instanceId,
    now: new Date().toISOString(),
    underlayAddress,
    agentMode,
    ...(ipsecMode ? { ipsecMode } : {}),
    ...(availabilityZone !== null ? { availabilityZone } : {}),
    takenDvrMacs,
  });
}

export function recordHeartbeat(s: Services, host: string, instanceId: string, lastError: string | null, intervalMs?: number) {
  return runAgentCommand(s, host, {
    type: 'RecordHeartbeat',
    id: agentIdOf(host),
    instanceId,
    lastError,
    now: new Date().toISOString(),
    ...(intervalMs !== undefined ? { intervalMs } : {}),
  });
}

export function stopAgent(s: Services, host: string, instanceId: string) {
  return runAgentCommand(s, host, { type: 'StopAgent', id: agentIdOf(host), instanceId, now: new Date().toISOString() });
}

/** An admin enables or disables the agent of `host`; `metadata` is the admin's request. */
export function setAgentAdminState(s: Services, host: string, adminStateUp: boolean, metadata: EventMetadata) {
  const command: AgentCommand = { type: 'SetAgentAdminState', id: agentIdOf(host), adminStateUp, now: new Date().toISOString() };
  return s.runtime.execute(metadata, async (tx) => {
    const loaded = await loadAgentState(tx, command.id);
    if (loaded.state.status !== 'known') return domainError('AgentNotFound', `No agent on host ${host}.`);
    const append = decideAppend(agentDecider, loaded, agentStreamId(command.id), command);
    return isDomainError(append) ? append : { appends: [append], result: command.id };
  });
}

/** `by` saw the agent of `host` silent for longer than `downMs`: recorded once, whoever asks first. */
export function markAgentDown(s: Services, by: string, host: string, downMs: number) {
  return runAgentCommand(s, by, { type: 'MarkAgentDown', id: agentIdOf(host), by, downMs, now: new Date().toISOString() });
}
