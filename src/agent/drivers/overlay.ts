import type { HostUnit, OverlaySpec, UnitKey } from '../../projections/desired-state/index.js';
import { normalizeIp } from '../../projections/desired-state/ip.js';
import type { Driver } from '../driver.js';
import { Script } from '../script.js';

/**
 * VXLAN tunnels and their control-plane population (Neutron's l2population on Linux bridge):
 * per network a `vxlan-<VNI>` device in the bridge, `nolearning` and with `proxy` (the ARP/ND
 * responder), its FDB (flood entries per remote VTEP, one entry per remote MAC) and its permanent
 * neighbour entries. Runs on `network:` keys after the links driver (the bridge exists by then);
 * on the `host` key it removes tunnels whose network left the host.
 */

/** Only our devices: whatever else the host namespace holds is left alone. */
const DEVICE_PREFIX = 'vxlan-';
const FLOOD_MAC = '00:00:00:00:00:00';

export interface VxlanObservation {
  readonly name: string;
  readonly vni: number | null;
  readonly local: string | null;
  readonly port: number | null;
  readonly learning: boolean;
  readonly proxy: boolean;
  readonly master: string | null;
  readonly mtu: number;
  readonly up: boolean;
}

export interface FdbObservation {
  readonly mac: string;
  readonly dst: string;
}

export interface NeighbourObservation {
  readonly ip: string;
  readonly mac: string;
  readonly permanent: boolean;
}

export interface OverlayObservation {
  readonly devices: ReadonlyMap<string, VxlanObservation>;
  readonly fdb: ReadonlyMap<string, readonly FdbObservation[]>;
  readonly neighbours: ReadonlyMap<string, readonly NeighbourObservation[]>;
}

/** Apply order: deletions first, then the device, then what hangs off it. */
const enum Phase {
  DeleteDevice = 0,
  Device = 1,
  FdbDelete = 2,
  FdbAdd = 3,
  Neighbour = 4,
}

export interface OverlayAction {
  readonly phase: Phase;
  /** One `ip -batch` line (device and neighbour phases) or `bridge -batch` line (FDB phases). */
  readonly line: string;
}

const EMPTY: OverlayObservation = { devices: new Map(), fdb: new Map(), neighbours: new Map() };

// One process reads all three tables; sections are split on marker lines.
const READ_SCRIPT = `ns="$1"
ip -n "$ns" -j -d link show type vxlan || printf '[]'
printf '\\n@@FDB\\n'; bridge -n "$ns" -j fdb show || printf '[]'
printf '\\n@@NEIGH\\n'; ip -n "$ns" -j neigh show || printf '[]'
`;

interface IpLinkJson {
  ifname: string;
  flags?: string[];
  mtu: number;
  master?: string;
  linkinfo?: { info_kind?: string; info_data?: { id?: number; local?: string; port?: number; learning?: boolean; proxy?: boolean } };
}
interface FdbJson {
  mac: string;
  ifname?: string;
  dst?: string;
  master?: string;
}
interface NeighJson {
  dst: string;
  dev?: string;
  lladdr?: string;
  state?: string[];
}

const json = <T>(text: string): T[] => {
  const t = text.trim();
  return t === '' ? [] : (JSON.parse(t) as T[]);
};

export function parseOverlay(stdout: string): OverlayObservation {
  const [links = '', rest = ''] = stdout.split('\n@@FDB\n');
  const [fdbText = '', neighText = ''] = rest.split('\n@@NEIGH\n');
  const devices = new Map<string, VxlanObservation>();
  for (const l of json<IpLinkJson>(links)) {
    if (!l.ifname.startsWith(DEVICE_PREFIX)) continue;
    const d = l.linkinfo?.info_data ?? {};
    devices.set(l.ifname, {
      name: l.ifname,
      vni: d.id ?? null,
      local: d.local ?? null,
      port: d.port ?? null,
      learning: d.learning ?? true,
      proxy: d.proxy ?? false,
      master: l.master ?? null,
      mtu: l.mtu,
      up: (l.flags ?? []).includes('UP'),
    });
  }
  const fdb = new Map<string, FdbObservation[]>();
  // The device's own entries (`dst` set); those the bridge keeps for its port (`master`) are the bridge's.
  for (const e of json<FdbJson>(fdbText)) {
    if (!e.ifname || !devices.has(e.ifname) || e.dst === undefined || e.master !== undefined) continue;
    fdb.set(e.ifname, [...(fdb.get(e.ifname) ?? []), { mac: e.mac.toLowerCase(), dst: normalizeIp(e.dst) }]);
  }
  const neighbours = new Map<string, NeighbourObservation[]>();
  for (const n of json<NeighJson>(neighText)) {
    if (!n.dev || !devices.has(n.dev)) continue;
    neighbours.set(n.dev, [
      ...(neighbours.get(n.dev) ?? []),
      {
        ip: normalizeIp(n.dst),
        mac: (n.lladdr ?? '').toLowerCase(),
        permanent: (n.state ?? []).includes('PERMANENT'),
      },
    ]);
  }
  return { devices, fdb, neighbours };
}

