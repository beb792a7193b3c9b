import { randomBytes, randomUUID } from 'node:crypto';
import type {
  Topology,
  TopologyFloatingIp,
  TopologyNetwork,
  TopologyPort,
  TopologyRouter,
  TopologySecurityGroupRule,
} from '../../src/projections/desired-state/index.js';

export const HOST = 'compute-1';

let ruleSeq = 0;
/** A security group rule that allows what it names (IPv4, any protocol, port and remote unless given). */
export const rule = (r: Partial<TopologySecurityGroupRule> & Pick<TopologySecurityGroupRule, 'direction'>): TopologySecurityGroupRule => ({
  id: `r${++ruleSeq}`,
  ethertype: 'IPv4',
  protocol: null,
  portRangeMin: null,
  portRangeMax: null,
  remoteIpPrefix: null,
  remoteGroupId: null,
  ...r,
});

export function mac(): string {
  const b = randomBytes(3);
  return `fa:16:3e:${[...b].map((x) => x.toString(16).padStart(2, '0')).join(':')}`;
}

export function network(opts: {
  id?: string;
  cidr: string;
  gateway: string | null;
  dhcp: boolean;
  external?: boolean;
  dns?: string[];
}): TopologyNetwork {
  const id = opts.id ?? randomUUID();
  return {
    id,
    mtu: 1500,
    external: opts.external ?? false,
    segment: { networkType: 'flat', physicalNetwork: null, segmentationId: null },
    subnets: [
      {
        id: randomUUID(),
        ipVersion: 4,
        cidr: opts.cidr,
        gatewayIp: opts.gateway,
        enableDhcp: opts.dhcp,
        dnsNameservers: opts.dns ?? [],
        hostRoutes: [],
        allocationPools: [],
      },
    ],
  };
}

export function port(
  net: TopologyNetwork,
  ip: string,
  deviceOwner: string,
  opts: { id?: string; host?: string | null; deviceId?: string } = {},
): TopologyPort {
  const subnet = net.subnets[0];
  if (!subnet) throw new Error('network without subnet');
  return {
    id: opts.id ?? randomUUID(),
    networkId: net.id,
    macAddress: mac(),
    fixedIps: [{ subnetId: subnet.id, ipAddress: ip }],
    deviceOwner,
    deviceId: opts.deviceId ?? randomUUID(),
    bindingHost: opts.host === undefined ? HOST : opts.host,
    adminStateUp: true,
  };
}

/** A tenant network with DHCP, a router to an external network, two instance ports. */
export interface Scenario {
  topology: Topology;
  ext: TopologyNetwork;
  net: TopologyNetwork;
  router: TopologyRouter;
  dhcpPort: TopologyPort;
  gwPort: TopologyPort;
  vm1: TopologyPort;
  vm2: TopologyPort;
  fip: TopologyFloatingIp;
}

export function scenario(octet = 10): Scenario {
  const ext = network({ cidr: '203.0.113.0/24', gateway: '203.0.113.1', dhcp: false, external: true });
  const net = network({ cidr: `10.${octet}.1.0/24`, gateway: `10.${octet}.1.1`, dhcp: true });
  const routerId = randomUUID();
  const dhcpPort = port(net, `10.${octet}.1.2`, 'network:dhcp');
  const riPort = port(net, `10.${octet}.1.1`, 'network:router_interface', { deviceId: routerId });
  const gwPort = port(ext, '203.0.113.10', 'network:router_gateway', { deviceId: routerId });
  const vm1 = port(net, `10.${octet}.1.11`, 'compute:nova');
  const vm2 = port(net, `10.${octet}.1.12`, 'compute:nova');
  const router: TopologyRouter = {
    id: routerId,
    adminStateUp: true,
    interfacePortIds: [riPort.id],
    gateway: { portId: gwPort.id, networkId: ext.id, enableSnat: true },
    routes: [],
  };
  const fip: TopologyFloatingIp = {
    id: randomUUID(),
    floatingIpAddress: '203.0.113.20',
    floatingNetworkId: ext.id,
    fixedIpAddress: null,
    portId: null,
    routerId: null,
  };
  return {
    topology: { networks: [ext, net], ports: [dhcpPort, riPort, gwPort, vm1, vm2], routers: [router], floatingIps: [fip] },
    ext,
    net,
    router,
    dhcpPort,
    gwPort,
    vm1,
    vm2,
    fip,
  };
}

export function withFip(s: Scenario, associated: boolean): Topology {
  const fip: TopologyFloatingIp = associated
    ? { ...s.fip, fixedIpAddress: s.vm1.fixedIps[0]?.ipAddress ?? null, portId: s.vm1.id, routerId: s.router.id }
    : s.fip;
  return { ...s.topology, floatingIps: [fip] };
}

/** A per-run prefix so parallel runs and leftovers of old runs never collide. */
export function runPrefix(): string {
  return `nlt${randomBytes(3).toString('hex')}-`;
}

/** `count` tenant networks, each with DHCP, a router to one shared external network and a FIP. */
export function largeTopology(count: number): { topology: Topology; ext: TopologyNetwork; nets: TopologyNetwork[]; vms: TopologyPort[] } {
  const ext = network({ cidr: '203.0.113.0/24', gateway: '203.0.113.1', dhcp: false, external: true });
  const networks: TopologyNetwork[] = [ext];
  const ports: TopologyPort[] = [];
  const routers: TopologyRouter[] = [];
  const floatingIps: TopologyFloatingIp[] = [];
  const nets: TopologyNetwork[] = [];
  const vms: TopologyPort[] = [];
  for (let i = 0; i < count; i++) {
    const o = 20 + i;
    const net = network({ cidr: `10.${o}.1.0/24`, gateway: `10.${o}.1.1`, dhcp: true });
    const routerId = randomUUID();
    const ri = port(net, `10.${o}.1.1`, 'network:router_interface', { deviceId: routerId });
    const gw = port(ext, `203.0.113.${10 + i}`, 'network:router_gateway', { deviceId: routerId });
    const vm = port(net, `10.${o}.1.11`, 'compute:nova');
    networks.push(net);
    nets.push(net);
    vms.push(vm);
    ports.push(port(net, `10.${o}.1.2`, 'network:dhcp'), ri, gw, vm);
    routers.push({
      id: routerId,
      adminStateUp: true,
      interfacePortIds: [ri.id],
      gateway: { portId: gw.id, networkId: ext.id, enableSnat: true },
      routes: [],
    });
    floatingIps.push({
      id: randomUUID(),
      floatingIpAddress: `203.0.113.${100 + i}`,
      floatingNetworkId: ext.id,
      fixedIpAddress: vm.fixedIps[0]?.ipAddress ?? null,
      portId: vm.id,
      routerId,
    });
  }
  return { topology: { networks, ports, routers, floatingIps }, ext, nets, vms };
}
