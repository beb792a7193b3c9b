import { readdir, rm } from 'node:fs/promises';
import type { AgentConfig } from './config.js';
import type { CommandRunner } from './exec.js';
import { namespaceInode, pidsInNamespaces, terminate } from './procs.js';

/**
 * Remove everything the agent (and the lab helpers) built for this config: processes running in
 * our namespaces (dnsmasq, DHCP clients, test listeners — found by namespace, signalled by PID),
 * the namespaces (the host namespace last, taking its bridges with it) and the state files.
 * Nothing outside `<namespacePrefix>*` and the host namespace is touched.
 */
export async function wipeHost(exec: CommandRunner, config: AgentConfig): Promise<string[]> {
  let names: string[] = [];
  try {
    names = await readdir('/run/netns');
  } catch {
    names = [];
  }
  const ours = names.filter((n) => n.startsWith(config.namespacePrefix) && n !== config.hostNamespace);
  const all = [...ours, ...(names.includes(config.hostNamespace) ? [config.hostNamespace] : [])];
  const inodes = new Set<number>();
  for (const n of all) {
    const ino = await namespaceInode(n);
    if (ino !== null) inodes.add(ino);
  }
  for (const pid of await pidsInNamespaces(inodes)) await exec.mutate(`kill ${pid}`, () => terminate(pid));
  for (const n of all) await exec.run('ip', ['netns', 'del', n], { mutating: true, reject: false });
  for (const sub of ['dhcp', 'instances', 'lbaas', 'ra', 'ipsec']) {
    await exec.mutate(`remove ${sub}`, () => rm(`${config.stateDir}/${sub}`, { recursive: true, force: true }));
  }
  return all;
}
