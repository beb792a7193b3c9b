export * from './read-model.js';
export * from './source.js';
export * from './core.js';
export * from './load-balancers.js';
export * from './security.js';
export * from './vteps.js';
export * from './dvr-hosts.js';
export * from './vpn.js';
