import { connect } from '../db/sql.js';
import { rebuildProjections } from '../projections/rebuild.js';
import { replayProjections, type Running } from './bootstrap.js';

/**
 * A rebuild of the whole read model from the log, as import and `projections rebuild` do it: as
 * the owner (it builds new tables and swaps them in), in committed batches, resumable.
 */
export async function rebuildReadModel(
  s: Running,
  onProgress: (done: number, total: number) => void = () => {},
  options: { batchSize?: number; restart?: boolean } = {},
): Promise<number> {
  // Two connections: a rebuild reads its next batch on one while it writes the last on the other.
  const owner = connect(s.ownerUrl, { max: 2 });
  try {
    return await rebuildProjections(owner, s.store, replayProjections(), (p) => onProgress(p.events, p.total), options.batchSize, {
      restart: options.restart,
    });
  } finally {
    await owner.end({ timeout: 5 });
  }
}
