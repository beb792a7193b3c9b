import { describe, expect, it } from 'vitest';
import { DeviceOwner, MAX_FIXED_IPS_PER_PORT, candidateSubnets, portDecider, type CreatePort } from '../../src/domain/port/index.js';
import { spec } from '../support/spec.js';
import { NET, V4, PORT, T1, MAC, v4, create } from './port-fixtures.js';

// Neutron's outcomes for the port rules of issue 14 (Neutron parity), as given/when/then.

const port = spec(portDecider);

function createdData(extra: Partial<CreatePort>) {
  const [e] = port
    .given([])
    .when(create(extra))
    .then(() => {});
  if (e?.type !== 'PortCreated') throw new Error('expected PortCreated');
  return e.data;
}

describe('several automatic addresses from one subnet (Neutron: one per fixed_ips entry)', () => {
  it('asks the application for one candidate per entry', () => {
    expect(
      candidateSubnets({
        networkId: NET,
        subnets: [v4],
        requests: [{ subnetId: V4 }, { subnetId: V4 }],
        deviceOwner: '',
        macAddress: MAC,
        current: [],
      }),
    ).toEqual([V4, V4]);
  });

  it('gives each entry its own candidate', () => {
    const fixedIps = [{ subnetId: V4 }, { subnetId: V4 }];
    expect(createdData({ fixedIps, addressCandidates: { [V4]: ['10.0.0.57', '10.0.0.58'] } }).fixedIps).toEqual([
      { subnetId: V4, ipAddress: '10.0.0.57' },
      { subnetId: V4, ipAddress: '10.0.0.58' },
    ]);
  });

  it('never gives two entries the same address, and fails like an exhausted pool when candidates run out', () => {
    port
      .given([])
      .when(create({ fixedIps: [{ subnetId: V4 }, { subnetId: V4 }], addressCandidates: { [V4]: ['10.0.0.57', '10.0.0.57'] } }))
      .thenError('IpAddressGenerationFailure');
    port
      .given([])
      .when(create({ fixedIps: [{ subnetId: V4 }, { subnetId: V4 }], addressCandidates: { [V4]: ['10.0.0.57'] } }))
      .thenError('IpAddressGenerationFailure');
  });

  it('on update keeps the address it holds in the subnet and adds a second one', () => {
    const created = port
      .given([])
      .when(create())
      .then(() => {});
    port
      .given(created)
      .when({
        type: 'UpdatePort',
        id: PORT,
        now: T1,
        changes: { fixedIps: [{ subnetId: V4 }, { subnetId: V4 }] },
        subnets: [v4],
        addressCandidates: { [V4]: ['10.0.0.99'] },
      })
      .then([
        {
          type: 'FixedIpsChanged',
          data: {
            id: PORT,
            networkId: NET,
            updatedAt: T1,
            fixedIps: [
              { subnetId: V4, ipAddress: '10.0.0.57' },
              { subnetId: V4, ipAddress: '10.0.0.99' },
            ],
            allocated: [{ subnetId: V4, ipAddress: '10.0.0.99' }],
            released: [],
          },
        },
      ]);
  });
});

describe('many fixed IPs on one port (Neutron Zed has no max_fixed_ips_per_port)', () => {
  it('accepts more than the old default of 5', () => {
    const eight = [2, 3, 4, 5, 6, 7, 8, 9].map((n) => ({ ipAddress: `10.0.0.${n}` }));
    expect(createdData({ fixedIps: eight }).fixedIps).toHaveLength(8);
  });

  it('bounds the list only as every input list is bounded', () => {
    expect(MAX_FIXED_IPS_PER_PORT).toBe(1000);
    port
      .given([])
      .when(create({ fixedIps: Array.from({ length: MAX_FIXED_IPS_PER_PORT + 1 }, () => ({ subnetId: V4 })) }))
      .thenError('InvalidInput', (e) => {
        expect(e.field).toEqual(['fixedIps']);
      });
  });
});

describe('port security of trusted (network:*) ports', () => {
  it("is off for a router interface, a DHCP port and a gateway port, as Neutron's port-security extension decides", () => {
    for (const deviceOwner of [DeviceOwner.routerInterface, DeviceOwner.dhcp, DeviceOwner.routerGateway]) {
      const data = createdData({ deviceOwner, securityGroups: undefined });
      expect(data.portSecurityEnabled).toBe(false);
      expect(data.securityGroups).toEqual([]);
    }
  });

  it("stays the network's setting (or the request's) for any other port", () => {
    expect(createdData({}).portSecurityEnabled).toBe(true);
    expect(createdData({ deviceOwner: 'compute:nova' }).portSecurityEnabled).toBe(true);
    expect(createdData({ portSecurityEnabled: false, securityGroups: [] }).portSecurityEnabled).toBe(false);
  });
});

describe('malformed values name their field (InputValidationError)', () => {
  it('for a MAC, a fixed IP and an allowed address pair', () => {
    port
      .given([])
      .when(create({ macAddress: 'fa:16:3e:zz:00:01' }))
      .thenError('InputValidationError', (e) => expect(e.field).toEqual(['macAddress']));
    port
      .given([])
      .when(create({ fixedIps: [{ subnetId: V4 }, { ipAddress: '10.0.0' }] }))
      .thenError('InputValidationError', (e) => expect(e.field).toEqual(['fixedIps', '1', 'ipAddress']));
    port
      .given([])
      .when(create({ allowedAddressPairs: [{ ipAddress: '10.0.0.9', macAddress: 'nope' }] }))
      .thenError('InputValidationError', (e) => expect(e.field).toEqual(['allowedAddressPairs', '0', 'macAddress']));
  });

  it("while an address of the wrong subnet keeps Neutron's own code", () => {
    port
      .given([])
      .when(create({ fixedIps: [{ ipAddress: '10.9.9.9' }] }))
      .thenError('InvalidIpForNetwork');
  });
});
