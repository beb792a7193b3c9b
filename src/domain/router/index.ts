export { routerDecider } from './decider.js';
export * from './events.js';
export type * from './commands.js';
export type { Router, RouterGateway, RouterState } from './state.js';
export { DEFAULT_MAX_ROUTES } from './routes.js';
