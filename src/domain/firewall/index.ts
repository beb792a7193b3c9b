export * from './decider.js';
export * from './events.js';
export type * from './commands.js';
export type * from './state.js';
export { normaliseFirewallRule, ROUTER_INTERFACE_OWNERS } from './rules.js';
export { groupStatus } from './decide.js';
