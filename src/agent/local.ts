import type { Services } from '../app/services.js';
import { DataplaneAgent } from './agent.js';
import { agentConfigFrom, localAgentWanted } from './config.js';

/**
 * `serve`'s in-process agent (NETLEDGER_AGENT on, or auto as root). It shares the server's
 * services; a failure to start it is logged and the API keeps serving. `observe` sees the agent
 * before it starts (the metrics count its first passes too).
 */
export async function startLocalAgent(s: Services, observe?: (agent: DataplaneAgent) => void): Promise<DataplaneAgent | null> {
  if (!localAgentWanted(s.config)) return null;
  const agent = new DataplaneAgent(s, { host: s.config.NETLEDGER_HOST_NAME, config: agentConfigFrom(s.config) });
  observe?.(agent);
  try {
    await agent.start();
    return agent;
  } catch (err) {
    s.log.error({ err }, 'the local dataplane agent did not start; the API runs without it');
    await agent.stop().catch(() => undefined);
    return null;
  }
}
