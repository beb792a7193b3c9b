export * from './topology.js';
export * from './host-state.js';
export * from './names.js';
export * from './nft.js';
export { compileHostState, DEFAULT_COMPILE_OPTIONS, type CompileOptions } from './compile.js';
export { NAT_TABLE } from './nat-rules.js';
export { hostStateUnits, unitFingerprint, compareKeys, type HostUnit } from './units.js';
export { compileOverlay, compileUplink, vlanDeviceName, vxlanDeviceName, VXLAN_PORT } from './overlay.js';
export {
  ipsecDir,
  vpnPaths,
  renderStrongswanConf,
  renderSwanctlConf,
  type IpsecMode,
  type RouterVpnSpec,
  type VpnConnectionSpec,
} from './vpn.js';
