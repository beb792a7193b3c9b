import { describe, it, expect } from 'vitest';
import { projectDecider, type ProjectEvent } from '../../src/domain/project/index.js';
import { spec } from '../support/spec.js';

const id = '8a1f6d1e-2c3b-4d5e-8f90-112233445566';
const tokenId = '1b2c3d4e-5f60-4a1b-8c2d-3e4f5a6b7c8d';
const now = '2026-11-21T00:00:00.000Z';
const created: ProjectEvent = { type: 'ProjectCreated', data: { id, name: 'demo', createdAt: now } };
const hash = 'a'.repeat(64);

describe('project', () => {
  it('creates a project once; re-creating the same one is a no-op', () => {
    spec(projectDecider).given().when({ type: 'CreateProject', id, name: 'demo', now }).then([created]);
    spec(projectDecider).given([created]).when({ type: 'CreateProject', id, name: 'demo', now }).thenNothing();
    spec(projectDecider).given([created]).when({ type: 'CreateProject', id, name: 'other', now }).thenError('ProjectAlreadyExists');
  });
  it('rejects names that cannot be typed on a command line', () => {
    spec(projectDecider).given().when({ type: 'CreateProject', id, name: 'a b', now }).thenError('InvalidInput');
  });
  it('issues and revokes tokens, storing only the hash', () => {
    const issued = spec(projectDecider)
      .given([created])
      .when({ type: 'IssueToken', tokenId, name: 'ci', role: 'member', secretHash: hash, now })
      .then((es) => {
        expect(es).toHaveLength(1);
      });
    spec(projectDecider)
      .given([created, ...issued])
      .when({ type: 'RevokeToken', tokenId, now })
      .then([{ type: 'TokenRevoked', data: { tokenId, revokedAt: now } }]);
    spec(projectDecider).given([created]).when({ type: 'RevokeToken', tokenId, now }).thenError('TokenNotFound');
  });
  it('sets quotas, -1 meaning unlimited, and refuses nonsense', () => {
    spec(projectDecider)
      .given([created])
      .when({ type: 'SetQuota', resource: 'port', limit: -1, now })
      .then([{ type: 'QuotaSet', data: { resource: 'port', limit: -1, setAt: now } }]);
    spec(projectDecider).given([created]).when({ type: 'SetQuota', resource: 'port', limit: -2, now }).thenError('InvalidInput');
    const s = spec(projectDecider).given([created, { type: 'QuotaSet', data: { resource: 'network', limit: 3, setAt: now } }]).state;
    expect(s.quotas.network).toBe(3);
    expect(s.quotas.port).toBe(500);
  });
  it('resets every quota to its default (Neutron quota delete), naming those that differed; nothing when none did', () => {
    const set = (resource: 'network' | 'port', limit: number) => ({ type: 'QuotaSet' as const, data: { resource, limit, setAt: now } });
    const given = spec(projectDecider).given([created, set('network', 3), set('port', 500)]);
    const events = given.when({ type: 'ResetQuotas', now }).then([{ type: 'QuotasReset', data: { resources: ['network'], resetAt: now } }]);
    const s = spec(projectDecider).given([created, set('network', 3), ...events]).state;
    expect(s.quotas.network).toBe(100);
    spec(projectDecider)
      .given([created, ...events])
      .when({ type: 'ResetQuotas', now })
      .thenNothing();
  });
  it('refuses commands on a project that does not exist', () => {
    spec(projectDecider).given().when({ type: 'SetQuota', resource: 'port', limit: 1, now }).thenError('ProjectNotFound');
  });
});
