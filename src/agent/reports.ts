import { isDomainError } from '../domain/errors.js';
import { firewallGroupDecider, firewallGroupStreamId } from '../domain/firewall/index.js';
import { floatingIpDecider, floatingIpStreamId, type FloatingIpStatus } from '../domain/floating-ip/index.js';
import { portDecider, portStreamId, type PortStatus } from '../domain/port/index.js';
import type { PlannedAppend } from '../app/command-runtime.js';
import { planUpdatePort } from '../app/networking/ports.js';
import { loadAndDecide } from '../app/plan.js';
import type { Decider, DomainEvent } from '../domain/decider.js';
import type { Services } from '../app/services.js';
import { AGENT_ACTOR, agentMetadata } from './registration.js';
import type { Binding } from './scheduler.js';
import type { FirewallGroupStatusChange, StatusChange } from './status.js';

/**
 * Binds ports as the scheduler planned, all in one transaction. A port that moved on since the
 * plan (another agent bound it, someone changed it) is skipped: the next pass plans again.
 * `reason` goes into the events' metadata (why a bound port moved).
 */
export async function applyBindings(
  s: Services,
  host: string,
  bindings: readonly Binding[],
  reason: string | null = null,
): Promise<{ bound: number; cursor: string | null }> {
  if (bindings.length === 0) return { bound: 0, cursor: null };
  const metadata = reason === null ? agentMetadata(host) : { ...agentMetadata(host), reason };
  const out = await s.runtime.execute(metadata, async (tx) => {
    const now = new Date().toISOString();
    const appends: PlannedAppend[] = [];
    for (const b of bindings) {
      const planned = await planUpdatePort(s, tx, AGENT_ACTOR, b.portId, { bindingHost: b.host }, b.revision, now);
      if (!isDomainError(planned)) appends.push(planned.append);
    }
    return { appends, result: appends.length };
  });
  return out.ok ? { bound: out.result, cursor: out.cursor } : { bound: 0, cursor: null };
}

/**
 * Port, floating IP and firewall group statuses through their deciders (SetPortStatus,
 * SetFloatingIpStatus, ReportFirewallGroupStatus), in one transaction. Resources deleted
 * meanwhile answer NotFound and are skipped; a firewall group changed since the revision the
 * agent applied answers RevisionNumberConstraintFailed and is skipped too (the next round reports
 * the new one).
 */
export async function reportStatuses(
  s: Services,
  host: string,
  ports: readonly StatusChange<PortStatus>[],
  floatingIps: readonly StatusChange<FloatingIpStatus>[],
  firewallGroups: readonly FirewallGroupStatusChange[] = [],
): Promise<number> {
  if (ports.length === 0 && floatingIps.length === 0 && firewallGroups.length === 0) return 0;
  const out = await s.runtime.execute(agentMetadata(host), async (tx) => {
    const now = new Date().toISOString();
    const appends: PlannedAppend[] = [];
    const report = async <C, S, E extends DomainEvent>(decider: Decider<C, S, E>, streamId: string, command: C) => {
      const append = await loadAndDecide(s, tx, decider, streamId, command);
      if (!isDomainError(append)) appends.push(append);
    };
    for (const c of ports)
      await report(portDecider, portStreamId(c.id), { type: 'SetPortStatus', id: c.id, now, status: c.status, reason: c.reason });
    for (const c of floatingIps)
      await report(floatingIpDecider, floatingIpStreamId(c.id), {
        type: 'SetFloatingIpStatus',
        id: c.id,
        now,
        status: c.status,
        ...(c.reason !== null ? { reason: c.reason } : {}),
      });
    for (const c of firewallGroups)
      await report(firewallGroupDecider, firewallGroupStreamId(c.id), {
        type: 'ReportFirewallGroupStatus',
        id: c.id,
        now,
        status: c.status,
        expectedRevision: c.revision,
      });
    return { appends, result: appends.length };
  });
  return out.ok ? out.result : 0;
}
