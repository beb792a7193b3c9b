// The dashboard's only way to the server: the public GraphQL API at /graphql with the user's token.
// Queries are POSTs; subscriptions are GraphQL over SSE on the same endpoint (a fetch stream, so the
// token travels in the Authorization header, which EventSource cannot send).

/** The cursor before the first event of the log: subscribing after it replays the whole log. */
export const LOG_START = 'nl1.' + btoa('0:0').replace(/=+$/, '');

/** A log cursor's position, for ordering and lag; null for anything else. */
export function logPosition(cursor) {
  if (typeof cursor !== 'string' || !cursor.startsWith('nl1.')) return null;
  const m = /^(\d+):(\d+)$/.exec(atob(cursor.slice(4).replace(/-/g, '+').replace(/_/g, '/')));
  return m ? { transactionId: BigInt(m[1]), globalPosition: BigInt(m[2]) } : null;
}

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

export class Api {
  constructor(token) {
    this.token = token;
  }

  headers(accept) {
    return { 'content-type': 'application/json', accept, authorization: `Bearer ${this.token}` };
  }

  async query(query, variables = {}) {
    const res = await fetch('/graphql', {
      method: 'POST',
      headers: this.headers('application/json'),
      body: JSON.stringify({ query, variables }),
    });
    const body = await res.json().catch(() => ({}));
    if (body.errors?.length) throw new ApiError(body.errors.map((e) => e.message).join('; '), res.status);
    if (!res.ok) throw new ApiError(`HTTP ${res.status}`, res.status);
    return body.data;
  }

  /**
   * One subscription over SSE: calls onData with each payload's data until the server completes the
   * stream (resolves) or the connection fails (rejects). `signal` ends it from this side.
   */
  async subscribe(query, variables, onData, signal, onOpen) {
    const res = await fetch('/graphql', {
      method: 'POST',
      headers: this.headers('text/event-stream'),
      body: JSON.stringify({ query, variables }),
      signal,
    });
    if (!res.ok || !res.body) throw new ApiError(`subscription refused: HTTP ${res.status}`, res.status);
    onOpen?.();
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) throw new ApiError('the connection closed', 0);
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = 'message';
        let data = '';
        for (const line of frame.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data += line.slice(5).trim();
        }
        if (event === 'complete') return;
        if (!data) continue;
        const payload = JSON.parse(data);
        if (payload.errors?.length) throw new ApiError(payload.errors.map((e) => e.message).join('; '), 200);
        if (payload.data) onData(payload.data);
      }
    }
  }
}

/**
 * A subscription that survives dropped connections and server restarts: it resubscribes after the
 * last cursor it knows is complete, with growing pauses, and never delivers a message twice.
 *
 * One log event may produce several messages with the same cursor (a load balancer event carries
 * its whole tree), and a connection may drop between them. So it resumes after the cursor *before*
 * the last one seen and drops what it already delivered at the last one: no gap, no duplicate.
 */
export function follow({ api, query, variables, field, from, key, onMessage, onState }) {
  let previous = from;
  let last = from;
  let seenAtLast = new Set();
  const abort = new AbortController();
  let stopped = false;
  const run = async () => {
    let pause = 250;
    while (!stopped) {
      try {
        onState?.('connecting');
        await api.subscribe(
          query,
          { ...variables, after: previous },
          (data) => {
            pause = 250;
            const m = data[field];
            if (!m || m.__typename === 'SubscriptionCutOff') return;
            const k = key(m);
            if (m.cursor === last) {
              if (seenAtLast.has(k)) return;
            } else {
              previous = last;
              last = m.cursor;
              seenAtLast = new Set();
            }
            seenAtLast.add(k);
            onMessage(m);
          },
          abort.signal,
          () => onState?.('live'),
        );
      } catch (e) {
        if (stopped) return;
        onState?.('reconnecting', e);
      }
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, 5000);
    }
  };
  void run();
  return {
    get cursor() {
      return last;
    },
    stop() {
      stopped = true;
      abort.abort();
    },
  };
}
