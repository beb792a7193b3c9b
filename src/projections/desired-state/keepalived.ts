import type { KeepalivedSpec, RouteSpec, RouterUnit, VethSpec } from './host-state.js';
import { compareStrings } from './ip.js';

/**
 * An HA router's keepalived (reference 2.7, Neutron's `agent/l3/ha_router.py` and
 * `agent/linux/keepalived.py`). The router is plumbed the same on every hosting host, but the
 * addresses of its qr-/qg- ports, its floating IPs and its routes are not configured by the
 * agent: they are keepalived's virtual addresses and routes, so only the VRRP master holds them.
 * Every instance starts BACKUP with the same priority and `nopreempt`: a master keeps the role
 * until it fails, and a returning host stays standby.
 */

/** Neutron's ha_vrrp_advert_int default (seconds). */
export const DEFAULT_ADVERT_INT = 2;
const PRIORITY = 50;
const GARP_MASTER_DELAY = 60;
const NO_IPV6 = [
  { key: 'net.ipv6.conf.all.disable_ipv6', value: '1' },
  { key: 'net.ipv6.conf.default.disable_ipv6', value: '1' },
];

export function haConfDir(stateDir: string, routerId: string): string {
  return `${stateDir}/ha_confs/${routerId}`;
}

/** The primary VIP on ha-: `169.254.0.<vrid>/24` (the first free /24 of 169.254.0.0/16, reference 2.7). */
export function primaryVip(vrid: number): string {
  return `169.254.0.${vrid}/24`;
}

/**
 * keepalived calls `notify` with `INSTANCE <name> <MASTER|BACKUP|FAULT> <priority>`: the script
 * records the state where the agent reads it (Neutron's keepalived-state-change writes
 * `ha_confs/<id>/state` the same way), replacing the file whole. On MASTER it also sends
 * gratuitous ARPs for the router's addresses for a few seconds: the bridges of the overlay learned
 * the shared qr-/qg- MACs behind the tunnel while the old master spoke, and only a frame from the
 * new master's own port teaches them otherwise (keepalived's second round comes after
 * garp_master_delay, a minute later).
 */
function notifyScript(stateFile: string, vips: readonly { address: string; dev: string }[]): string {
  const arps = vips.map((v) => `      $ARPING -U -c 1 -I ${v.dev} ${v.address.split('/')[0]} >/dev/null 2>&1`);
  return [
    '#!/bin/sh',
    '# Written by the netledger agent: keepalived reports its VRRP state here.',
    `printf '%s\\n' "$3" > '${stateFile}.tmp' && mv '${stateFile}.tmp' '${stateFile}'`,
    ...(arps.length > 0
      ? [
          'if [ "$3" = MASTER ]; then',
          '  if command -v arping >/dev/null 2>&1; then ARPING=arping; else ARPING="busybox arping"; fi',
          '  (',
          '    for i in 1 2 3 4 5; do',
          ...arps,
          '      sleep 1',
          '    done',
          '  ) </dev/null >/dev/null 2>&1 &',
          'fi',
        ]
      : []),
    '',
  ].join('\n');
}

function routeLine(r: RouteSpec): string[] {
  const dest = r.destination === 'default' ? '0.0.0.0/0' : r.destination;
  // keepalived's own protocol number: the links driver manages only `proto static` routes.
  return r.nexthops.map(
    (h) =>
      `${dest}${h.via !== null ? ` via ${h.via}` : ''}${h.dev !== null ? ` dev ${h.dev}` : ''}${h.via === null ? ' scope link' : ''} protocol keepalived`,
  );
}

export interface HaRouterInput {
  readonly vrid: number;
  /** The ha- device with the HA port's address (managed by the agent: not a VIP). */
  readonly haInterface: VethSpec;
  readonly stateDir: string;
  readonly advertInt: number;
}

/** Turns a compiled router into its HA form: addresses and routes move into keepalived. */
export function haRouter(unit: RouterUnit, input: HaRouterInput): RouterUnit {
  const ha = input.haInterface.name;
  const vips: { address: string; dev: string }[] = [];
  const interfaces = unit.namespace.interfaces.map((i) => {
    for (const a of i.addresses) if (!a.includes(':')) vips.push({ address: a, dev: i.name });
    // IPv6 stays with the agent (HA routers here are IPv4: radvd and v6 VIPs are not done).
    return { ...i, addresses: i.addresses.filter((a) => a.includes(':')) };
  });
  const v4Routes = unit.namespace.routes.filter((r) => !r.destination.includes(':'));
  const routes = unit.namespace.routes.filter((r) => r.destination.includes(':'));
  const dir = haConfDir(input.stateDir, unit.routerId);
  const excluded = vips.map((v) => `${v.address} dev ${v.dev} no_track`).sort(compareStrings);
  const config = [
    'global_defs {',
    '    notification_email_from neutron@openstack.local',
    '    router_id neutron',
    '    script_user root',
    '    enable_script_security',
    '}',
    `vrrp_instance VR_${input.vrid} {`,
    '    state BACKUP',
    `    interface ${ha}`,
    `    virtual_router_id ${input.vrid}`,
    `    priority ${PRIORITY}`,
    `    garp_master_delay ${GARP_MASTER_DELAY}`,
    '    nopreempt',
    `    advert_int ${input.advertInt}`,
    '    track_interface {',
    `        ${ha}`,
    '    }',
    '    virtual_ipaddress {',
    `        ${primaryVip(input.vrid)} dev ${ha}`,
    '    }',
    ...(excluded.length > 0 ? ['    virtual_ipaddress_excluded {', ...excluded.map((l) => `        ${l}`), '    }'] : []),
    ...(v4Routes.length > 0 ? ['    virtual_routes {', ...v4Routes.flatMap(routeLine).map((l) => `        ${l}`), '    }'] : []),
    `    notify "${dir}/notify.sh"`,
    '}',
    '',
  ].join('\n');
  const keepalived: KeepalivedSpec = {
    dir,
    vrid: input.vrid,
    configFile: `${dir}/keepalived.conf`,
    pidFile: `${dir}/keepalived.pid`,
    stateFile: `${dir}/state`,
    config,
    notifyScript: notifyScript(`${dir}/state`, vips),
    args: ['-P', '-f', `${dir}/keepalived.conf`, '-p', `${dir}/keepalived.pid`, '-r', `${dir}/keepalived.pid-vrrp`],
    vips: [{ address: primaryVip(input.vrid), dev: ha }, ...vips].sort((a, b) =>
      compareStrings(`${a.dev} ${a.address}`, `${b.dev} ${b.address}`),
    ),
  };
  return {
    ...unit,
    namespace: {
      ...unit.namespace,
      // The standby's ports share their MACs with the active's: any IPv6 chatter from them (DAD,
      // MLD) would teach the overlay's bridges the wrong host. HA routers here are IPv4 only.
      sysctls: [...unit.namespace.sysctls, ...NO_IPV6].sort((a, b) => compareStrings(a.key, b.key)),
      interfaces: [...interfaces, input.haInterface].sort((a, b) => compareStrings(a.name, b.name)),
      routes,
    },
    keepalived,
  };
}
