import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentConfig, type AgentConfig } from '../../src/agent/config.js';
import { CommandRunner } from '../../src/agent/exec.js';
import { DataplaneAgent } from '../../src/agent/index.js';
import { removeNamespace } from '../../src/agent/lab.js';
import { addSimulatedHost, createUnderlay, removeUnderlay } from '../../src/agent/underlay-lab.js';
import { wipeHost } from '../../src/agent/wipe.js';
import { startServices, type Running } from '../../src/app/bootstrap.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { namespacesWithPrefix, requireHostTools } from '../agent/netns-tools.js';
import { startTestApi, type TestApi } from './api.js';

/** One simulated host: `key` names its namespaces and state directory, `address` is its underlay address. */
export interface LabHost {
  readonly name: string;
  readonly key: string;
  readonly address: string;
  /** Its agent's configuration beyond the lab's own (namespaces, state directory, underlay address). */
  readonly config?: Partial<AgentConfig>;
}

/**
 * Several hosts on one machine, for the multi-host dataplane tests: an API of its own, an underlay
 * switch, and per host a namespace plugged into it and an agent with its own services (as another
 * machine would have). Everything is named with `prefix`, and `close` removes it all.
 */
export class HostLab {
  readonly exec = new CommandRunner();
  readonly agents = new Map<string, DataplaneAgent>();
  readonly configs = new Map<string, AgentConfig>();
  readonly underlay: string;
  private readonly services: Running[] = [];
  private stateDir = '';
  private api: TestApi | undefined;

  constructor(
    readonly prefix: string,
    /** The environment of every agent's services (e.g. NETLEDGER_DHCP_AGENTS_PER_NETWORK). */
    private readonly agentEnv: Record<string, string> = {},
  ) {
    this.underlay = `${prefix}underlay`;
  }

  /** Starts the API with `env`, the underlay and every host's namespace; no agent yet. */
  async start(env: Record<string, string>, hosts: readonly LabHost[], common: Partial<AgentConfig> = {}): Promise<TestApi> {
    await requireHostTools();
    this.stateDir = await mkdtemp(join(tmpdir(), this.prefix));
    // Each agent's state dir is below this one: dnsmasq re-reads its files as nobody on SIGHUP.
    await chmod(this.stateDir, 0o755);
    this.api = await startTestApi(env);
    await createUnderlay(this.exec, this.underlay);
    for (const [index, h] of hosts.entries()) {
      const config = agentConfig({
        namespacePrefix: `${this.prefix}${h.key}-`,
        hostNamespace: `${this.prefix}${h.key}-host`,
        stateDir: join(this.stateDir, h.key),
        underlayAddress: h.address,
        ...common,
        ...h.config,
      });
      this.configs.set(h.name, config);
      await addSimulatedHost(this.exec, this.underlay, { namespace: config.hostNamespace, index, address: `${h.address}/24` });
    }
    return this.api;
  }

  config(host: string): AgentConfig {
    const c = this.configs.get(host);
    if (!c) throw new Error(`no host ${host} in the lab`);
    return c;
  }

  /** The lab's hosts, in the order they were started, on which the namespace `name(host config)` exists. */
  async hostsWith(name: (c: AgentConfig) => string): Promise<string[]> {
    const out: string[] = [];
    for (const [host, c] of this.configs) {
      const ns = name(c);
      if ((await namespacesWithPrefix(ns)).includes(ns)) out.push(host);
    }
    return out;
  }

  /** Starts the host's agent, with services of its own. */
  async startAgent(host: string): Promise<DataplaneAgent> {
    if (!this.api) throw new Error('the lab is not started');
    const s = await startServices(
      loadConfig({ ...process.env, ...this.agentEnv, DATABASE_URL: this.api.db.url, LOG_LEVEL: 'warn' }),
      createLogger('warn', { pretty: false }),
      { poolSize: 5 },
    );
    this.services.push(s);
    const agent = new DataplaneAgent(s, { host, config: this.config(host), periodicResync: false, heartbeatCheckMs: 250 });
    await agent.start();
    this.agents.set(host, agent);
    return agent;
  }

  /**
   * Stops the agents, wipes every host, removes `namespaces` (the test's own, e.g. an external
   * client) and the underlay, stops the services and the API; answers the namespaces still named
   * with the prefix, which a test expects to be none.
   */
  async close(namespaces: readonly string[] = []): Promise<string[]> {
    for (const a of this.agents.values()) await a.stop().catch(() => undefined);
    for (const c of this.configs.values()) await wipeHost(this.exec, c);
    for (const n of namespaces) await removeNamespace(this.exec, n);
    await removeUnderlay(this.exec, this.underlay);
    for (const s of this.services) await s.stop();
    await this.api?.close();
    const left = await namespacesWithPrefix(this.prefix);
    if (this.stateDir) await rm(this.stateDir, { recursive: true, force: true });
    return left;
  }
}
