export * from './resource.js';
export * from './revision.js';
export * from './lifecycle.js';
export * from './availability-zones.js';
