import type { EndpointGroup, IkePolicy, IpsecPolicy, IpsecSiteConnection, VpnService } from '../../domain/vpn/index.js';
import type { TopologyVpnConnection } from '../desired-state/index.js';
import { docsOf, type TopologyFragment, type TopologyPart, type TopologySource } from './source.js';

/**
 * Site connections with everything they name resolved: the service's router, both policies,
 * the local subnets' CIDRs and the peer CIDRs, and the PSK unsealed with `unseal` (the agent's
 * secret key). A connection whose references lag behind, or whose PSK this key cannot open, is
 * left out: the dataplane never runs it with a wrong secret.
 */
export function vpnConnectionsToTopology(
  connections: readonly IpsecSiteConnection[],
  services: readonly VpnService[],
  ikePolicies: readonly IkePolicy[],
  ipsecPolicies: readonly IpsecPolicy[],
  groups: readonly EndpointGroup[],
  subnetCidrs: ReadonlyMap<string, string>,
  unseal: (sealed: string) => string | null,
): TopologyVpnConnection[] {
  const byId = <T extends { id: string }>(list: readonly T[]) => new Map(list.map((x) => [x.id, x]));
  const [svc, ike, ipsec, group] = [byId(services), byId(ikePolicies), byId(ipsecPolicies), byId(groups)];
  return connections.flatMap((c): TopologyVpnConnection[] => {
    const s = svc.get(c.vpnServiceId);
    const i = ike.get(c.ikePolicyId);
    const p = ipsec.get(c.ipsecPolicyId);
    const local = group.get(c.localEpGroupId);
    const peer = group.get(c.peerEpGroupId);
    const psk = unseal(c.pskSealed);
    if (!s || !i || !p || !local || !peer || psk === null) return [];
    const localCidrs = local.endpoints.flatMap((id) => subnetCidrs.get(id) ?? []);
    return [
      {
        id: c.id,
        routerId: s.routerId,
        adminStateUp: c.adminStateUp && s.adminStateUp,
        peerAddress: c.peerAddress,
        peerId: c.peerId,
        localId: c.localId === '' ? null : c.localId,
        psk,
        localCidrs,
        peerCidrs: [...peer.endpoints],
        initiator: c.initiator,
        dpd: c.dpd,
        ike: {
          ikeVersion: i.ikeVersion,
          authAlgorithm: i.authAlgorithm,
          encryptionAlgorithm: i.encryptionAlgorithm,
          pfs: i.pfs,
          lifetimeSeconds: i.lifetime.value,
        },
        ipsec: {
          transformProtocol: p.transformProtocol,
          encapsulationMode: p.encapsulationMode,
          authAlgorithm: p.authAlgorithm,
          encryptionAlgorithm: p.encryptionAlgorithm,
          pfs: p.pfs,
          lifetimeSeconds: p.lifetime.value,
        },
      },
    ];
  });
}

/** The VPN part of a topology build; the agent registers it with its secret key. */
export function vpnTopologyPart(unseal: (sealed: string) => string | null): TopologyPart {
  return async (source: TopologySource): Promise<TopologyFragment> => {
    const connections = await docsOf<IpsecSiteConnection>(source, 'ipsec_site_connection');
    if (connections.length === 0) return {};
    const subnets = await docsOf<{ id: string; cidr: string }>(source, 'subnet');
    return {
      vpnConnections: vpnConnectionsToTopology(
        connections,
        await docsOf<VpnService>(source, 'vpnservice'),
        await docsOf<IkePolicy>(source, 'ikepolicy'),
        await docsOf<IpsecPolicy>(source, 'ipsecpolicy'),
        await docsOf<EndpointGroup>(source, 'endpoint_group'),
        new Map(subnets.map((s) => [s.id, s.cidr])),
        unseal,
      ),
    };
  };
}
