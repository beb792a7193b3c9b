export { securityGroupDecider, securityGroupStreamId } from './decider.js';
export * from './events.js';
export type * from './commands.js';
export type * from './state.js';
export { initialSecurityGroupState } from './state.js';
export { normaliseRule, ruleKey, protocolNumber } from './rules.js';
