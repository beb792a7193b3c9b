export { Reconciler, DEFAULT_DRIVERS, type ReconcilerOptions, type PassReport, type KeyReport, type KeyStatus } from './reconciler.js';
export { agentConfig, DEFAULT_AGENT_CONFIG, type AgentConfig } from './config.js';
export { CommandRunner, CommandError, type CommandCounts } from './exec.js';
export type { Driver, DriverContext } from './driver.js';
export { linksDriver } from './drivers/links.js';
export { natDriver } from './drivers/nat.js';
export { dhcpDriver } from './drivers/dhcp.js';
export { plugInstance, unplugInstance, createExternalHost, removeExternalHost, type PluggedInstance, type Lease } from './lab.js';
export { wipeHost } from './wipe.js';
