import { randomUUID } from 'node:crypto';
import type { Lifecycle } from '../../domain/common/index.js';
import { notFound } from '../../domain/common/index.js';
import type { Decider, DomainEvent } from '../../domain/decider.js';
import { domainError, isDomainError, type DomainError, type NotFoundKind } from '../../domain/errors.js';
import type { Principal } from '../../domain/policy/index.js';
import type { Router } from '../../domain/router/index.js';
import {
  endpointGroupDecider,
  ikePolicyDecider,
  ipsecPolicyDecider,
  ipsecSiteConnectionDecider,
  ipsecSiteConnectionStreamId,
  vpnServiceDecider,
  type ConnectionFacts,
  type ConnectionInput,
  type EndpointGroup,
  type EndpointGroupFacts,
  type IkePolicyInput,
  type IpsecPolicyInput,
  type IpsecSiteConnection,
  type VpnService,
  type VpnStatus,
} from '../../domain/vpn/index.js';
import { loadOrCreateSecretKey, sealSecret, secretKeyPath, type SecretKey } from '../../store/seal/secret-key.js';
import type { EventMetadata } from '../../store/types.js';
import type { Tx } from '../command-runtime.js';
import { decideAppend } from '../plan.js';
import { refsOf, resolveReferences, type Reference } from '../references.js';
import { loadOwn, lockRow } from '../routing/own.js';
import type { Services } from '../services.js';

/**
 * VPNaaS commands. Every id a command names goes through `resolveReferences` (visible to the
 * caller, locked for share); "in use" checks read the read model inside the append transaction
 * with the resource's row locked for update, so a racing connection create waits or sees it gone.
 * The PSK is sealed here, before anything is decided or logged.
 */

const revision = (expectedRevision: number | undefined) => (expectedRevision !== undefined ? { expectedRevision } : {});
const now = (): string => new Date().toISOString();

const keys = new Map<string, SecretKey>();
/** The deployment's secret key (a file, never the database), read once per process. */
export function secretKey(s: Services): SecretKey {
  const file = secretKeyPath(s.config);
  let key = keys.get(file);
  if (!key) {
    key = loadOrCreateSecretKey(file);
    keys.set(file, key);
  }
  return key;
}

/** The PSK as neutron-vpnaas takes it: 1..255 characters (what IKE secrets allow), sealed at once. */
function sealPsk(s: Services, psk: string | undefined): string | undefined | DomainError {
  if (psk === undefined) return undefined;
  if (psk.length === 0 || psk.length > 255)
    return domainError('InvalidInput', 'Invalid input for psk. Reason: a pre-shared key of 1 to 255 characters is required.', {
      field: ['psk'],
    });
  return sealSecret(secretKey(s), psk);
}

type Kind = 'ikepolicy' | 'ipsecpolicy' | 'endpoint_group' | 'vpnservice' | 'ipsec_site_connection';
const STREAM: Readonly<Record<Kind, { prefix: string; name: NotFoundKind }>> = {
  ikepolicy: { prefix: 'ikepolicy', name: 'IKEPolicy' },
  ipsecpolicy: { prefix: 'ipsecpolicy', name: 'IPsecPolicy' },
  endpoint_group: { prefix: 'endpointgroup', name: 'VPNEndpointGroup' },
  vpnservice: { prefix: 'vpnservice', name: 'VPNService' },
  ipsec_site_connection: { prefix: 'ipsecsiteconnection', name: 'IPsecSiteConnection' },
};

