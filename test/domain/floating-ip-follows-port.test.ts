import { describe, it } from 'vitest';
import type { FloatingIpCommand, FloatingIpEvent } from '../../src/domain/floating-ip/index.js';
import { floatingIpDecider } from '../../src/domain/floating-ip/index.js';
import { spec } from '../support/spec.js';

// A floating IP never points at an address its port no longer holds (issue 14, Neutron parity).

const id = (n: number) => `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;
const FIP = id(1);
const EXT_NET = id(10);
const EXT_SUB = id(20);
const SUB = id(21);
const SUB2 = id(22);
const FIP_PORT = id(30);
const VM_PORT = id(31);
const OTHER_PORT = id(32);
const ROUTER = id(40);
const T0 = '2025-01-01T00:00:00.000Z';
const T1 = '2025-01-01T00:01:00.000Z';

const given = (events: readonly FloatingIpEvent[] = []) => spec(floatingIpDecider).given(events);
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
const associated: FloatingIpEvent = {
  type: 'FloatingIpAssociated',
  data: { id: FIP, portId: VM_PORT, fixedIpAddress: '10.0.0.5', routerId: ROUTER, updatedAt: T0 },
};
const change = (
  allocated: { subnetId: string; ipAddress: string }[],
  released: { subnetId: string; ipAddress: string }[],
  portId = VM_PORT,
): FloatingIpCommand => ({
  type: 'FollowFixedIpChange',
  id: FIP,
  now: T1,
  portId,
  allocated,
  released,
});

describe("floating IP when its port's fixed IPs change", () => {
  it("moves to the new address when the port's address in that subnet is replaced", () => {
    given([created, associated])
      .when(change([{ subnetId: SUB, ipAddress: '10.0.0.77' }], [{ subnetId: SUB, ipAddress: '10.0.0.5' }]))
      .then([
        { type: 'FloatingIpAssociated', data: { id: FIP, portId: VM_PORT, fixedIpAddress: '10.0.0.77', routerId: ROUTER, updatedAt: T1 } },
      ]);
  });

  it('is disassociated when the address is removed with no successor in the subnet', () => {
    const gone: FloatingIpEvent = {
      type: 'FloatingIpDisassociated',
      data: { id: FIP, portId: VM_PORT, fixedIpAddress: '10.0.0.5', routerId: ROUTER, cause: 'fixedIpRemoved', updatedAt: T1 },
    };
    given([created, associated])
      .when(change([], [{ subnetId: SUB, ipAddress: '10.0.0.5' }]))
      .then([gone]);
    // A new address in another subnet may sit behind another router: no guess, the association ends.
    given([created, associated])
      .when(change([{ subnetId: SUB2, ipAddress: '10.0.1.5' }], [{ subnetId: SUB, ipAddress: '10.0.0.5' }]))
      .then([gone]);
    // Two new addresses in the subnet: Neutron would need fixed_ip_address to choose; the association ends.
    given([created, associated])
      .when(
        change(
          [
            { subnetId: SUB, ipAddress: '10.0.0.77' },
            { subnetId: SUB, ipAddress: '10.0.0.78' },
          ],
          [{ subnetId: SUB, ipAddress: '10.0.0.5' }],
        ),
      )
      .then([gone]);
  });

  it('does nothing when its own address stays, for another port, or when not associated', () => {
    given([created, associated])
      .when(change([{ subnetId: SUB, ipAddress: '10.0.0.77' }], [{ subnetId: SUB, ipAddress: '10.0.0.6' }]))
      .thenNothing();
    given([created, associated])
      .when(change([], [{ subnetId: SUB, ipAddress: '10.0.0.5' }], OTHER_PORT))
      .thenNothing();
    given([created])
      .when(change([], [{ subnetId: SUB, ipAddress: '10.0.0.5' }]))
      .thenNothing();
  });
});
