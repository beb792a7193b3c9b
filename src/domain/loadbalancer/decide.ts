import type { Decision } from '../decider.js';
import type * as C from './commands.js';
import { createHealthMonitor, deleteHealthMonitor, updateHealthMonitor } from './decide-health-monitor.js';
import { createListener, deleteListener, updateListener } from './decide-listener.js';
import { createLoadBalancer, deleteLoadBalancer, updateLoadBalancer } from './decide-load-balancer.js';
import { loadBalancerNotFound } from './decide-lookups.js';
import { addMember, removeMember, replacePoolMembers, updateMember } from './decide-member.js';
import { createPool, deletePool, updatePool } from './decide-pool.js';
import { observeMemberHealth, recordApplied, recordApplyFailed } from './decide-reports.js';
import type { LoadBalancerEvent } from './events.js';
import { isLoadBalancerLive, type LoadBalancerState } from './state.js';

type E = LoadBalancerEvent;

/** The one entry: each child resource's rules live in its own decide-<child>.ts. */
export function decide(command: C.LoadBalancerCommand, state: LoadBalancerState): Decision<E> {
  switch (command.type) {
    case 'CreateLoadBalancer':
      return createLoadBalancer(command, state);
    case 'RecordLoadBalancerApplied':
      return recordApplied(command, state);
    case 'RecordLoadBalancerApplyFailed':
      return recordApplyFailed(command, state);
    case 'ObserveMemberHealth':
      return observeMemberHealth(command, state);
  }
  if (!isLoadBalancerLive(state)) return loadBalancerNotFound(command.loadBalancerId);
  switch (command.type) {
    case 'UpdateLoadBalancer':
      return updateLoadBalancer(command, state);
    case 'DeleteLoadBalancer':
      return deleteLoadBalancer(command, state);
    case 'CreateListener':
      return createListener(command, state);
    case 'UpdateListener':
      return updateListener(command, state);
    case 'DeleteListener':
      return deleteListener(command, state);
    case 'CreatePool':
      return createPool(command, state);
    case 'UpdatePool':
      return updatePool(command, state);
    case 'DeletePool':
      return deletePool(command, state);
    case 'AddMember':
      return addMember(command, state);
    case 'UpdateMember':
      return updateMember(command, state);
    case 'RemoveMember':
      return removeMember(command, state);
    case 'ReplacePoolMembers':
      return replacePoolMembers(command, state);
    case 'CreateHealthMonitor':
      return createHealthMonitor(command, state);
    case 'UpdateHealthMonitor':
      return updateHealthMonitor(command, state);
    case 'DeleteHealthMonitor':
      return deleteHealthMonitor(command, state);
  }
}
