import type { HostInterest } from '../projections/topology/index.js';
import type { WakeEvent } from '../store/log-waker.js';
import type { RecordedEvent } from '../store/types.js';

// Events that change no dataplane input: they still move the applied cursor, but need no rebuild.
// AgentRegistered is not here: a new agent is a reason to schedule unbound ports.
export const NO_REBUILD = new Set([
  'PortStatusChanged',
  'FloatingIpStatusChanged',
  'FirewallGroupStatusChanged',
  'AgentHeartbeat',
  'AgentStopped',
  'LoadBalancerApplied',
  'LoadBalancerApplyFailed',
  'MemberHealthObserved',
  'IpsecSiteConnectionStatusChanged',
  'RouterHaStateChanged',
  'ProjectCreated',
  'TokenIssued',
  'TokenRevoked',
  'QuotaSet',
]);

/**
 * Whether a change may alter what this host builds, judged from the event and what the host's
 * last slice held (issue 16, scale: a port change reaches the hosts it affects, not every host).
 * Only the changes that come by the thousand are judged: ports, networks, subnets. Anything else,
 * or an event whose data is not what is expected, counts; so does everything before the first
 * slice. A change judged wrongly as touching costs one rebuild; one judged wrongly as not would
 * leave the host stale until its next rebuild, so every rule errs towards "touches".
 * It reads only the data fields a wake-up carries (the store's WAKE_FIELDS): the agent judges the
 * notification of a change with it before it reads the log at all.
 */
export function touchesHost(event: Pick<RecordedEvent, 'type' | 'data'>, interest: HostInterest | null, host: string): boolean {
  if (interest === null) return true;
  const d = event.data as Record<string, unknown> | null;
  if (d === null || typeof d !== 'object' || typeof d.id !== 'string') return true;
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  const network = str(d.networkId);
  const inNetwork = network !== null && interest.networks.has(network);
  const inGroups = (groups: unknown) => Array.isArray(groups) && groups.some((g) => typeof g === 'string' && interest.remoteGroups.has(g));
  switch (event.type) {
    case 'PortCreated': {
      const bound = str(d.bindingHost);
      // An unbound port of the platform's own (DHCP, router) is every agent's to schedule.
      const toSchedule = bound === '' && String(d.deviceOwner).startsWith('network:');
      return bound === null || bound === host || toSchedule || inNetwork || inGroups(d.securityGroups);
    }
    case 'PortUpdated': {
      const changes = d.changes as Record<string, unknown> | undefined;
      if (!changes || typeof changes !== 'object') return true;
      const bound = changes.bindingHost;
      // Unbound again: whoever schedules it must look.
      return interest.ports.has(d.id) || bound === host || bound === '' || inGroups(changes.securityGroups);
    }
    case 'FixedIpsChanged':
    case 'PortDeleted':
      return network === null || interest.ports.has(d.id) || inNetwork;
    case 'NetworkCreated':
      // A network is built only where a port of it is: the port's own event says where.
      return false;
    case 'NetworkUpdated':
    case 'NetworkDeleted':
    case 'NetworkSubnetAdded':
    case 'NetworkSubnetRemoved':
    case 'NetworkSubnetUpdated':
      return interest.networks.has(d.id);
    case 'SubnetCreated':
    case 'SubnetDeleted':
      return network === null || inNetwork || interest.subnets.has(d.id);
    case 'SubnetUpdated':
      return interest.subnets.has(d.id);
    default:
      return true;
  }
}

/**
 * Whether an event calls for a rebuild of this host's slice. While a rebuild runs, its slice may
 * come to hold what a change touches: every change that could matter counts then.
 */
export function needsRebuild(
  event: Pick<RecordedEvent, 'type' | 'data'>,
  interest: HostInterest | null,
  host: string,
  rebuilding: boolean,
): boolean {
  if (NO_REBUILD.has(event.type)) return false;
  return rebuilding || touchesHost(event, interest, host);
}

/**
 * Whether a wake-up calls for this host to read the log now: one of the events it announces may
 * call for a rebuild. The others (a change elsewhere, a heartbeat) are read lazily, at the
 * subscription's idle poll, and only move the applied cursor (issue 16: a change costs the hosts
 * it touches, not every host).
 */
export function wakesHost(events: readonly WakeEvent[], interest: HostInterest | null, host: string, rebuilding: boolean): boolean {
  return events.some((e) => needsRebuild(e, interest, host, rebuilding));
}
