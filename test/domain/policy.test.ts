import { describe, expect, it } from 'vitest';
import {
  adminOnly,
  isOwnerOrAdmin,
  mayAttachSubnet,
  maySee,
  maySeeEvent,
  portNetworkAccess,
  type Principal,
} from '../../src/domain/policy/index.js';

const member: Principal = { projectId: 'p1', isAdmin: false };
const admin: Principal = { projectId: 'admin', isAdmin: true };
const own = { project: 'p1' };
const other = { project: 'p2' };

describe('the policy: who may see and use what', () => {
  it('owners and admins see everything of theirs; nobody else sees a private resource of any kind', () => {
    for (const kind of ['network', 'subnet', 'port', 'security_group', 'router', 'floatingip', 'loadbalancer', 'firewall_group'] as const) {
      expect(maySee(member, kind, own)).toBe(true);
      expect(maySee(admin, kind, other)).toBe(true);
      expect(maySee(member, kind, other)).toBe(false);
    }
    expect(isOwnerOrAdmin(member, other)).toBe(false);
  });
  it('shared and external networks (and their subnets) are visible to every project', () => {
    expect(maySee(member, 'network', { ...other, shared: true })).toBe(true);
    expect(maySee(member, 'subnet', { ...other, external: true })).toBe(true);
    // sharing means nothing for kinds that cannot be shared
    expect(maySee(member, 'security_group', { ...other, shared: true })).toBe(false);
    expect(maySee(member, 'port', { ...other, shared: true })).toBe(false);
    expect(maySee(member, 'firewall_rule', { ...other, shared: true })).toBe(true);
  });
  it('plugging a port: shared networks yes (without picking addresses), external ones refused, private ones hidden', () => {
    expect(portNetworkAccess(member, own, { picksAddress: true })).toBe('allowed');
    expect(portNetworkAccess(member, { ...other, shared: true }, { picksAddress: false })).toBe('allowed');
    expect(portNetworkAccess(member, { ...other, shared: true }, { picksAddress: true })).toMatchObject({ code: 'PolicyNotAuthorized' });
    expect(portNetworkAccess(member, { ...other, external: true }, { picksAddress: false })).toMatchObject({ code: 'PolicyNotAuthorized' });
    expect(portNetworkAccess(member, other, { picksAddress: false })).toBe('hidden');
    expect(portNetworkAccess(admin, other, { picksAddress: true })).toBe('allowed');
  });
  it("router interfaces: a shared network's subnet, not an external one's", () => {
    expect(mayAttachSubnet(member, { ...other, shared: true })).toBe(true);
    expect(mayAttachSubnet(member, { ...other, external: true })).toBe(false);
  });
  it("admin-only attributes answer Neutron's PolicyNotAuthorized with the rule name", () => {
    expect(adminOnly(admin, 'create_floatingip:floating_ip_address')).toBeNull();
    expect(adminOnly(member, 'create_floatingip:floating_ip_address')).toMatchObject({
      code: 'PolicyNotAuthorized',
      message: '(rule:create_floatingip:floating_ip_address) is disallowed by policy',
    });
  });
  it('events: recorded by the project, on its streams, or of a network everyone sees', () => {
    expect(maySeeEvent(member, { recordedBy: 'p1', streamKind: 'port', owner: other })).toBe(true);
    expect(maySeeEvent(member, { recordedBy: 'p2', streamKind: 'port', owner: own })).toBe(true);
    expect(maySeeEvent(member, { recordedBy: 'p2', streamKind: 'network', owner: { ...other, external: true } })).toBe(true);
    expect(maySeeEvent(member, { recordedBy: 'p2', streamKind: 'port', owner: { ...other, shared: true } })).toBe(false);
    expect(maySeeEvent(member, { recordedBy: 'p2', streamKind: 'port', owner: null })).toBe(false);
  });
});
