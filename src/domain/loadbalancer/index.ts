export { loadBalancerDecider } from './decider.js';
export * from './events.js';
export type * from './commands.js';
export * from './model.js';
export * from './state.js';
export { rollUpStatuses } from './status.js';
