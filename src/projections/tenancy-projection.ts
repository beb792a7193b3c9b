import type { Queryable } from '../db/sql.js';
import type { ProjectEvent } from '../domain/project/events.js';
import type { ProjectedEvent } from '../store/types.js';
import type { Projection } from './projection.js';

/** Projects, tokens and quota limits: what authentication and quota checks read. */
export class TenancyProjection implements Projection {
  readonly name = 'tenancy';

  async apply(q: Queryable, events: readonly ProjectedEvent[]): Promise<void> {
    for (const raw of events) {
      if (!raw.streamId.startsWith('project-')) continue;
      const projectId = raw.streamId.slice('project-'.length);
      const e = { type: raw.type, data: raw.data } as ProjectEvent;
      switch (e.type) {
        case 'ProjectCreated':
          await q`insert into rm_projects (id, name, created_at) values (${e.data.id}, ${e.data.name}, ${e.data.createdAt})`;
          break;
        case 'TokenIssued':
          await q`insert into rm_tokens (token_id, project_id, name, role, secret_hash, issued_at)
                  values (${e.data.tokenId}, ${projectId}, ${e.data.name}, ${e.data.role}, ${e.data.secretHash}, ${e.data.issuedAt})`;
          break;
        case 'TokenRevoked':
          await q`update rm_tokens set revoked = true where token_id = ${e.data.tokenId}`;
          break;
        case 'QuotaSet':
          await q`insert into rm_quota_limits (project_id, resource, max_count) values (${projectId}, ${e.data.resource}, ${e.data.limit})
                  on conflict (project_id, resource) do update set max_count = excluded.max_count`;
          break;
        case 'QuotasReset':
          await q`delete from rm_quota_limits where project_id = ${projectId}`;
          break;
      }
    }
  }

  async reset(q: Queryable): Promise<void> {
    await q`truncate rm_projects, rm_tokens, rm_quota_limits`;
  }
}
