import { vlanDeviceName, type HostUnit, type UnitKey } from '../../projections/desired-state/index.js';
import type { AgentConfig } from '../config.js';
import type { Driver } from '../driver.js';
import type { NamespaceObservation } from '../probe.js';

/**
 * Flat and VLAN provider networks leave the host through the interface their physical network is
 * mapped to (Neutron's Linux bridge physical_interface_mappings): the interface itself joins the
 * bridge of a flat network, a `<interface>.<VLAN id>` sub-interface the bridge of a VLAN network.
 * Observed through the shared probe (no command of its own); on the `host` key it releases
 * uplinks whose network left the host.
 */

export interface UplinkAction {
  /** Deletions and releases run before additions. */
  readonly phase: 0 | 1;
  readonly line: string;
}

export const uplinkDriver: Driver<NamespaceObservation, UplinkAction> = {
  name: 'uplink',

  async observe(keys, snapshot, ctx) {
    const out = new Map<UnitKey, NamespaceObservation>();
    const host = snapshot.get(ctx.config.hostNamespace);
    if (!host) return out;
    for (const k of keys) if (k === 'host' || k.startsWith('network:')) out.set(k, host);
    return out;
  },

  diff(key, unit, observed, ctx) {
    if (!observed || !observed.exists || observed.broken) return [];
    if (key === 'host') return unit?.kind === 'host' ? diffHost(unit.bridges, observed, ctx.config) : [];
    return unit?.kind === 'network' ? diffNetwork(unit, observed) : [];
  },

  async apply(_key, actions, ctx) {
    const sorted = [...actions].sort((a, b) => a.phase - b.phase);
    const release = sorted.filter((a) => a.phase === 0).map((a) => a.line);
    const add = sorted.filter((a) => a.phase === 1).map((a) => a.line);
    const ns = ctx.config.hostNamespace;
    if (release.length > 0)
      await ctx.exec.run('ip', ['-force', '-n', ns, '-batch', '-'], { mutating: true, input: release.join('\n') + '\n', reject: false });
    if (add.length > 0) await ctx.exec.run('ip', ['-n', ns, '-batch', '-'], { mutating: true, input: add.join('\n') + '\n' });
  },

  describe(a) {
    return a.line;
  },
};

/** `<parent>.<id>` as vlanDeviceName names it, for one of the mapped interfaces. */
function isVlanOf(name: string, parents: ReadonlySet<string>): boolean {
  const m = /\.(\d+)$/.exec(name);
  return m !== null && [...parents].some((p) => vlanDeviceName(p, Number(m[1])) === name);
}

const isOurBridge = (name: string | null): boolean => name !== null && name.startsWith('brq');

function diffHost(bridges: readonly string[], host: NamespaceObservation, config: AgentConfig): UplinkAction[] {
  const wanted = new Set(bridges);
  const parents = new Set(Object.values(config.physicalInterfaces));
  const actions: UplinkAction[] = [];
  for (const l of host.links.values()) {
    if (!isOurBridge(l.master) || wanted.has(l.master as string)) continue;
    if (parents.has(l.name)) actions.push({ phase: 0, line: `link set ${l.name} nomaster` });
    else if (l.kind === 'vlan' && isVlanOf(l.name, parents)) actions.push({ phase: 0, line: `link del ${l.name}` });
  }
  return actions;
}

function diffNetwork(unit: HostUnit & { kind: 'network' }, host: NamespaceObservation): UplinkAction[] {
  const spec = unit.network.uplink;
  if (!spec) return [];
  const bridge = unit.network.bridge.name;
  const dev = host.links.get(spec.device);
  if (spec.vlan !== null && (!dev || dev.kind !== 'vlan')) {
    return [
      ...(dev ? [{ phase: 0 as const, line: `link del ${spec.device}` }] : []),
      { phase: 1, line: `link add link ${spec.parent} name ${spec.device} type vlan id ${spec.vlan}` },
      { phase: 1, line: `link set ${spec.device} master ${bridge} up` },
    ];
  }
  // A flat uplink that is missing is a host misconfiguration: the command fails and says which.
  if (!dev || dev.master !== bridge || !dev.up) return [{ phase: 1, line: `link set ${spec.device} master ${bridge} up` }];
  return [];
}
