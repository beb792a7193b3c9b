import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * Neutron's L3 agent_mode: `legacy` hosts whole routers (centralized), `dvr` is a compute host
 * that routes its own instances' traffic for distributed routers (east-west and floating IPs),
 * `dvr_snat` is a network node that also holds distributed routers' centralized SNAT.
 */
export const agentModeSchema = z.enum(['legacy', 'dvr', 'dvr_snat']);
export type AgentMode = z.infer<typeof agentModeSchema>;

/**
 * Where the host does IPsec's ESP: in the kernel (xfrm), or in charon's userspace kernel-libipsec
 * when the kernel has no ESP. Found by the agent at start (drivers/vpn.ts), registered with it.
 */
export const ipsecModeSchema = z.enum(['kernel', 'libipsec']);
export type IpsecMode = z.infer<typeof ipsecModeSchema>;
export const DEFAULT_AGENT_MODE: AgentMode = 'legacy';

/** Neutron's default dvr_base_mac: locally administered, apart from port MACs (fa:16:3e). */
export const DVR_BASE_MAC = 'fa:16:3f';

const macPattern = /^fa:16:3f(:[0-9a-f]{2}){3}$/;
export const dvrHostMacSchema = z.string().regex(macPattern);

/**
 * A host's DVR MAC (Neutron's dvr_host_mac): what a distributed router's frames carry as their
 * source on the wire instead of the gateway MAC every host shares. Neutron draws it at random
 * and retries on the unique constraint; here it is the host name's digest, probing upwards past
 * MACs other hosts already hold, so a host keeps its MAC across restarts and two hosts only
 * collide if they register at the same instant with colliding digests.
 */
export function allocateDvrHostMac(host: string, taken: ReadonlySet<string>): string {
  const start = createHash('sha1').update(`netledger-dvr-mac:${host}`).digest().readUIntBE(0, 3);
  for (let i = 0; i < 0x1000000; i++) {
    const n = (start + i) % 0x1000000;
    const hex = n.toString(16).padStart(6, '0');
    const mac = `${DVR_BASE_MAC}:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}`;
    if (!taken.has(mac)) return mac;
  }
  throw new Error('no DVR MAC left');
}
