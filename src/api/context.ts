import type { Logger } from '../log.js';
import type { Services } from '../app/services.js';
import type { Caller } from '../app/tenancy.js';

export interface Context {
  readonly services: Services;
  readonly caller: Caller;
  readonly requestId: string;
  readonly correlationId: string;
  readonly log: Logger;
  /** Per-request memo for loaders so one list does not issue a query per row. */
  readonly memo: Map<string, unknown>;
}

export function commandMetadata(ctx: Context) {
  return {
    actor: ctx.caller.tokenId,
    tokenName: ctx.caller.tokenName,
    project: ctx.caller.projectId,
    requestId: ctx.requestId,
    correlationId: ctx.correlationId,
  };
}
