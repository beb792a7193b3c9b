/**
 * Awaits statements sent down one connection one behind the other without waiting for each
 * other's answers (pipelined: one round trip for all), and answers as running them one at a time
 * would: their results in order, or the error of the first that failed. In a transaction the
 * statements behind a failure come back 'current transaction is aborted' (25P02): that is the
 * failure's echo, not its cause, so the first other error in order is the one thrown.
 *
 * The statements must already be sent when this is called (awaited elsewhere, or `.execute()`d),
 * in the order they are to run: postgres.js sends a query when it is first awaited.
 */
export async function pipelined<T extends readonly unknown[]>(statements: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(statements);
  const failed = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed.length > 0) throw (failed.find((f) => !isAbortedEcho(f.reason)) ?? failed[0]!).reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}

const isAbortedEcho = (e: unknown): boolean => (e as { code?: unknown } | null)?.code === '25P02';
