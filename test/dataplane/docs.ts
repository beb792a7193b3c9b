import { randomUUID } from 'node:crypto';
import type { FloatingIp } from '../../src/domain/floating-ip/index.js';
import type { Network } from '../../src/domain/network/index.js';
import type { Port } from '../../src/domain/port/index.js';
import type { Router } from '../../src/domain/router/index.js';
import type { Subnet } from '../../src/domain/subnet/index.js';
import type { ResourceDoc } from '../../src/projections/topology/index.js';

/** Read-model documents as the projections store them, for the pure mapping tests. */
const base = (id = randomUUID()) => ({
  id,
  project: 'p',
  name: '',
  description: '',
  tags: [],
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

export function networkDoc(subnets: { id: string; cidr: string }[], extra: Partial<Network> = {}): Network {
  return {
    ...base(),
    adminStateUp: true,
    shared: false,
    external: false,
    portSecurityEnabled: true,
    mtu: 1450,
    provider: { networkType: 'vxlan', physicalNetwork: null, segmentationId: 7 },
    status: 'ACTIVE',
    subnets,
    ...extra,
  };
}

export function subnetDoc(networkId: string, cidr: string, extra: Partial<Subnet> = {}): Subnet {
  return {
    ...base(),
    networkId,
    ipVersion: 4,
    cidr,
    gatewayIp: cidr.replace(/0\/\d+$/, '1'),
    allocationPools: [{ start: cidr.replace(/0\/\d+$/, '2'), end: cidr.replace(/0\/\d+$/, '254') }],
    enableDhcp: true,
    dnsNameservers: [],
    hostRoutes: [],
    ipv6RaMode: null,
    ipv6AddressMode: null,
    ...extra,
  };
}

export function portDoc(networkId: string, deviceOwner: string, extra: Partial<Port> = {}): Port {
  return {
    ...base(),
    networkId,
    macAddress: 'fa:16:3e:00:00:01',
    fixedIps: [],
    deviceOwner,
    deviceId: '',
    adminStateUp: true,
    bindingHost: '',
    securityGroups: [],
    portSecurityEnabled: false,
    allowedAddressPairs: [],
    status: 'DOWN',
    statusReason: null,
    ...extra,
  };
}

export function routerDoc(extra: Partial<Router> = {}): Router {
  return { ...base(), adminStateUp: true, ha: false, distributed: false, routes: [], gateway: null, interfaces: [], ...extra };
}

export function fipDoc(floatingNetworkId: string, address: string, extra: Partial<FloatingIp> = {}): FloatingIp {
  return {
    ...base(),
    floatingNetworkId,
    floatingSubnetId: randomUUID(),
    floatingIpAddress: address,
    floatingPortId: randomUUID(),
    status: 'DOWN',
    statusReason: null,
    association: null,
    ...extra,
  };
}

export const rec = <D extends { id: string }>(doc: D, revision = 1): ResourceDoc<D> => ({ id: doc.id, revision, doc });
