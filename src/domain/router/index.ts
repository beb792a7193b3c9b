export { routerDecider, routerStreamId } from './decider.js';
export * from './events.js';
export type * from './commands.js';
export type * from './state.js';
export { initialRouterState } from './state.js';
export { DEFAULT_MAX_ROUTES } from './routes.js';
