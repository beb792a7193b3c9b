export { portDecider, portStreamId } from './decider.js';
export * from './events.js';
export type * from './commands.js';
export type { Port, PortState } from './state.js';
export { initialPortState } from './state.js';
export { DeviceOwner, isNetworkOwned, isRouterPort, isServicePort, takesLowestFreeAddress } from './device-owner.js';
export { candidateSubnets, allocateFixedIps, MAX_FIXED_IPS_PER_PORT, type AllocationInput, type AllocationResult } from './fixed-ips.js';
export { MAX_ALLOWED_ADDRESS_PAIRS } from './security.js';
