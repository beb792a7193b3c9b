import { describe, expect, it } from 'vitest';
import type { AssociationFacts, CreateFloatingIp, FloatingIpCommand, FloatingIpEvent } from '../../src/domain/floating-ip/index.js';
import { floatingIpDecider, floatingIpEvents } from '../../src/domain/floating-ip/index.js';
import { spec } from '../support/spec.js';

const id = (n: number) => `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;
const FIP = id(1);
const OTHER_FIP = id(2);
const EXT_NET = id(10);
const NET = id(11);
const EXT_SUB = id(20);
const SUB = id(21);
const SUB2 = id(22);
const FIP_PORT = id(30);
const VM_PORT = id(31);
const VM_PORT2 = id(32);
const ROUTER = id(40);
const T0 = '2025-01-01T00:00:00.000Z';
const T1 = '2025-01-01T00:01:00.000Z';

const given = (events: readonly FloatingIpEvent[] = []) => spec(floatingIpDecider).given(events);

function valid(events: readonly FloatingIpEvent[]): void {
  for (const e of events) {
    const def = floatingIpEvents.find((d) => d.type === e.type);
    expect(def, e.type).toBeDefined();
    expect(def!.schema.safeParse(e.data).success, `${e.type} ${JSON.stringify(e.data)}`).toBe(true);
  }
}

const createCmd: CreateFloatingIp = {
  type: 'CreateFloatingIp',
  id: FIP,
  project: 'p1',
  isAdmin: false,
  gatewayIps: ['203.0.113.1'],
  network: { id: EXT_NET, external: true },
  allocation: { kind: 'allocated', address: '203.0.113.20', subnetId: EXT_SUB, portId: FIP_PORT },
  now: T0,
};
const created: FloatingIpEvent = {
  type: 'FloatingIpCreated',
  data: {
    id: FIP,
    project: 'p1',
    name: '',
    description: '',
    tags: [],
    floatingNetworkId: EXT_NET,
    floatingSubnetId: EXT_SUB,
    floatingIpAddress: '203.0.113.20',
    floatingPortId: FIP_PORT,
    status: 'DOWN',
    association: null,
    createdAt: T0,
  },
};
const facts = (extra: Partial<AssociationFacts> = {}): AssociationFacts => ({
  port: { id: VM_PORT, deviceOwner: 'compute:nova', fixedIps: [{ subnetId: SUB, ipAddress: '10.0.0.5' }] },
  routerBySubnet: { [SUB]: ROUTER },
  floatingIpByFixedIp: {},
  ...extra,
});
const associate = (extra: Partial<AssociationFacts> = {}): FloatingIpCommand => ({
  type: 'AssociateFloatingIp',
  id: FIP,
  now: T1,
  ...facts(extra),
});
const associated: FloatingIpEvent = {
  type: 'FloatingIpAssociated',
  data: { id: FIP, portId: VM_PORT, fixedIpAddress: '10.0.0.5', routerId: ROUTER, updatedAt: T1 },
};

describe('floating IP create', () => {
  it('creates DOWN with the allocated address', () => {
    valid(given().when(createCmd).then([created]));
  });
  it('is idempotent for a retried request', () => {
    given([created]).when(createCmd).thenNothing();
    given([created])
      .when({ ...createCmd, description: 'other' })
      .thenError('FloatingIPAlreadyExists');
  });
  it('refuses a network that is not external', () => {
    given()
      .when({ ...createCmd, network: { id: NET, external: false } })
      .thenError('BadRequest', (e) => expect(e.message).toContain(`Network ${NET} is not a valid external network`));
  });
  it('lets only an admin choose the address (create_floatingip:floating_ip_address)', () => {
    given()
      .when({ ...createCmd, floatingIpAddress: '203.0.113.20' })
      .thenError('PolicyNotAuthorized', (e) =>
        expect(e.message).toBe('(rule:create_floatingip:floating_ip_address) is disallowed by policy'),
      );
  });
  it('refuses the policy first, before saying anything about the address or the network', () => {
    given()
      .when({ ...createCmd, floatingIpAddress: '203.0.113.1', network: { id: NET, external: false } })
      .thenError('PolicyNotAuthorized');
  });
  it('never takes a subnet gateway address, not even for an admin', () => {
    given()
      .when({ ...createCmd, isAdmin: true, floatingIpAddress: '203.0.113.1', allocation: { kind: 'exhausted' } })
      .thenError('BadRequest', (e) => expect(e.field).toEqual(['floatingIpAddress']));
    given()
      .when({ ...createCmd, allocation: { kind: 'allocated', address: '203.0.113.1', subnetId: EXT_SUB, portId: FIP_PORT } })
      .thenError('BadRequest');
  });
  it('answers ExternalIpAddressExhausted when no address is left', () => {
    given()
      .when({ ...createCmd, allocation: { kind: 'exhausted' } })
      .thenError('ExternalIpAddressExhausted');
  });
  it('takes a requested address (admin) and refuses a malformed one', () => {
    const asAdmin = { ...createCmd, isAdmin: true };
    given()
      .when({ ...asAdmin, floatingIpAddress: '203.0.113.20' })
      .then([created]);
    given()
      .when({ ...asAdmin, floatingIpAddress: '203.0.113.999' })
      .thenError('InputValidationError');
    given()
      .when({ ...asAdmin, floatingIpAddress: '2001:db8::5' })
      .thenError('InvalidInput');
    given()
      .when({ ...asAdmin, floatingIpAddress: '203.0.113.21' })
      .thenError('InvalidInput');
  });
  it('may associate on create', () => {
    given()
      .when({ ...createCmd, association: facts() })
      .then((events) =>
        expect(events[0]).toMatchObject({ data: { association: { portId: VM_PORT, fixedIpAddress: '10.0.0.5', routerId: ROUTER } } }),
      );
    given()
      .when({ ...createCmd, association: facts({ routerBySubnet: {} }) })
      .thenError('ExternalGatewayForFloatingIPNotFound');
  });
});

describe('floating IP association', () => {
  it('associates with the only IPv4 address of a port', () => {
    valid(given([created]).when(associate()).then([associated]));
  });
  it('needs a router with a gateway on the floating network attached to the port subnet', () => {
    given([created])
      .when(associate({ routerBySubnet: { [SUB2]: ROUTER } }))
      .thenError('ExternalGatewayForFloatingIPNotFound');
  });
  it('refuses a fixed IP that already has a floating IP, but not its own', () => {
    given([created])
      .when(associate({ floatingIpByFixedIp: { '10.0.0.5': OTHER_FIP } }))
      .thenError('FloatingIPPortAlreadyAssociated');
    given([created])
      .when(associate({ floatingIpByFixedIp: { '10.0.0.5': FIP } }))
      .then([associated]);
  });
  it('requires fixedIpAddress when the port has several IPv4 addresses', () => {
    const port = {
      id: VM_PORT,
      deviceOwner: 'compute:nova',
      fixedIps: [
        { subnetId: SUB, ipAddress: '10.0.0.5' },
        { subnetId: SUB2, ipAddress: '10.0.1.5' },
        { subnetId: id(23), ipAddress: '2001:db8::5' },
      ],
    };
    given([created])
      .when(associate({ port }))
      .thenError('BadRequest', (e) => expect(e.message).toMatch(/multiple fixed IPv4/));
    given([created])
      .when(associate({ port, fixedIpAddress: '10.0.1.5', routerBySubnet: { [SUB2]: ROUTER } }))
      .then((events) => expect(events[0]).toMatchObject({ data: { fixedIpAddress: '10.0.1.5', routerId: ROUTER } }));
  });
  it('ignores IPv6 addresses when choosing the fixed IP', () => {
    const port = {
      id: VM_PORT,
      deviceOwner: 'compute:nova',
      fixedIps: [
        { subnetId: id(23), ipAddress: '2001:db8::5' },
        { subnetId: SUB, ipAddress: '10.0.0.5' },
      ],
    };
    given([created]).when(associate({ port })).then([associated]);
  });
  it('refuses a fixed IP the port does not have, an IPv6 one, or a port without IPv4', () => {
    given([created])
      .when(associate({ fixedIpAddress: '10.0.0.6' }))
      .thenError('BadRequest');
    given([created])
      .when(associate({ fixedIpAddress: '2001:db8::5' }))
      .thenError('BadRequest');
    given([created])
      .when(associate({ fixedIpAddress: 'x' }))
      .thenError('InputValidationError');
    given([created])
      .when(associate({ port: { id: VM_PORT, deviceOwner: 'compute:nova', fixedIps: [] } }))
      .thenError('BadRequest');
  });
  it('refuses router gateway and floating IP ports', () => {
    given([created])
      .when(
        associate({ port: { id: VM_PORT, deviceOwner: 'network:router_gateway', fixedIps: [{ subnetId: SUB, ipAddress: '10.0.0.5' }] } }),
      )
      .thenError('BadRequest');
  });
  it('re-associates to another port in one step', () => {
    const port = { id: VM_PORT2, deviceOwner: 'compute:nova', fixedIps: [{ subnetId: SUB, ipAddress: '10.0.0.9' }] };
    given([created, associated])
      .when(associate({ port }))
      .then([
        { type: 'FloatingIpAssociated', data: { id: FIP, portId: VM_PORT2, fixedIpAddress: '10.0.0.9', routerId: ROUTER, updatedAt: T1 } },
      ]);
  });
});

describe('floating IP disassociation', () => {
  const disassociated = (cause: 'request' | 'portDeleted'): FloatingIpEvent => ({
    type: 'FloatingIpDisassociated',
    data: { id: FIP, portId: VM_PORT, fixedIpAddress: '10.0.0.5', routerId: ROUTER, cause, updatedAt: T1 },
  });
  it('disassociates on request', () => {
    valid(
      given([created, associated])
        .when({ type: 'DisassociateFloatingIp', id: FIP, now: T1 })
        .then([disassociated('request')]),
    );
  });
  it('disassociates when its port is deleted, and only for that port', () => {
    given([created, associated])
      .when({ type: 'DisassociateFloatingIp', id: FIP, portId: VM_PORT, cause: 'portDeleted', now: T1 })
      .then([disassociated('portDeleted')]);
    given([created, associated])
      .when({ type: 'DisassociateFloatingIp', id: FIP, portId: VM_PORT2, cause: 'portDeleted', now: T1 })
      .thenNothing();
  });
  it('does nothing when not associated', () => {
    given([created]).when({ type: 'DisassociateFloatingIp', id: FIP, now: T1 }).thenNothing();
  });
  it('can be associated again afterwards', () => {
    given([created, associated, disassociated('request')])
      .when(associate())
      .then((e) => expect(e).toHaveLength(1));
  });
});

describe('floating IP status, update, delete', () => {
  it('records status changes from the agent, once', () => {
    const active: FloatingIpEvent = { type: 'FloatingIpStatusChanged', data: { id: FIP, status: 'ACTIVE', reason: null, updatedAt: T1 } };
    valid(given([created, associated]).when({ type: 'SetFloatingIpStatus', id: FIP, status: 'ACTIVE', now: T1 }).then([active]));
    given([created, associated, active]).when({ type: 'SetFloatingIpStatus', id: FIP, status: 'ACTIVE', now: T1 }).thenNothing();
    given([created, associated, active])
      .when({ type: 'SetFloatingIpStatus', id: FIP, status: 'ERROR', reason: 'ip addr add failed', now: T1 })
      .then([{ type: 'FloatingIpStatusChanged', data: { id: FIP, status: 'ERROR', reason: 'ip addr add failed', updatedAt: T1 } }]);
    given([created]).when({ type: 'SetFloatingIpStatus', id: FIP, status: 'DOWN', now: T1 }).thenNothing();
  });
  it('updates description and tags', () => {
    valid(
      given([created])
        .when({ type: 'UpdateFloatingIp', id: FIP, changes: { description: 'web', tags: ['a', 'a'] }, now: T1 })
        .then([{ type: 'FloatingIpUpdated', data: { id: FIP, changes: { description: 'web', tags: ['a'] }, updatedAt: T1 } }]),
    );
    given([created, associated])
      .when({ type: 'UpdateFloatingIp', id: FIP, changes: { description: 'x' }, expectedRevision: 0, now: T1 })
      .thenError('RevisionNumberConstraintFailed');
  });
  it('deletes with what the dataplane must undo, then answers FloatingIPNotFound', () => {
    const deleted: FloatingIpEvent = {
      type: 'FloatingIpDeleted',
      data: {
        id: FIP,
        floatingNetworkId: EXT_NET,
        floatingIpAddress: '203.0.113.20',
        floatingPortId: FIP_PORT,
        association: { portId: VM_PORT, fixedIpAddress: '10.0.0.5', routerId: ROUTER },
        deletedAt: T1,
      },
    };
    valid(given([created, associated]).when({ type: 'DeleteFloatingIp', id: FIP, now: T1 }).then([deleted]));
    given([created, associated, deleted]).when({ type: 'DeleteFloatingIp', id: FIP, now: T1 }).thenError('FloatingIPNotFound');
    given([created, associated, deleted]).when(associate()).thenError('FloatingIPNotFound');
    given().when({ type: 'DeleteFloatingIp', id: FIP, now: T1 }).thenError('FloatingIPNotFound');
  });
});
