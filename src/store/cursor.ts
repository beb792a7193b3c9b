/**
 * A position in the global log: the writing transaction's id and the event's position.
 * Clients see it as an opaque string; ordering compares the transaction id first.
 */
export interface LogPosition {
  readonly transactionId: bigint;
  readonly globalPosition: bigint;
}

export const START: LogPosition = { transactionId: 0n, globalPosition: 0n };

const PREFIX = 'nl1.';

export function encodeCursor(p: LogPosition): string {
  return PREFIX + Buffer.from(`${p.transactionId}:${p.globalPosition}`).toString('base64url');
}

export class InvalidCursorError extends Error {
  readonly code = 'InvalidCursor';
  constructor(value: string) {
    super(`not a netledger log cursor: ${JSON.stringify(value.slice(0, 80))}`);
  }
}

export function decodeCursor(cursor: string): LogPosition {
  if (!cursor.startsWith(PREFIX)) throw new InvalidCursorError(cursor);
  const raw = Buffer.from(cursor.slice(PREFIX.length), 'base64url').toString();
  const m = /^(\d{1,20}):(\d{1,20})$/.exec(raw);
  if (!m) throw new InvalidCursorError(cursor);
  return { transactionId: BigInt(m[1]!), globalPosition: BigInt(m[2]!) };
}

export function comparePositions(a: LogPosition, b: LogPosition): number {
  if (a.transactionId !== b.transactionId) return a.transactionId < b.transactionId ? -1 : 1;
  if (a.globalPosition !== b.globalPosition) return a.globalPosition < b.globalPosition ? -1 : 1;
  return 0;
}
