import type { Decider } from '../decider.js';
import { domainError } from '../errors.js';
import { DEFAULT_QUOTAS, QUOTA_RESOURCES, type ProjectEvent, type QuotaResource, type Role } from './events.js';

export interface ProjectState {
  readonly exists: boolean;
  readonly id: string;
  readonly name: string;
  readonly tokens: ReadonlyMap<string, { readonly name: string; readonly role: Role; readonly revoked: boolean }>;
  readonly quotas: Readonly<Record<QuotaResource, number>>;
}

export type ProjectCommand =
  | { readonly type: 'CreateProject'; readonly id: string; readonly name: string; readonly now: string }
  | {
      readonly type: 'IssueToken';
      readonly tokenId: string;
      readonly name: string;
      readonly role: Role;
      readonly secretHash: string;
      readonly now: string;
    }
  | { readonly type: 'RevokeToken'; readonly tokenId: string; readonly now: string }
  | { readonly type: 'SetQuota'; readonly resource: QuotaResource; readonly limit: number; readonly now: string }
  /** Neutron's DELETE /quotas/{project_id}: every limit back to its default. */
  | { readonly type: 'ResetQuotas'; readonly now: string };

const initialState: ProjectState = { exists: false, id: '', name: '', tokens: new Map(), quotas: DEFAULT_QUOTAS };

export const projectDecider: Decider<ProjectCommand, ProjectState, ProjectEvent> = {
  initialState,
  decide(c, s) {
    if (c.type === 'CreateProject') {
      if (s.exists) return s.name === c.name ? [] : domainError('ProjectAlreadyExists', `Project ${c.id} already exists.`);
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(c.name)) {
        return domainError(
          'InvalidInput',
          `Invalid input for operation: project name '${c.name}' must be 1-64 letters, digits, '.', '_' or '-'.`,
          { field: ['name'] },
        );
      }
      return [{ type: 'ProjectCreated', data: { id: c.id, name: c.name, createdAt: c.now } }];
    }
    if (!s.exists) return domainError('ProjectNotFound', 'Project could not be found.');
    switch (c.type) {
      case 'IssueToken':
        if (s.tokens.has(c.tokenId)) return [];
        return [
          { type: 'TokenIssued', data: { tokenId: c.tokenId, name: c.name, role: c.role, secretHash: c.secretHash, issuedAt: c.now } },
        ];
      case 'RevokeToken': {
        const t = s.tokens.get(c.tokenId);
        if (!t) return domainError('TokenNotFound', `Token ${c.tokenId} could not be found.`);
        return t.revoked ? [] : [{ type: 'TokenRevoked', data: { tokenId: c.tokenId, revokedAt: c.now } }];
      }
      case 'SetQuota':
        if (!Number.isInteger(c.limit) || c.limit < -1) {
          return domainError('InvalidInput', 'Invalid input for operation: a quota limit is -1 (unlimited) or a whole number >= 0.', {
            field: ['limit'],
          });
        }
        return [{ type: 'QuotaSet', data: { resource: c.resource, limit: c.limit, setAt: c.now } }];
      case 'ResetQuotas': {
        const changed = QUOTA_RESOURCES.filter((r) => s.quotas[r] !== DEFAULT_QUOTAS[r]);
        return changed.length === 0 ? [] : [{ type: 'QuotasReset', data: { resources: changed, resetAt: c.now } }];
      }
    }
  },
  evolve(s, e) {
    switch (e.type) {
      case 'ProjectCreated':
        return { ...s, exists: true, id: e.data.id, name: e.data.name };
      case 'TokenIssued': {
        const tokens = new Map(s.tokens);
        tokens.set(e.data.tokenId, { name: e.data.name, role: e.data.role, revoked: false });
        return { ...s, tokens };
      }
      case 'TokenRevoked': {
        const tokens = new Map(s.tokens);
        const t = tokens.get(e.data.tokenId);
        if (t) tokens.set(e.data.tokenId, { ...t, revoked: true });
        return { ...s, tokens };
      }
      case 'QuotaSet':
        return { ...s, quotas: { ...s.quotas, [e.data.resource]: e.data.limit } };
      case 'QuotasReset':
        return { ...s, quotas: DEFAULT_QUOTAS };
    }
  },
};
