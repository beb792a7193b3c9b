import type { AgentConfig } from './config.js';
import type { CommandRunner } from './exec.js';
import { plugInstance, unplugInstance, type DhcpClient, type PluggedInstance } from './lab.js';
import type { Queryable } from '../db/sql.js';
import type { Network } from '../domain/network/index.js';
import type { Port } from '../domain/port/index.js';

/**
 * Lab instances for compute ports: what Nova would plug. The port's network, MAC and MTU come
 * from the read model; the address comes from our dnsmasq over DHCP.
 */
export async function plugPort(
  q: Queryable,
  exec: CommandRunner,
  config: AgentConfig,
  portId: string,
  options: { client?: DhcpClient; timeoutMs?: number } = {},
): Promise<PluggedInstance> {
  if (!/^[0-9a-f-]{36}$/i.test(portId)) throw new Error(`not a port id: ${portId}`);
  const [port] = await q<{ doc: Port }[]>`select doc from rm_resources where id = ${portId} and kind = 'port'`;
  if (!port) throw new Error(`port ${portId} not found`);
  if (!port.doc.deviceOwner.startsWith('compute:'))
    throw new Error(`port ${portId} is a ${port.doc.deviceOwner || 'unowned'} port, not a compute port`);
  const [network] = await q<{ doc: Network }[]>`select doc from rm_resources where id = ${port.doc.networkId} and kind = 'network'`;
  return plugInstance(exec, config, {
    portId,
    networkId: port.doc.networkId,
    mac: port.doc.macAddress,
    ...(network ? { mtu: network.doc.mtu } : {}),
    ...options,
  });
}

export async function unplugPort(exec: CommandRunner, config: AgentConfig, portId: string): Promise<void> {
  if (!/^[0-9a-f-]{36}$/i.test(portId)) throw new Error(`not a port id: ${portId}`);
  await unplugInstance(exec, config, portId);
}