/** One command on one aggregate, new or owned by the actor. */
async function onOne<C, S, E extends DomainEvent>(
  s: Services,
  tx: Tx,
  actor: Principal,
  kind: Kind,
  id: string,
  decider: Decider<C, S, E>,
  command: () => Promise<C | DomainError>,
  isNew = false,
) {
  const streamId = `${STREAM[kind].prefix}-${id}`;
  let loaded: { state: S; version: number };
  if (isNew) {
    loaded = await s.aggregates.load<S>(tx, streamId);
  } else {
    await lockRow(tx, id, 'update');
    const own = await loadOwn<{ project: string }>(s, tx, actor, STREAM[kind].prefix, id);
    if (!own || own.state.status !== 'live') return notFound(STREAM[kind].name, id);
    loaded = own as unknown as { state: S; version: number };
  }
  const c = await command();
  if (isDomainError(c)) return c;
  const append = decideAppend(decider, loaded, streamId, c);
  return isDomainError(append) ? append : { appends: [append], result: id };
}

/** Live connections whose document field `field` is `id`. */
async function connectionsUsing(tx: Tx, field: string, id: string): Promise<string[]> {
  const rows = await tx<
    { id: string }[]
  >`select id from rm_resources where kind = 'ipsec_site_connection' and doc->>${field} = ${id} order by id`;
  return rows.map((r) => r.id);
}

// ---- policies ----

export type IkePolicyCreate = IkePolicyInput & { readonly id?: string };
export type IpsecPolicyCreate = IpsecPolicyInput & { readonly id?: string };

export function createIkePolicy(s: Services, actor: Principal, input: IkePolicyCreate, metadata: EventMetadata) {
  const id = input.id ?? randomUUID();
  return s.runtime.execute(metadata, (tx) =>
    onOne(
      s,
      tx,
      actor,
      'ikepolicy',
      id,
      ikePolicyDecider,
      async () => ({ ...input, type: 'CreateIkePolicy' as const, id, project: actor.projectId, now: now() }),
      true,
    ),
  );
}

export function updateIkePolicy(
  s: Services,
  actor: Principal,
  id: string,
  changes: IkePolicyInput,
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  return s.runtime.execute(metadata, (tx) =>
    onOne(s, tx, actor, 'ikepolicy', id, ikePolicyDecider, async () => ({
      type: 'UpdateIkePolicy' as const,
      id,
      changes,
      now: now(),
      ...revision(expectedRevision),
    })),
  );
}

export function deleteIkePolicy(s: Services, actor: Principal, id: string, expectedRevision: number | undefined, metadata: EventMetadata) {
  return s.runtime.execute(metadata, (tx) =>
    onOne(s, tx, actor, 'ikepolicy', id, ikePolicyDecider, async () => ({
      type: 'DeleteIkePolicy' as const,
      id,
      usedByConnections: await connectionsUsing(tx, 'ikePolicyId', id),
      now: now(),
      ...revision(expectedRevision),
    })),
  );
}

export function createIpsecPolicy(s: Services, actor: Principal, input: IpsecPolicyCreate, metadata: EventMetadata) {
  const id = input.id ?? randomUUID();
  return s.runtime.execute(metadata, (tx) =>
    onOne(
      s,
      tx,
      actor,
      'ipsecpolicy',
      id,
      ipsecPolicyDecider,
      async () => ({ ...input, type: 'CreateIpsecPolicy' as const, id, project: actor.projectId, now: now() }),
      true,
    ),
  );
}

export function updateIpsecPolicy(
  s: Services,
  actor: Principal,
  id: string,
  changes: IpsecPolicyInput,
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  return s.runtime.execute(metadata, (tx) =>
    onOne(s, tx, actor, 'ipsecpolicy', id, ipsecPolicyDecider, async () => ({
      type: 'UpdateIpsecPolicy' as const,
      id,
      changes,
      now: now(),
      ...revision(expectedRevision),
    })),
  );
}

export function deleteIpsecPolicy(
  s: Services,
  actor: Principal,
  id: string,
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  return s.runtime.execute(metadata, (tx) =>
    onOne(s, tx, actor, 'ipsecpolicy', id, ipsecPolicyDecider, async () => ({
      type: 'DeleteIpsecPolicy' as const,
      id,
      usedByConnections: await connectionsUsing(tx, 'ipsecPolicyId', id),
      now: now(),
      ...revision(expectedRevision),
    })),
  );
}

