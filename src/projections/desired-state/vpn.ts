import { canonicalCidr, compareCidr, compareStrings, ipVersion, normalizeIp } from './ip.js';
import type { NamingOptions } from './names.js';
import type { TopologyVpnConnection } from './topology.js';
import type { IpsecMode } from '../../domain/agent/index.js';

/**
 * VPNaaS on a router (reference 6.2): one strongSwan charon per router namespace, configured with
 * swanctl. Neutron's strongSwan driver writes ipsec.conf for the stroke starter; swanctl.conf says
 * the same things in the vici vocabulary, and lets the agent load and unload connections without
 * restarting charon.
 */

/** How ESP is done: by the kernel (xfrm + esp4), or in charon over a TUN device (kernel-libipsec). */
export type { IpsecMode };

export interface VpnConnectionSpec {
  /** The connection id: swanctl's connection and child name. */
  readonly name: string;
  readonly localAddress: string;
  readonly peerAddress: string;
  readonly localId: string;
  readonly peerId: string;
  readonly psk: string;
  readonly localCidrs: readonly string[];
  readonly peerCidrs: readonly string[];
  readonly ikeVersion: 1 | 2;
  readonly ikeProposal: string;
  readonly ikeLifetimeSeconds: number;
  /** `esp` or `ah` proposals (ah-esp: both). */
  readonly espProposal: string | null;
  readonly ahProposal: string | null;
  readonly childLifetimeSeconds: number;
  readonly mode: 'tunnel' | 'transport';
  /** null: no dead peer detection. */
  readonly dpd: { readonly action: 'trap' | 'clear' | 'restart'; readonly delay: number; readonly timeout: number } | null;
  /** `start`: initiate on load (bi-directional); `none`: only answer (response-only). */
  readonly startAction: 'start' | 'none';
}

export interface RouterVpnSpec {
  /** `<stateDir>/ipsec/<router id>`: strongswan.conf, swanctl.conf, run/ (pid, vici socket), charon.log. */
  readonly dir: string;
  /** Sorted by name. */
  readonly connections: readonly VpnConnectionSpec[];
}

/** A (local, peer) CIDR pair whose traffic must leave unNATed, into the tunnel. */
export interface VpnBypass {
  readonly local: string;
  readonly peer: string;
}

export const ipsecDir = (naming: NamingOptions, routerId: string): string => `${naming.stateDir}/ipsec/${routerId}`;

export function vpnPaths(dir: string) {
  return {
    strongswanConf: `${dir}/strongswan.conf`,
    swanctlConf: `${dir}/swanctl.conf`,
    /** Bind-mounted over /run in charon's own mount namespace: its pid file path is compiled in. */
    run: `${dir}/run`,
    pid: `${dir}/run/charon.pid`,
    vici: `${dir}/run/charon.vici`,
    log: `${dir}/charon.log`,
    /** Digest of the swanctl.conf charon last loaded. */
    loaded: `${dir}/loaded`,
  };
}

const CIPHERS: Readonly<Record<string, string>> = {
  '3des': '3des',
  'aes-128': 'aes128',
  'aes-192': 'aes192',
  'aes-256': 'aes256',
  'aes-128-ctr': 'aes128ctr',
  'aes-192-ctr': 'aes192ctr',
  'aes-256-ctr': 'aes256ctr',
};
const INTEGRITY: Readonly<Record<string, string>> = {
  sha1: 'sha1',
  sha256: 'sha256',
  sha384: 'sha384',
  sha512: 'sha512',
  'aes-xcbc': 'aesxcbc',
  'aes-cmac': 'aescmac',
};
const DH_GROUPS: Readonly<Record<string, string>> = {
  group2: 'modp1024',
  group5: 'modp1536',
  group14: 'modp2048',
  group15: 'modp3072',
  group16: 'modp4096',
  group19: 'ecp256',
  group20: 'ecp384',
  group21: 'ecp521',
};

function proposal(encryption: string | null, auth: string, pfs: string): string {
  const parts = [...(encryption !== null ? [CIPHERS[encryption] ?? encryption] : []), INTEGRITY[auth] ?? auth];
  if (pfs !== 'none' && pfs !== '') parts.push(DH_GROUPS[pfs] ?? pfs);
  return parts.join('-');
}

function connectionSpec(c: TopologyVpnConnection, localAddress: string): VpnConnectionSpec {
  const t = c.ipsec.transformProtocol;
  return {
    name: c.id,
    localAddress,
    peerAddress: normalizeIp(c.peerAddress),
    localId: c.localId ?? localAddress,
    peerId: c.peerId,
    psk: c.psk,
    localCidrs: c.localCidrs.map(canonicalCidr).sort(compareCidr),
    peerCidrs: c.peerCidrs.map(canonicalCidr).sort(compareCidr),
    ikeVersion: c.ike.ikeVersion === 'v2' ? 2 : 1,
    ikeProposal: proposal(c.ike.encryptionAlgorithm, c.ike.authAlgorithm, c.ike.pfs),
    ikeLifetimeSeconds: c.ike.lifetimeSeconds,
    espProposal: t === 'ah' ? null : proposal(c.ipsec.encryptionAlgorithm, c.ipsec.authAlgorithm, c.ipsec.pfs),
    ahProposal: t === 'esp' ? null : proposal(null, c.ipsec.authAlgorithm, c.ipsec.pfs),
    childLifetimeSeconds: c.ipsec.lifetimeSeconds,
    mode: c.ipsec.encapsulationMode,
    dpd:
      c.dpd.action === 'disabled'
        ? null
        : {
            action: c.dpd.action === 'hold' ? 'trap' : c.dpd.action === 'clear' ? 'clear' : 'restart',
            delay: c.dpd.interval,
            timeout: c.dpd.timeout,
          },
    startAction: c.initiator === 'bi-directional' ? 'start' : 'none',
  };
}

