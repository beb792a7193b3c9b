import { assertSafeName } from '../projections/desired-state/names.js';
import type { CommandRunner } from './exec.js';
import { Script } from './script.js';

/**
 * Several "hosts" on one machine, for trying the overlay out: an underlay namespace holding one
 * bridge (the physical switch), and per simulated host its host namespace (where that host's
 * agent keeps its bridges and tunnels) with a veth `ul0` into that switch carrying the host's
 * underlay address. Nothing touches the root namespace.
 */

/** The switch inside the underlay namespace. */
const SWITCH = 'ul';
/** The host namespace's underlay interface. */
export const UNDERLAY_DEVICE = 'ul0';

export async function createUnderlay(exec: CommandRunner, namespace: string): Promise<void> {
  assertSafeName('underlay namespace', namespace);
  const script = new Script()
    .command(['ip', 'netns', 'add', namespace])
    .commandWithInput(
      ['ip', '-n', namespace, '-batch', '-'],
      ['link set lo up', `link add ${SWITCH} type bridge`, `link set ${SWITCH} up`],
    );
  await exec.run('sh', ['-c', script.render()], { mutating: true });
}

/**
 * Plugs host number `index` (its switch port is `ul-<index>`) into the underlay with `address`
 * (`ip/prefixlen`), creating its host namespace if the agent has not yet.
 */
export async function addSimulatedHost(
  exec: CommandRunner,
  underlay: string,
  host: { readonly namespace: string; readonly index: number; readonly address: string },
): Promise<void> {
  assertSafeName('host namespace', host.namespace);
  if (!Number.isInteger(host.index) || host.index < 0) throw new Error(`bad host index ${host.index}`);
  if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(host.address)) throw new Error(`bad underlay address ${host.address}`);
  const port = `ul-${host.index}`;
  const script = new Script()
    .command(['sh', '-c', `[ -e /run/netns/${host.namespace} ] || ip netns add ${host.namespace}`])
    .commandWithInput(
      ['ip', '-n', underlay, '-batch', '-'],
      [`link add ${port} type veth peer name ${UNDERLAY_DEVICE} netns ${host.namespace}`, `link set ${port} master ${SWITCH} up`],
    )
    .commandWithInput(
      ['ip', '-n', host.namespace, '-batch', '-'],
      ['link set lo up', `addr add ${host.address} dev ${UNDERLAY_DEVICE}`, `link set ${UNDERLAY_DEVICE} up`],
    );
  await exec.run('sh', ['-c', script.render()], { mutating: true });
}

/** Removes the switch (and with it every host's underlay link). */
export async function removeUnderlay(exec: CommandRunner, underlay: string): Promise<void> {
  assertSafeName('underlay namespace', underlay);
  await exec.run('sh', ['-c', `[ ! -e /run/netns/${underlay} ] || ip netns del ${underlay}`], { mutating: true });
}
