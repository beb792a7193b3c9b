/**
 * A netledger API client in one file: a query, a mutation answered with typed errors, and a
 * subscription that resumes after a disconnect without missing or repeating an event.
 *
 *   NETLEDGER_URL=http://127.0.0.1:4000/graphql NETLEDGER_TOKEN=nl_... npx tsx examples/client.ts
 *
 * The operations are in operations.graphql; GraphQL Code Generator (`npm run codegen`) turns them
 * and the API's schema into generated/graphql.ts: for each, a document that carries the TypeScript
 * types of its result and variables, so a field the schema lacks, a wrong variable or an
 * unhandled case is a compile error. Plain `fetch` for queries and mutations, `graphql-ws` for the
 * subscription.
 */
import type { TypedDocumentNode, VariablesOf } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import {
  CreateNetworkDocument,
  DeleteNetworkDocument,
  NetworkEventsDocument,
  UpdateNetworkDocument,
  ViewerDocument,
  type NetworkEventsSubscription,
} from './generated/graphql.js';

type EventsMessage = NetworkEventsSubscription['events'];

const url = process.env.NETLEDGER_URL ?? 'http://127.0.0.1:4000/graphql';
const token = process.env.NETLEDGER_TOKEN;
if (!token) {
  console.error('set NETLEDGER_TOKEN (and NETLEDGER_URL if the API is not on 127.0.0.1:4000)');
  process.exit(2);
}

async function request<TResult, TVariables>(document: TypedDocumentNode<TResult, TVariables>, variables?: TVariables): Promise<TResult> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await res.json()) as { data?: TResult; errors?: { message: string; extensions?: { code?: string } }[] };
  // Transport-level errors (bad token, database down): GraphQL errors with a code, not typed payloads.
  if (body.errors?.length) throw new Error(`${body.errors[0]!.extensions?.code ?? 'Error'}: ${body.errors[0]!.message}`);
  return body.data!;
}

/** Every typed error has a stable code (InputValidationError also names each bad field). */
function isError<P extends { __typename: string }>(payload: P): payload is Extract<P, { code: string }> {
  return 'code' in payload;
}

/** Events of one resource after `after`, until `count` arrived; the client is closed afterwards. */
async function take(client: Client, after: string | null, resourceId: string, count: number): Promise<EventsMessage[]> {
  const got: EventsMessage[] = [];
  const variables: VariablesOf<typeof NetworkEventsDocument> = { after, resourceId };
  const iterator = client.iterate<NetworkEventsSubscription>({ query: print(NetworkEventsDocument), variables });
  for await (const r of iterator) {
    if (r.errors) throw new Error(`subscription: ${r.errors[0]!.message}`);
    got.push(r.data!.events);
    if (got.length >= count) break;
  }
  return got;
}

function connect(): Client {
  return createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
}

const { viewer } = await request(ViewerDocument);
console.log(`viewer: ${viewer.tokenName} (${viewer.role}) in project ${viewer.project.name}`);

// A typed error is data, not an exception: switch on it.
const bad = (await request(CreateNetworkDocument, { input: { name: 'example', mtu: 10 } })).createNetwork;
if (!isError(bad)) throw new Error('an MTU of 10 was accepted');
const fields = bad.__typename === 'InputValidationError' ? ` (${bad.issues.map((i) => i.path.join('.')).join(', ')})` : '';
console.log(`refused as expected: ${bad.code}${fields}`);

const created = (await request(CreateNetworkDocument, { input: { name: `example-${process.pid}` } })).createNetwork;
// Every other member of the union is a typed error: past this check, the type is the success.
if (isError(created)) throw new Error(`${created.code}: ${created.message}`);
const id = created.network.uuid;
console.log(`created network ${created.network.name} (${id}) at cursor ${created.cursor}`);

// Follow the network from its creation on; stop after its first update, as a client that drops.
const first = connect();
const following = take(first, created.cursor, id, 1);
const renamed = (await request(UpdateNetworkDocument, { input: { id, name: `example-${process.pid}-a` } })).updateNetwork;
if (isError(renamed)) throw new Error(renamed.code);
const [seen] = await following;
await first.dispose();
if (seen?.__typename !== 'LogEvent') throw new Error(`expected an event, got ${JSON.stringify(seen)}`);
console.log(`event ${seen.type} at ${seen.cursor}; disconnected`);

// While nobody listens, the network changes again; resuming after the last cursor seen gets exactly that change.
const missed = (await request(UpdateNetworkDocument, { input: { id, name: `example-${process.pid}-b` } })).updateNetwork;
if (isError(missed)) throw new Error(missed.code);
const second = connect();
const [resumed] = await take(second, seen.cursor, id, 1);
await second.dispose();
if (resumed?.__typename !== 'LogEvent' || resumed.cursor !== missed.cursor)
  throw new Error(`resume missed the change: ${JSON.stringify(resumed)}`);
console.log(`resumed after ${seen.cursor}: event ${resumed.type} at ${resumed.cursor}, nothing missed`);

const deleted = (await request(DeleteNetworkDocument, { input: { id } })).deleteNetwork;
console.log(`deleted: ${deleted.__typename}`);
