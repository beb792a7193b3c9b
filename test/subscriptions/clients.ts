import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/** A subscription over SSE the plain way: fetch, then parse `event:`/`data:` blocks. */
export async function* sseSubscribe(
  url: string,
  token: string,
  query: string,
  variables: Record<string, unknown>,
  signal: AbortSignal,
): AsyncGenerator<any> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    signal,
  });
  if (!res.ok || !res.body) throw new Error(`SSE subscribe failed: ${res.status} ${await res.text()}`);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let i: number;
      while ((i = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const event = /^event: ?(.*)$/m.exec(block)?.[1];
        const data = block
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trimStart())
          .join('\n');
        if (event === 'complete') return;
        if (!data) continue;
        const parsed = JSON.parse(data);
        if (parsed.errors) throw new Error(`subscription errors: ${JSON.stringify(parsed.errors)}`);
        yield parsed.data;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/** The same over graphql-ws; closing the client forces a disconnect. */
export function wsClient(httpUrl: string, token: string): Client {
  return createClient({
    url: httpUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: true,
  });
}

export async function* wsSubscribe(client: Client, query: string, variables: Record<string, unknown>): AsyncGenerator<any> {
  for await (const r of client.iterate({ query, variables })) {
    if (r.errors) throw new Error(`subscription errors: ${JSON.stringify(r.errors)}`);
    yield r.data;
  }
}

export const EVENTS_SUBSCRIPTION = `subscription($after: String, $filter: EventFilter) { events(after: $after, filter: $filter) {
  __typename ... on LogEvent { cursor id type streamId projectId metadata { project } } ... on SubscriptionCutOff { reason lastCursor message } } }`;
