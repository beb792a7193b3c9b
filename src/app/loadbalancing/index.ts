export {
  createLoadBalancer,
  deleteLoadBalancer,
  updateLoadBalancer,
  type LoadBalancerChanges,
  type LoadBalancerInput,
} from './load-balancers.js';
export * from './children.js';
export { recordApplied, recordApplyFailed, recordMemberHealth } from './dataplane.js';
export { type VipRequest } from './vip.js';
