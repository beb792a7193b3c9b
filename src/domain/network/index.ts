export { networkDecider, networkStreamId } from './decider.js';
export * from './events.js';
export type * from './commands.js';
export type * from './state.js';
export { initialNetworkState } from './state.js';
export { maxMtu, MIN_MTU_IPV4, MIN_MTU_IPV6 } from './provider.js';
