import { describe, expect, it } from 'vitest';
import { portDecider, portEvents, type PortEvent, type UpdatePort } from '../../src/domain/port/index.js';
import type { SubnetFacts } from '../../src/domain/subnet/index.js';
import { spec } from '../support/spec.js';
import { NET, PORT, T1, V4, create, v4 } from './port-fixtures.js';

// Neutron (ML2): an admin may change an unbound port's MAC; its SLAAC addresses follow (issues 14, 15).

const SLAAC = 'dddddddd-dddd-4ddd-8ddd-dddddddddddd';
const slaac: SubnetFacts = {
  id: SLAAC,
  networkId: NET,
  ipVersion: 6,
  cidr: '2001:db8:1::/64',
  gatewayIp: '2001:db8:1::',
  allocationPools: [{ start: '2001:db8:1::1', end: '2001:db8:1::ffff:ffff:ffff:ffff' }],
  enableDhcp: true,
  ipv6AddressMode: 'slaac',
  ipv6RaMode: 'slaac',
};
const OLD_EUI = '2001:db8:1:0:f816:3eff:fe11:2233';
const NEW_MAC = 'fa:16:3e:aa:bb:cc';
const NEW_EUI = '2001:db8:1:0:f816:3eff:feaa:bbcc';

const port = spec(portDecider);
const created = port
  .given([])
  .when(create({ subnets: [v4, slaac] }))
  .then(() => {}) as PortEvent[];
const bound: PortEvent = { type: 'PortUpdated', data: { id: PORT, changes: { bindingHost: 'host-a' }, updatedAt: T1 } };

const update = (changes: UpdatePort['changes'], extra: Partial<UpdatePort> = {}): UpdatePort => ({
  type: 'UpdatePort',
  id: PORT,
  now: T1,
  asAdmin: true,
  subnets: [v4, slaac],
  changes,
  ...extra,
});

describe('updating a port MAC address', () => {
  it('given an unbound port with a SLAAC address, when an admin changes its MAC, then the MAC and the EUI-64 address change', () => {
    expect(created[0]?.type === 'PortCreated' && created[0].data.fixedIps).toEqual([
      { subnetId: V4, ipAddress: '10.0.0.57' },
      { subnetId: SLAAC, ipAddress: OLD_EUI },
    ]);
    const events = port
      .given(created)
      .when(update({ macAddress: 'FA-16-3E-AA-BB-CC' }))
      .then([
        { type: 'PortUpdated', data: { id: PORT, changes: { macAddress: NEW_MAC }, updatedAt: T1 } },
        {
          type: 'FixedIpsChanged',
          data: {
            id: PORT,
            networkId: NET,
            fixedIps: [
              { subnetId: V4, ipAddress: '10.0.0.57' },
              { subnetId: SLAAC, ipAddress: NEW_EUI },
            ],
            allocated: [{ subnetId: SLAAC, ipAddress: NEW_EUI }],
            released: [{ subnetId: SLAAC, ipAddress: OLD_EUI }],
            updatedAt: T1,
          },
        },
      ]);
    for (const e of events) expect(portEvents.find((d) => d.type === e.type)!.schema.safeParse(e.data).success).toBe(true);
    const state = port.given([...created, ...events]).state;
    expect(state.status === 'live' && state.resource.macAddress).toBe(NEW_MAC);
  });

  it('given a port without SLAAC addresses, then only PortUpdated', () => {
    const v4Only = port
      .given([])
      .when(create())
      .then(() => {}) as PortEvent[];
    port
      .given(v4Only)
      .when(update({ macAddress: NEW_MAC }, { subnets: [v4] }))
      .then([{ type: 'PortUpdated', data: { id: PORT, changes: { macAddress: NEW_MAC }, updatedAt: T1 } }]);
  });

  it('given a fixed IP change in the same update, then the kept SLAAC address is the new MAC one', () => {
    port
      .given(created)
      .when(update({ macAddress: NEW_MAC, fixedIps: [{ ipAddress: '10.0.0.9' }] }))
      .then((events) =>
        expect(events[1]).toMatchObject({
          type: 'FixedIpsChanged',
          data: {
            fixedIps: [
              { subnetId: V4, ipAddress: '10.0.0.9' },
              { subnetId: SLAAC, ipAddress: NEW_EUI },
            ],
            released: [
              { subnetId: V4, ipAddress: '10.0.0.57' },
              { subnetId: SLAAC, ipAddress: OLD_EUI },
            ],
          },
        }),
      );
  });

  it('given a member, then PolicyNotAuthorized (update_port:mac_address is admin-only)', () => {
    port
      .given(created)
      .when(update({ macAddress: NEW_MAC }, { asAdmin: false }))
      .thenError('PolicyNotAuthorized', (e) => expect(e.message).toBe('(rule:update_port:mac_address) is disallowed by policy'));
  });

  it('given a bound port, then PortBound', () => {
    port
      .given([...created, bound])
      .when(update({ macAddress: NEW_MAC }))
      .thenError('PortBound', (e) => expect(e.field).toEqual(['macAddress']));
  });

  it('given a bound port and its own MAC again, then no MAC change (only the revision rises)', () => {
    port
      .given([...created, bound])
      .when(update({ macAddress: 'fa:16:3e:11:22:33' }))
      .then([{ type: 'PortUpdated', data: { id: PORT, changes: {}, updatedAt: T1 } }]);
  });

  it('given a MAC another port of the network holds, then MacAddressInUse', () => {
    port
      .given(created)
      .when(update({ macAddress: NEW_MAC }, { macTaken: true }))
      .thenError('MacAddressInUse');
  });

  it('given a malformed or multicast MAC, then InputValidationError naming macAddress', () => {
    for (const bad of ['fa:16:3e:zz:00:01', '01:00:5e:00:00:01'])
      port
        .given(created)
        .when(update({ macAddress: bad }))
        .thenError('InputValidationError', (e) => expect(e.field).toEqual(['macAddress']));
  });
});