// ---- endpoint groups ----

export interface EndpointGroupCreate {
  readonly id?: string;
  readonly name?: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly type: string;
  readonly endpoints: readonly string[];
}

export function createEndpointGroup(s: Services, actor: Principal, input: EndpointGroupCreate, metadata: EventMetadata) {
  const id = input.id ?? randomUUID();
  const { type: groupType, id: _id, ...rest } = input;
  return s.runtime.execute(metadata, (tx) =>
    onOne(
      s,
      tx,
      actor,
      'endpoint_group',
      id,
      endpointGroupDecider,
      async () => {
        let visibleSubnetIds: string[] = [];
        if (groupType === 'subnet') {
          // A subnet the caller may not see is reported like a missing one, by the decider.
          const found = await Promise.all(
            input.endpoints.map(async (e) =>
              (await resolveReferences(tx, actor, [{ kind: 'subnet', id: e, field: 'endpoints' }])) instanceof Map ? e : null,
            ),
          );
          visibleSubnetIds = found.filter((e): e is string => e !== null);
        }
        return { ...rest, type: 'CreateEndpointGroup' as const, groupType, id, project: actor.projectId, visibleSubnetIds, now: now() };
      },
      true,
    ),
  );
}

export function updateEndpointGroup(
  s: Services,
  actor: Principal,
  id: string,
  changes: { name?: string; description?: string; tags?: readonly string[] },
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  return s.runtime.execute(metadata, (tx) =>
    onOne(s, tx, actor, 'endpoint_group', id, endpointGroupDecider, async () => ({
      type: 'UpdateEndpointGroup' as const,
      id,
      changes,
      now: now(),
      ...revision(expectedRevision),
    })),
  );
}

export function deleteEndpointGroup(
  s: Services,
  actor: Principal,
  id: string,
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  return s.runtime.execute(metadata, (tx) =>
    onOne(s, tx, actor, 'endpoint_group', id, endpointGroupDecider, async () => ({
      type: 'DeleteEndpointGroup' as const,
      id,
      usedByConnections: [
        ...new Set([...(await connectionsUsing(tx, 'localEpGroupId', id)), ...(await connectionsUsing(tx, 'peerEpGroupId', id))]),
      ],
      now: now(),
      ...revision(expectedRevision),
    })),
  );
}

// ---- VPN services ----

export interface VpnServiceCreate {
  readonly id?: string;
  readonly name?: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly routerId: string;
  readonly adminStateUp?: boolean;
}

const externalV4Ip = (router: Router): string | null =>
  router.gateway?.externalFixedIps.find((f) => !f.ipAddress.includes(':'))?.ipAddress ?? null;

async function routerDoc(tx: Tx, id: string): Promise<Router | null> {
  const [row] = await tx<{ doc: Router }[]>`select doc from rm_resources where kind = 'router' and id = ${id}`;
  return row?.doc ?? null;
}

export function createVpnService(s: Services, actor: Principal, input: VpnServiceCreate, metadata: EventMetadata) {
  const id = input.id ?? randomUUID();
  const { id: _id, ...rest } = input;
  return s.runtime.execute(metadata, (tx) =>
    onOne(
      s,
      tx,
      actor,
      'vpnservice',
      id,
      vpnServiceDecider,
      async () => {
        const refs = await resolveReferences(tx, actor, [{ kind: 'router', id: input.routerId, field: 'routerId' }]);
        if (isDomainError(refs)) return refs;
        const router = await routerDoc(tx, input.routerId);
        return {
          ...rest,
          type: 'CreateVpnService' as const,
          id,
          project: actor.projectId,
          routerExternalV4Ip: router ? externalV4Ip(router) : null,
          now: now(),
        };
      },
      true,
    ),
  );
}

