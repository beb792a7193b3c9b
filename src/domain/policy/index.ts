export * from './principal.js';
export * from './rules.js';