/**
 * The router's VPN, and the CIDR pairs its NAT must let through. Only IPv4 site connections on a
 * router with an external IPv4 address are built (the API refuses the rest).
 */
export function compileRouterVpn(
  all: readonly TopologyVpnConnection[],
  routerId: string,
  gatewayIp: string | undefined,
  naming: NamingOptions,
): { vpn: RouterVpnSpec; bypass: VpnBypass[] } | null {
  if (gatewayIp === undefined) return null;
  const connections = all
    .filter((c) => c.routerId === routerId && c.adminStateUp && ipVersion(c.peerAddress) === 4)
    .map((c) => connectionSpec(c, normalizeIp(gatewayIp)))
    .sort((a, b) => compareStrings(a.name, b.name));
  if (connections.length === 0) return null;
  const pairs = new Map<string, VpnBypass>();
  for (const c of connections) {
    for (const local of c.localCidrs) for (const peer of c.peerCidrs) pairs.set(`${local}>${peer}`, { local, peer });
  }
  const bypass = [...pairs.values()].sort((a, b) => compareCidr(a.local, b.local) || compareCidr(a.peer, b.peer));
  return { vpn: { dir: ipsecDir(naming, routerId), connections }, bypass };
}

const PLUGINS = 'random nonce aes sha1 sha2 hmac md5 xcbc pem pkcs1 x509 revocation constraints pubkey gmp kdf socket-default vici updown';

/**
 * charon's own configuration: the plugins it needs and nothing from /etc (the host's
 * strongswan.d would load a different set), its vici socket in `run/`. With libipsec, charon does
 * ESP itself over its `ipsec0` TUN device and routes the peer CIDRs there (table 220).
 */
export function renderStrongswanConf(dir: string, mode: IpsecMode): string {
  const p = vpnPaths(dir);
  const kernel = mode === 'libipsec' ? 'kernel-libipsec kernel-netlink' : 'kernel-netlink';
  return [
    'charon {',
    '  load_modular = no',
    `  load = ${PLUGINS} ${kernel}`,
    '  install_virtual_ip = no',
    '  plugins {',
    `    vici {\n      socket = unix://${p.vici}\n    }`,
    '  }',
    '  filelog {',
    `    log {\n      path = ${p.log}\n      default = 1\n      ike_name = yes\n      flush_line = yes\n      time_format = %F %T\n    }`,
    '  }',
    '}',
    'swanctl {',
    '  load = random pem pkcs1 x509 pubkey',
    '}',
    '',
  ].join('\n');
}

const quote = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/**
 * All connections and their secrets. swanctl loads it whole (`--load-all --file`): connections
 * missing from it are unloaded, changed ones replaced (charon re-applies their start action).
 * libipsec only does UDP-encapsulated ESP, so there the connection forces encapsulation.
 */
export function renderSwanctlConf(spec: RouterVpnSpec, mode: IpsecMode): string {
  const lines = ['connections {'];
  for (const c of spec.connections) {
    lines.push(
      `  ${c.name} {`,
      `    version = ${c.ikeVersion}`,
      `    local_addrs = ${c.localAddress}`,
      `    remote_addrs = ${c.peerAddress}`,
      `    proposals = ${c.ikeProposal}`,
      `    rekey_time = ${c.ikeLifetimeSeconds}s`,
      '    keyingtries = 0',
      '    mobike = no',
      `    encap = ${mode === 'libipsec' ? 'yes' : 'no'}`,
      ...(c.dpd ? [`    dpd_delay = ${c.dpd.delay}s`, `    dpd_timeout = ${c.dpd.timeout}s`] : []),
      `    local {\n      auth = psk\n      id = ${quote(c.localId)}\n    }`,
      `    remote {\n      auth = psk\n      id = ${quote(c.peerId)}\n    }`,
      '    children {',
      `      ${c.name} {`,
      `        local_ts = ${c.localCidrs.join(',')}`,
      `        remote_ts = ${c.peerCidrs.join(',')}`,
      ...(c.espProposal ? [`        esp_proposals = ${c.espProposal}`] : []),
      ...(c.ahProposal ? [`        ah_proposals = ${c.ahProposal}`] : []),
      `        mode = ${c.mode}`,
      `        life_time = ${c.childLifetimeSeconds}s`,
      ...(c.dpd ? [`        dpd_action = ${c.dpd.action}`] : []),
      `        start_action = ${c.startAction}`,
      '        close_action = none',
      '      }',
      '    }',
      '  }',
    );
  }
  lines.push('}', 'secrets {');
  for (const c of spec.connections) {
    lines.push(
      `  ike-${c.name} {`,
      `    id-local = ${quote(c.localId)}`,
      `    id-peer = ${quote(c.peerId)}`,
      `    secret = ${quote(c.psk)}`,
      '  }',
    );
  }
  lines.push('}', '');
  return lines.join('\n');
}
