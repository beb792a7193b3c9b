import type { LogPosition } from '../store/cursor.js';
export { LOG_COLUMNS, recordedFromRow, type LogRow } from '../store/event-store.js';
export { visibleHead } from '../store/log-head.js';

/** The position right before `p`: reading after it starts with the event at `p`. */
export function justBefore(p: LogPosition): LogPosition {
  return { transactionId: p.transactionId, globalPosition: p.globalPosition - 1n };
}