export function updateVpnService(
  s: Services,
  actor: Principal,
  id: string,
  changes: { name?: string; description?: string; tags?: readonly string[]; adminStateUp?: boolean },
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  return s.runtime.execute(metadata, (tx) =>
    onOne(s, tx, actor, 'vpnservice', id, vpnServiceDecider, async () => ({
      type: 'UpdateVpnService' as const,
      id,
      changes,
      now: now(),
      ...revision(expectedRevision),
    })),
  );
}

export function deleteVpnService(s: Services, actor: Principal, id: string, expectedRevision: number | undefined, metadata: EventMetadata) {
  return s.runtime.execute(metadata, (tx) =>
    onOne(s, tx, actor, 'vpnservice', id, vpnServiceDecider, async () => ({
      type: 'DeleteVpnService' as const,
      id,
      usedByConnections: await connectionsUsing(tx, 'vpnServiceId', id),
      now: now(),
      ...revision(expectedRevision),
    })),
  );
}

// ---- site connections ----

/** The API's connection input: the PSK in clear (sealed before anything else sees it). */
export type SiteConnectionInput = Omit<ConnectionInput, 'pskSealed'> & { readonly psk?: string };
export type SiteConnectionCreate = SiteConnectionInput & { readonly id?: string; readonly vpnServiceId: string };

async function groupFacts(tx: Tx, id: string): Promise<EndpointGroupFacts | null> {
  const [row] = await tx<{ doc: EndpointGroup }[]>`select doc from rm_resources where kind = 'endpoint_group' and id = ${id}`;
  if (!row) return null;
  const g = row.doc;
  if (g.type === 'cidr') return { id, type: 'cidr', cidrs: [...g.endpoints], subnetIds: [] };
  const subnets = await tx<
    { id: string; cidr: string }[]
  >`select id, doc->>'cidr' as cidr from rm_resources where kind = 'subnet' and id = any(${[...g.endpoints]}::uuid[])`;
  return { id, type: 'subnet', cidrs: subnets.map((x) => x.cidr), subnetIds: [...g.endpoints] };
}

/** Resolves (visible, locked) and reads everything a connection names. */
async function connectionFacts(
  tx: Tx,
  actor: Principal,
  named: { vpnServiceId: string; ikePolicyId?: string; ipsecPolicyId?: string; localEpGroupId?: string; peerEpGroupId?: string },
): Promise<ConnectionFacts | DomainError> {
  const refs: Reference[] = [
    { kind: 'vpnservice', id: named.vpnServiceId, field: 'vpnServiceId' },
    ...refsOf('ikepolicy', 'ikePolicyId', [named.ikePolicyId]),
    ...refsOf('ipsecpolicy', 'ipsecPolicyId', [named.ipsecPolicyId]),
    ...refsOf('endpoint_group', 'localEpGroupId', [named.localEpGroupId]),
    ...refsOf('endpoint_group', 'peerEpGroupId', [named.peerEpGroupId]),
  ];
  for (const [field, value] of Object.entries(named)) {
    if (value === undefined) return domainError('InvalidInput', `Invalid input for ${field}. Reason: required.`, { field: [field] });
  }
  const resolved = await resolveReferences(tx, actor, refs);
  if (isDomainError(resolved)) return resolved;
  const [svc] = await tx<{ doc: VpnService }[]>`select doc from rm_resources where kind = 'vpnservice' and id = ${named.vpnServiceId}`;
  if (!svc) return notFound('VPNService', named.vpnServiceId);
  const router = await routerDoc(tx, svc.doc.routerId);
  const localGroup = await groupFacts(tx, named.localEpGroupId as string);
  const peerGroup = await groupFacts(tx, named.peerEpGroupId as string);
  if (!localGroup) return { ...notFound('VPNEndpointGroup', named.localEpGroupId as string), field: ['localEpGroupId'] };
  if (!peerGroup) return { ...notFound('VPNEndpointGroup', named.peerEpGroupId as string), field: ['peerEpGroupId'] };
  return {
    service: { id: svc.doc.id, routerId: svc.doc.routerId, externalV4Ip: router ? externalV4Ip(router) : null },
    localGroup,
    peerGroup,
    routerSubnetIds: router?.interfaces.map((i) => i.subnetId) ?? [],
  };
}