export const overlayDriver: Driver<OverlayObservation, OverlayAction> = {
  name: 'overlay',

  async observe(keys, snapshot, ctx) {
    const out = new Map<UnitKey, OverlayObservation>();
    const ours = keys.filter((k) => k === 'host' || k.startsWith('network:'));
    if (ours.length === 0) return out;
    const host = snapshot.get(ctx.config.hostNamespace);
    // No tunnel device in the shared probe: nothing to read (a single-host agent pays no command).
    const any =
      host?.exists === true && !host.broken && [...host.links.values()].some((l) => l.kind === 'vxlan' && l.name.startsWith(DEVICE_PREFIX));
    const observed = any
      ? parseOverlay((await ctx.exec.run('sh', ['-c', READ_SCRIPT, 'sh', ctx.config.hostNamespace], { mutating: false })).stdout)
      : EMPTY;
    for (const k of ours) out.set(k, observed);
    return out;
  },

  diff(key, unit, observed) {
    if (key === 'host') return unit?.kind === 'host' ? diffHost(unit.bridges, observed ?? EMPTY) : [];
    if (unit?.kind !== 'network') return [];
    return diffNetwork(unit, observed ?? EMPTY);
  },

  async apply(_key, actions, ctx) {
    const ns = ctx.config.hostNamespace;
    const sorted = [...actions].sort((a, b) => a.phase - b.phase);
    const script = new Script();
    for (const phase of [Phase.DeleteDevice, Phase.Device, Phase.FdbDelete, Phase.FdbAdd, Phase.Neighbour]) {
      const lines = sorted.filter((a) => a.phase === phase).map((a) => a.line);
      if (lines.length === 0) continue;
      const tool = phase === Phase.FdbDelete || phase === Phase.FdbAdd ? 'bridge' : 'ip';
      // Deletions may find the object already gone (a bridge deleted under it): re-observation decides.
      const deleting = phase === Phase.DeleteDevice || phase === Phase.FdbDelete;
      script.commandWithInput([tool, ...(deleting ? ['-force'] : []), '-n', ns, '-batch', '-'], lines, deleting);
    }
    if (!script.empty) await ctx.exec.run('sh', ['-c', script.render()], { mutating: true });
  },

  describe(a) {
    return a.line;
  },
};

/** Tunnels of networks no longer on this host (their bridge is gone or going). */
function diffHost(bridges: readonly string[], observed: OverlayObservation): OverlayAction[] {
  const wanted = new Set(bridges);
  return [...observed.devices.values()]
    .filter((d) => d.master === null || !wanted.has(d.master))
    .map((d) => ({ phase: Phase.DeleteDevice, line: `link del ${d.name}` }));
}

function diffNetwork(unit: HostUnit & { kind: 'network' }, observed: OverlayObservation): OverlayAction[] {
  const bridge = unit.network.bridge.name;
  const spec = unit.network.overlay;
  const actions: OverlayAction[] = [];
  // Another tunnel in this bridge (the network lost its overlay, or its VNI changed): remove it.
  for (const d of observed.devices.values()) {
    if (d.master === bridge && d.name !== spec?.device) actions.push({ phase: Phase.DeleteDevice, line: `link del ${d.name}` });
  }
  if (!spec) return actions;
  const device = observed.devices.get(spec.device);
  if (!device || !deviceMatches(device, spec)) {
    if (device) actions.push({ phase: Phase.DeleteDevice, line: `link del ${spec.device}` });
    actions.push(
      {
        phase: Phase.Device,
        line: `link add ${spec.device} type vxlan id ${spec.vni} local ${spec.local} dstport ${spec.dstPort} nolearning proxy`,
      },
      { phase: Phase.Device, line: `link set ${spec.device} master ${bridge} mtu ${spec.mtu} up` },
    );
    return [...actions, ...populate(spec, [], [])];
  }
  const set: string[] = [];
  if (device.master !== bridge) set.push(`master ${bridge}`);
  if (device.mtu !== spec.mtu) set.push(`mtu ${spec.mtu}`);
  if (!device.up) set.push('up');
  if (set.length > 0) actions.push({ phase: Phase.Device, line: `link set ${spec.device} ${set.join(' ')}` });
  return [...actions, ...populate(spec, observed.fdb.get(spec.device) ?? [], observed.neighbours.get(spec.device) ?? [])];
}

function deviceMatches(d: VxlanObservation, spec: OverlaySpec): boolean {
  return d.vni === spec.vni && d.local !== null && normalizeIp(d.local) === spec.local && d.port === spec.dstPort && !d.learning && d.proxy;
}

/** FDB and neighbour entries: remove what is not wanted, add what is missing; nothing when equal. */
function populate(spec: OverlaySpec, fdb: readonly FdbObservation[], neighbours: readonly NeighbourObservation[]): OverlayAction[] {
  const actions: OverlayAction[] = [];
  const dev = spec.device;
  const entry = (mac: string, dst: string) => `${mac} dev ${dev} dst ${dst}`;
  const wanted = new Set([...spec.flood.map((dst) => entry(FLOOD_MAC, dst)), ...spec.fdb.map((e) => entry(e.mac, e.dst))]);
  const have = new Set(fdb.map((e) => entry(e.mac, e.dst)));
  for (const e of [...have].sort()) if (!wanted.has(e)) actions.push({ phase: Phase.FdbDelete, line: `fdb del ${e}` });
  // `append`: the flood MAC has one entry per remote VTEP, which `replace` would collapse.
  for (const e of wanted) if (!have.has(e)) actions.push({ phase: Phase.FdbAdd, line: `fdb append ${e}` });
  const wantedNeigh = new Map(spec.neighbours.map((n) => [n.ip, n.mac]));
  for (const n of neighbours) {
    if (n.permanent && !wantedNeigh.has(n.ip)) actions.push({ phase: Phase.Neighbour, line: `neigh del ${n.ip} dev ${dev}` });
  }
  for (const n of spec.neighbours) {
    const h = neighbours.find((o) => o.ip === n.ip);
    if (!h || !h.permanent || h.mac !== n.mac)
      actions.push({ phase: Phase.Neighbour, line: `neigh replace ${n.ip} lladdr ${n.mac} dev ${dev} nud permanent` });
  }
  return actions;
}
