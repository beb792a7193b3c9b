import { assertSafeName } from '../projections/desired-state/names.js';
import type { CommandRunner } from './exec.js';
import { Script } from './script.js';

/**
 * Several "hosts" on one machine, for trying the overlay out: an underlay namespace holding two
 * bridges, the physical switch of the tunnels and the switch of the external (provider) network,
 * and per simulated host its host namespace (where that host's agent keeps its bridges and
 * tunnels) with a veth `ul0` into the first carrying the host's underlay address and a veth
 * `ex0`, without address, into the second (map a flat physical network to it). Nothing touches
 * the root namespace.
 */

/** The switches inside the underlay namespace. */
const SWITCH = 'ul';
const EXTERNAL_SWITCH = 'ex';
/** The host namespace's underlay interface. */
export const UNDERLAY_DEVICE = 'ul0';
/** The host namespace's interface into the external switch (for NETLEDGER_PHYSICAL_INTERFACE_MAPPINGS). */
export const EXTERNAL_DEVICE = 'ex0';

export async function createUnderlay(exec: CommandRunner, namespace: string): Promise<void> {
  assertSafeName('underlay namespace', namespace);
  const script = new Script()
    .command(['ip', 'netns', 'add', namespace])
    .commandWithInput(
      ['ip', '-n', namespace, '-batch', '-'],
      [
        'link set lo up',
        `link add ${SWITCH} type bridge`,
        `link set ${SWITCH} up`,
        `link add ${EXTERNAL_SWITCH} type bridge`,
        `link set ${EXTERNAL_SWITCH} up`,
      ],
    );
  await exec.run('sh', ['-c', script.render()], { mutating: true });
}

/** The underlay switch's port towards host number `index`: capture there what reaches that host. */
export const underlaySwitchPort = (index: number): string => `ul-${index}`;

/**
 * Plugs host number `index` (its switch ports are `ul-<index>` and `ex-<index>`) into the
 * underlay with `address` (`ip/prefixlen`) and into the external switch, creating its host
 * namespace if the agent has not yet.
 */
export async function addSimulatedHost(
  exec: CommandRunner,
  underlay: string,
  host: { readonly namespace: string; readonly index: number; readonly address: string },
): Promise<void> {
  assertSafeName('host namespace', host.namespace);
  if (!Number.isInteger(host.index) || host.index < 0) throw new Error(`bad host index ${host.index}`);
  if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(host.address)) throw new Error(`bad underlay address ${host.address}`);
  const port = underlaySwitchPort(host.index);
  const ext = `${EXTERNAL_SWITCH}-${host.index}`;
  const script = new Script()
    .command(['sh', '-c', `[ -e /run/netns/${host.namespace} ] || ip netns add ${host.namespace}`])
    .commandWithInput(
      ['ip', '-n', underlay, '-batch', '-'],
      [
        `link add ${port} type veth peer name ${UNDERLAY_DEVICE} netns ${host.namespace}`,
        `link set ${port} master ${SWITCH} up`,
        `link add ${ext} type veth peer name ${EXTERNAL_DEVICE} netns ${host.namespace}`,
        `link set ${ext} master ${EXTERNAL_SWITCH} up`,
      ],
    )
    .commandWithInput(
      ['ip', '-n', host.namespace, '-batch', '-'],
      [
        'link set lo up',
        `addr add ${host.address} dev ${UNDERLAY_DEVICE}`,
        `link set ${UNDERLAY_DEVICE} up`,
        `link set ${EXTERNAL_DEVICE} up`,
      ],
    );
  await exec.run('sh', ['-c', script.render()], { mutating: true });
}

/**
 * A machine on the external network: namespace `namespace` with `eth0` on the external switch,
 * holding `address` (`ip/prefixlen`). Removed with removeNamespace (lab.ts).
 */
export async function addExternalClient(
  exec: CommandRunner,
  underlay: string,
  client: { readonly namespace: string; readonly address: string },
): Promise<void> {
  assertSafeName('external client namespace', client.namespace);
  if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(client.address)) throw new Error(`bad external address ${client.address}`);
  const script = new Script()
    .command(['ip', 'netns', 'add', client.namespace])
    .commandWithInput(
      ['ip', '-n', underlay, '-batch', '-'],
      [`link add ex-client type veth peer name eth0 netns ${client.namespace}`, `link set ex-client master ${EXTERNAL_SWITCH} up`],
    )
    .commandWithInput(
      ['ip', '-n', client.namespace, '-batch', '-'],
      ['link set lo up', `addr add ${client.address} dev eth0`, 'link set eth0 up'],
    );
  await exec.run('sh', ['-c', script.render()], { mutating: true });
}

/** Removes the switches (and with them every host's underlay and external links). */
export async function removeUnderlay(exec: CommandRunner, underlay: string): Promise<void> {
  assertSafeName('underlay namespace', underlay);
  await exec.run('sh', ['-c', `[ ! -e /run/netns/${underlay} ] || ip netns del ${underlay}`], { mutating: true });
}
