export { floatingIpDecider, floatingIpStreamId } from './decider.js';
export * from './events.js';
export type * from './commands.js';
export type * from './state.js';
export { initialFloatingIpState } from './state.js';
