import { pipelined } from '../db/pipelined.js';
import type { Queryable } from '../db/sql.js';
import type { ProjectEvent } from '../domain/project/events.js';
import type { ProjectedEvent } from '../store/types.js';
import type { Projection } from './projection.js';

/** Projects, tokens and quota limits: what authentication and quota checks read. */
export class TenancyProjection implements Projection {
  readonly name = 'tenancy';

  /** The writes go down the connection one behind the other, in event order: one round trip. */
  async apply(q: Queryable, events: readonly ProjectedEvent[]): Promise<void> {
    const sent: Promise<unknown>[] = [];
    for (const raw of events) {
      if (!raw.streamId.startsWith('project-')) continue;
      const projectId = raw.streamId.slice('project-'.length);
      const e = { type: raw.type, data: raw.data } as ProjectEvent;
      switch (e.type) {
        case 'ProjectCreated':
          sent.push(q`insert into rm_projects (id, name, created_at) values (${e.data.id}, ${e.data.name}, ${e.data.createdAt})`.execute());
          break;
        case 'TokenIssued':
          sent.push(
            q`insert into rm_tokens (token_id, project_id, name, role, secret_hash, issued_at)
                  values (${e.data.tokenId}, ${projectId}, ${e.data.name}, ${e.data.role}, ${e.data.secretHash}, ${e.data.issuedAt})`.execute(),
          );
          break;
        case 'TokenRevoked':
          sent.push(q`update rm_tokens set revoked = true where token_id = ${e.data.tokenId}`.execute());
          break;
        case 'QuotaSet':
          sent.push(
            q`insert into rm_quota_limits (project_id, resource, max_count) values (${projectId}, ${e.data.resource}, ${e.data.limit})
                  on conflict (project_id, resource) do update set max_count = excluded.max_count`.execute(),
          );
          break;
        case 'QuotasReset':
          sent.push(q`delete from rm_quota_limits where project_id = ${projectId}`.execute());
          break;
      }
    }
    await pipelined(sent);
  }

  async reset(q: Queryable): Promise<void> {
    await q`truncate rm_projects, rm_tokens, rm_quota_limits`;
  }
}
