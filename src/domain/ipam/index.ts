export * from './address.js';
export * from './cidr.js';
export * from './pools.js';
export * from './candidates.js';
export * from './mac.js';
export * from './eui64.js';
export * from './availability.js';
