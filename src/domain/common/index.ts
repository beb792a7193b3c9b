export * from './resource.js';
export * from './revision.js';
export * from './lifecycle.js';
