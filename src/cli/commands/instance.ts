import type { Command } from 'commander';
import { Option } from 'commander';
import { agentConfig, agentConfigFrom } from '../../agent/config.js';
import { CommandRunner } from '../../agent/exec.js';
import { plugPort, unplugPort } from '../../agent/instances.js';
import { plugInstance } from '../../agent/lab.js';
import { setup, withServices } from '../context.js';

/**
 * `netledger instance plug|unplug <port-uuid>`: a lab instance (a namespace `<prefix>vm-<port>`)
 * for a compute port, plugged into its network's bridge, addressed by DHCP from our dnsmasq.
 */
export function instanceCommands(program: Command): void {
  const instance = program.command('instance').description('lab instances for compute ports (root)');
  instance
    .command('plug')
    .description('plug an instance for a compute port and wait for its DHCP lease; prints the lease as JSON')
    .argument('<port-uuid>')
    .addOption(new Option('--client <client>', 'DHCP client').choices(['udhcpc', 'dhclient']))
    .option('--timeout <ms>', 'how long to wait for the lease', '15000')
    .option('--network <uuid>', 'with --mac: plug without reading the port from the database')
    .option('--mac <mac>', "with --network: the instance's MAC address")
    .action(async (portId: string, o: { client?: 'udhcpc' | 'dhclient'; timeout: string; network?: string; mac?: string }) => {
      const options = { timeoutMs: Number(o.timeout), ...(o.client ? { client: o.client } : {}) };
      if (o.network && o.mac) {
        const { config } = setup();
        const plugged = await plugInstance(new CommandRunner(), agentConfig(agentConfigFrom(config)), {
          portId,
          networkId: o.network,
          mac: o.mac,
          ...options,
        });
        console.log(JSON.stringify(plugged));
        return;
      }
      await withServices(
        async (s) => {
          const plugged = await plugPort(s.sql, new CommandRunner(), agentConfig(agentConfigFrom(s.config)), portId, options);
          console.log(JSON.stringify(plugged));
        },
        { quietLog: true },
      );
    });
  instance
    .command('unplug')
    .description("stop the instance's DHCP client and remove its namespace")
    .argument('<port-uuid>')
    .action(async (portId: string) => {
      const { config } = setup();
      await unplugPort(new CommandRunner(), agentConfig(agentConfigFrom(config)), portId);
    });
}