export function createIpsecSiteConnection(s: Services, actor: Principal, input: SiteConnectionCreate, metadata: EventMetadata) {
  const id = input.id ?? randomUUID();
  const { id: _id, psk, ...rest } = input;
  return s.runtime.execute(metadata, (tx) =>
    onOne(
      s,
      tx,
      actor,
      'ipsec_site_connection',
      id,
      ipsecSiteConnectionDecider,
      async () => {
        const pskSealed = sealPsk(s, psk ?? '');
        if (isDomainError(pskSealed)) return pskSealed;
        const facts = await connectionFacts(tx, actor, input);
        if (isDomainError(facts)) return facts;
        return {
          ...rest,
          type: 'CreateIpsecSiteConnection' as const,
          id,
          project: actor.projectId,
          pskSealed: pskSealed ?? '',
          facts,
          now: now(),
        };
      },
      true,
    ),
  );
}

export function updateIpsecSiteConnection(
  s: Services,
  actor: Principal,
  id: string,
  changes: SiteConnectionInput,
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  const { psk, ...rest } = changes;
  return s.runtime.execute(metadata, (tx) =>
    onOne(s, tx, actor, 'ipsec_site_connection', id, ipsecSiteConnectionDecider, async () => {
      const pskSealed = sealPsk(s, psk);
      if (isDomainError(pskSealed)) return pskSealed;
      const [row] = await tx<
        { doc: IpsecSiteConnection }[]
      >`select doc from rm_resources where kind = 'ipsec_site_connection' and id = ${id}`;
      if (!row) return notFound('IPsecSiteConnection', id);
      const have = row.doc;
      const facts = await connectionFacts(tx, actor, {
        vpnServiceId: have.vpnServiceId,
        ikePolicyId: changes.ikePolicyId ?? have.ikePolicyId,
        ipsecPolicyId: changes.ipsecPolicyId ?? have.ipsecPolicyId,
        localEpGroupId: changes.localEpGroupId ?? have.localEpGroupId,
        peerEpGroupId: changes.peerEpGroupId ?? have.peerEpGroupId,
      });
      if (isDomainError(facts)) return facts;
      return {
        type: 'UpdateIpsecSiteConnection' as const,
        id,
        changes: { ...rest, ...(pskSealed !== undefined ? { pskSealed } : {}) },
        facts,
        now: now(),
        ...revision(expectedRevision),
      };
    }),
  );
}

export function deleteIpsecSiteConnection(
  s: Services,
  actor: Principal,
  id: string,
  expectedRevision: number | undefined,
  metadata: EventMetadata,
) {
  return s.runtime.execute(metadata, (tx) =>
    onOne(s, tx, actor, 'ipsec_site_connection', id, ipsecSiteConnectionDecider, async () => ({
      type: 'DeleteIpsecSiteConnection' as const,
      id,
      now: now(),
      ...revision(expectedRevision),
    })),
  );
}

/** The dataplane's word on a connection (the agent, as itself: no project check). */
export function reportIpsecSiteConnectionStatus(
  s: Services,
  id: string,
  status: VpnStatus,
  reason: string | null,
  metadata: EventMetadata,
) {
  return s.runtime.execute(metadata, async (tx) => {
    const loaded = await s.aggregates.load<Lifecycle<IpsecSiteConnection>>(tx, ipsecSiteConnectionStreamId(id));
    if (loaded.state.status !== 'live') return { appends: [], result: id };
    const append = decideAppend(ipsecSiteConnectionDecider, loaded, ipsecSiteConnectionStreamId(id), {
      type: 'ReportIpsecSiteConnectionStatus',
      id,
      status,
      reason,
      now: now(),
    });
    return isDomainError(append) ? append : { appends: [append], result: id };
  });
}
