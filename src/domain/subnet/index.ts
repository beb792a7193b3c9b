export { subnetDecider, subnetStreamId } from './decider.js';
export * from './events.js';
export type * from './commands.js';
export type { Subnet, SubnetState, SubnetFacts } from './state.js';
export { initialSubnetState, subnetFacts, isAutoAddressSubnet } from './state.js';
export { MAX_DNS_NAMESERVERS, MAX_HOST_ROUTES } from './rules.js';
