/** Errors of the event log. Each has a stable code the API and CLI can show as is. */
export class StoreError extends Error {
  constructor(
    readonly code: 'WrongExpectedVersion' | 'InvalidEventData' | 'UnknownEventType' | 'DuplicateEventId',
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

export function isStoreError(e: unknown, code?: StoreError['code']): e is StoreError {
  return e instanceof StoreError && (code === undefined || e.code === code);
}
