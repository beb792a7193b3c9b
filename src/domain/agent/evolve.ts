import { DEFAULT_AGENT_MODE } from './modes.js';
import type { AgentEvent } from './events.js';
import { DEFAULT_AVAILABILITY_ZONE, type AgentState } from './state.js';

export function evolveAgent(s: AgentState, e: AgentEvent): AgentState {
  switch (e.type) {
    case 'AgentRegistered': {
      const { id, host, instanceId, registeredAt } = e.data;
      const underlayAddress = e.data.underlayAddress ?? null;
      const agentMode = e.data.agentMode ?? DEFAULT_AGENT_MODE;
      // An older event carries no MAC: the host keeps the one it had.
      const dvrHostMac = e.data.dvrHostMac ?? (s.status === 'known' ? s.agent.dvrHostMac : null);
      return {
        status: 'known',
        agent: {
          id,
          host,
          instanceId,
          registeredAt,
          lastHeartbeatAt: registeredAt,
          lastError: null,
          stopped: false,
          down: false,
          underlayAddress,
          agentMode,
          dvrHostMac,
          ipsecMode: e.data.ipsecMode ?? null,
          availabilityZone: e.data.availabilityZone ?? DEFAULT_AVAILABILITY_ZONE,
          // An admin's choice outlives the process: a restarted agent stays disabled.
          ...(s.status === 'known' && s.agent.adminStateUp === false ? { adminStateUp: false } : {}),
        },
      };
    }
    case 'AgentHeartbeat':
      return s.status === 'known'
        ? { status: 'known', agent: { ...s.agent, lastHeartbeatAt: e.data.at, lastError: e.data.lastError, down: false } }
        : s;
    case 'AgentAdminStateChanged':
      return s.status === 'known' ? { status: 'known', agent: { ...s.agent, adminStateUp: e.data.adminStateUp } } : s;
    case 'AgentMarkedDown':
      return s.status === 'known' ? { status: 'known', agent: { ...s.agent, down: true } } : s;
    case 'AgentStopped':
      return s.status === 'known' ? { status: 'known', agent: { ...s.agent, stopped: true } } : s;
  }
}
