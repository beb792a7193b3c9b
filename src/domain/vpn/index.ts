export * from './decider.js';
export * from './events.js';
export type * from './commands.js';
export type * from './state.js';
