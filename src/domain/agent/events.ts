import { z } from 'zod';
import { idSchema, timestampSchema } from '../common/resource.js';
import { defineEvent, type EventOf } from '../event-definition.js';
import { agentModeSchema, dvrHostMacSchema, ipsecModeSchema } from './modes.js';

/**
 * A dataplane agent process started on `host`. `instanceId` names this start: a restarted agent
 * registers again with a new one, a retried registration of the same start records nothing.
 */
export const AgentRegistered = defineEvent(
  'AgentRegistered',
  // underlayAddress: the host's VXLAN endpoint; absent in events recorded before the overlay existed.
  // agentMode and dvrHostMac: absent in events recorded before DVR (legacy, no MAC yet).
  z.object({
    id: idSchema,
    host: z.string(),
    instanceId: idSchema,
    registeredAt: timestampSchema,
    underlayAddress: z.string().nullable().optional(),
    agentMode: agentModeSchema.optional(),
    dvrHostMac: dvrHostMacSchema.optional(),
    // Absent in events recorded before agents reported one: the default zone, nova.
    availabilityZone: z.string().optional(),
    // Absent in events recorded before VPNaaS said where ESP runs.
    ipsecMode: ipsecModeSchema.optional(),
  }),
);

/** The agent is alive. Recorded at most every heartbeat interval, or at once when `lastError` changes. */
export const AgentHeartbeat = defineEvent(
  'AgentHeartbeat',
  z.object({ id: idSchema, instanceId: idSchema, lastError: z.string().nullable(), at: timestampSchema }),
);

/** The agent stopped on purpose: nobody should wait for it to apply anything. */
export const AgentStopped = defineEvent('AgentStopped', z.object({ id: idSchema, instanceId: idSchema, at: timestampSchema }));

/**
 * The agent missed its heartbeats for agent_down_time, as seen by the agent on host `by`: its
 * routers, DHCP ports and load balancers move to live agents. Its next heartbeat or registration
 * brings it back.
 */
export const AgentMarkedDown = defineEvent(
  'AgentMarkedDown',
  z.object({ id: idSchema, instanceId: idSchema, lastHeartbeatAt: timestampSchema, by: z.string(), at: timestampSchema }),
);

/** An admin enabled or disabled the agent: a disabled agent is given nothing new, and keeps what it hosts. */
export const AgentAdminStateChanged = defineEvent(
  'AgentAdminStateChanged',
  z.object({ id: idSchema, adminStateUp: z.boolean(), at: timestampSchema }),
);

export const agentEvents = [AgentRegistered, AgentHeartbeat, AgentStopped, AgentMarkedDown, AgentAdminStateChanged] as const;

export type AgentEvent = EventOf<(typeof agentEvents)[number]>;
