/** Linux IFNAMSIZ leaves 15 usable characters; Neutron's LINUX_DEV_LEN keeps 14. */
export const DEVICE_NAME_LENGTH = 14;

export function deviceName(prefix: string, id: string): string {
  return `${prefix}${id}`.slice(0, DEVICE_NAME_LENGTH);
}

export const bridgeName = (networkId: string): string => deviceName('brq', networkId);
export const tapName = (portId: string): string => deviceName('tap', portId);
export const routerPortName = (portId: string): string => deviceName('qr-', portId);
export const gatewayPortName = (portId: string): string => deviceName('qg-', portId);
export const dhcpPortName = (portId: string): string => deviceName('ns-', portId);
/** An HA router's VRRP link (Neutron's `ha-<port id[:11]>`). */
export const haPortName = (portId: string): string => deviceName('ha-', portId);
/** DVR: a centralized-SNAT port in the snat namespace, and a host's FIP agent gateway in its fip namespace. */
export const snatPortName = (portId: string): string => deviceName('sg-', portId);
export const fipGatewayPortName = (portId: string): string => deviceName('fg-', portId);
/** DVR: the qrouter end and the fip end of a router's link to its host's fip namespace (router id). */
export const routerToFipName = (routerId: string): string => deviceName('rfp-', routerId);
export const fipToRouterName = (routerId: string): string => deviceName('fpr-', routerId);

/** Device prefixes the agent creates inside its namespaces; anything else there is left alone. */
export const OWNED_NAMESPACE_DEVICE_PREFIXES = ['qr-', 'qg-', 'ns-', 'ha-', 'sg-', 'fg-'] as const;

export interface NamingOptions {
  /** Prepended to every namespace the agent creates (`<prefix>qrouter-<id>`). */
  readonly namespacePrefix: string;
  /** The namespace holding the bridges and taps. */
  readonly hostNamespace: string;
  /** Per-network dnsmasq files live in `<stateDir>/dhcp/<network id>/`. */
  readonly stateDir: string;
}

export const DEFAULT_NAMING: NamingOptions = {
  namespacePrefix: 'nl-',
  hostNamespace: 'nl-host',
  stateDir: '/var/lib/netledger',
};

const SAFE_NAME = /^[A-Za-z0-9_.-]*$/;

/** Names end up in shell scripts and file paths: refuse anything that could escape them. */
export function assertSafeName(what: string, value: string): void {
  if (!SAFE_NAME.test(value) || value === '.' || value === '..') {
    throw new Error(`${what} ${JSON.stringify(value)} may only contain letters, digits, '_', '.', '-'`);
  }
}

export function routerNamespace(naming: NamingOptions, routerId: string): string {
  return `${naming.namespacePrefix}qrouter-${routerId}`;
}

/** DVR: a distributed router's centralized SNAT, on the host its gateway port is bound to. */
export function snatNamespace(naming: NamingOptions, routerId: string): string {
  return `${naming.namespacePrefix}snat-${routerId}`;
}

/** DVR: a host's floating IP namespace for one external network. */
export function fipNamespace(naming: NamingOptions, networkId: string): string {
  return `${naming.namespacePrefix}fip-${networkId}`;
}

export function dhcpNamespace(naming: NamingOptions, networkId: string): string {
  return `${naming.namespacePrefix}qdhcp-${networkId}`;
}

export function instanceNamespace(naming: NamingOptions, portId: string): string {
  return `${naming.namespacePrefix}vm-${portId}`;
}

export function externalHostNamespace(naming: NamingOptions, name: string): string {
  return `${naming.namespacePrefix}ext-${name}`;
}

export function dhcpDir(naming: NamingOptions, networkId: string): string {
  return `${naming.stateDir}/dhcp/${networkId}`;
}

export function radvdDir(naming: NamingOptions, routerId: string): string {
  return `${naming.stateDir}/ra/${routerId}`;
}

/** Reverse of the namespace names above: which reconcile key owns a namespace, if any. */
export function keyOfNamespace(
  naming: NamingOptions,
  namespace: string,
): `network:${string}` | `router:${string}` | `snat:${string}` | `fip:${string}` | null {
  const router = `${naming.namespacePrefix}qrouter-`;
  const dhcp = `${naming.namespacePrefix}qdhcp-`;
  for (const kind of ['snat', 'fip'] as const) {
    const p = `${naming.namespacePrefix}${kind}-`;
    if (namespace.startsWith(p) && namespace.length > p.length) return `${kind}:${namespace.slice(p.length)}`;
  }
  if (namespace.startsWith(router) && namespace.length > router.length) {
    return `router:${namespace.slice(router.length)}`;
  }
  if (namespace.startsWith(dhcp) && namespace.length > dhcp.length) {
    return `network:${namespace.slice(dhcp.length)}`;
  }
  return null;
}
