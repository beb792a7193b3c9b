/**
 * A netledger API client in one file: a query, a mutation answered with typed errors, and a
 * subscription that resumes after a disconnect without missing or repeating an event.
 *
 *   NETLEDGER_URL=http://127.0.0.1:4000/graphql NETLEDGER_TOKEN=nl_... npx tsx examples/client.ts
 *
 * Each operation is a document paired with the TypeScript types of its result and variables (what
 * GraphQL Code Generator's typed documents give you; written by hand here to need no extra tool).
 * Plain `fetch` for queries and mutations, `graphql-ws` for the subscription.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

interface Operation<TData, TVariables> {
  readonly query: string;
  /** Never set: carries the types. */
  readonly types?: { data: TData; variables: TVariables };
}
const operation = <TData, TVariables = Record<string, never>>(query: string): Operation<TData, TVariables> => ({ query });

/** Every typed error has a stable code; InputValidationError also names each bad field. */
type TypedError = { __typename: string; code: string; message: string; issues?: { path: string[]; message: string }[] };

const Viewer = operation<{ viewer: { tokenName: string; role: string; project: { name: string } } }>(
  'query Viewer { viewer { tokenName role project { name } } }',
);

const CreateNetwork = operation<
  {
    createNetwork:
      { __typename: 'CreateNetworkSuccess'; cursor: string | null; network: { uuid: string; name: string; revision: number } } | TypedError;
  },
  { input: { name: string; mtu?: number } }
>(`mutation CreateNetwork($input: CreateNetworkInput!) { createNetwork(input: $input) { __typename
  ... on CreateNetworkSuccess { cursor network { uuid name revision } }
  ... on Error { code message } ... on InputValidationError { issues { path message } } } }`);

const UpdateNetwork = operation<
  { updateNetwork: { __typename: 'UpdateNetworkSuccess'; cursor: string | null } | TypedError },
  { input: { id: string; name: string } }
>(`mutation UpdateNetwork($input: UpdateNetworkInput!) { updateNetwork(input: $input) { __typename
  ... on UpdateNetworkSuccess { cursor } ... on Error { code message } } }`);

const DeleteNetwork = operation<{ deleteNetwork: { __typename: string; code?: string } }, { input: { id: string } }>(
  'mutation DeleteNetwork($input: DeleteNetworkInput!) { deleteNetwork(input: $input) { __typename ... on Error { code message } } }',
);

type EventsMessage =
  | { __typename: 'LogEvent'; cursor: string; type: string; resourceId: string }
  | { __typename: 'SubscriptionCutOff'; lastCursor: string | null; reason: string; message: string };
const NetworkEvents = operation<{ events: EventsMessage }, { after: string | null; resourceId: string }>(
  `subscription NetworkEvents($after: String, $resourceId: String) { events(after: $after, filter: { resourceId: $resourceId }) {
    __typename ... on LogEvent { cursor type resourceId } ... on SubscriptionCutOff { lastCursor reason message } } }`,
);

const url = process.env.NETLEDGER_URL ?? 'http://127.0.0.1:4000/graphql';
const token = process.env.NETLEDGER_TOKEN;
if (!token) {
  console.error('set NETLEDGER_TOKEN (and NETLEDGER_URL if the API is not on 127.0.0.1:4000)');
  process.exit(2);
}

async function request<TData, TVariables>(op: Operation<TData, TVariables>, variables?: TVariables): Promise<TData> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: op.query, variables }),
  });
  const body = (await res.json()) as { data?: TData; errors?: { message: string; extensions?: { code?: string } }[] };
  // Transport-level errors (bad token, database down): GraphQL errors with a code, not typed payloads.
  if (body.errors?.length) throw new Error(`${body.errors[0]!.extensions?.code ?? 'Error'}: ${body.errors[0]!.message}`);
  return body.data!;
}

function isError(payload: { __typename: string }): payload is TypedError {
  return 'code' in payload;
}

/** Events of one resource after `after`, until `count` arrived; the client is closed afterwards. */
async function take(client: Client, after: string | null, resourceId: string, count: number): Promise<EventsMessage[]> {
  const got: EventsMessage[] = [];
  const iterator = client.iterate<{ events: EventsMessage }>({ query: NetworkEvents.query, variables: { after, resourceId } });
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

const { viewer } = await request(Viewer);
console.log(`viewer: ${viewer.tokenName} (${viewer.role}) in project ${viewer.project.name}`);

// A typed error is data, not an exception: switch on it.
const bad = (await request(CreateNetwork, { input: { name: 'example', mtu: 10 } })).createNetwork;
if (isError(bad))
  console.log(`refused as expected: ${bad.code}${bad.issues?.length ? ` (${bad.issues.map((i) => i.path.join('.')).join(', ')})` : ''}`);
else throw new Error('an MTU of 10 was accepted');

const created = (await request(CreateNetwork, { input: { name: `example-${process.pid}` } })).createNetwork;
if (isError(created)) throw new Error(`${created.code}: ${created.message}`);
const id = created.network.uuid;
console.log(`created network ${created.network.name} (${id}) at cursor ${created.cursor}`);

// Follow the network from its creation on; stop after its first update, as a client that drops.
const first = connect();
const following = take(first, created.cursor, id, 1);
const renamed = (await request(UpdateNetwork, { input: { id, name: `example-${process.pid}-a` } })).updateNetwork;
if (isError(renamed)) throw new Error(renamed.code);
const [seen] = await following;
await first.dispose();
if (seen?.__typename !== 'LogEvent') throw new Error(`expected an event, got ${JSON.stringify(seen)}`);
console.log(`event ${seen.type} at ${seen.cursor}; disconnected`);

// While nobody listens, the network changes again; resuming after the last cursor seen gets exactly that change.
const missed = (await request(UpdateNetwork, { input: { id, name: `example-${process.pid}-b` } })).updateNetwork;
if (isError(missed)) throw new Error(missed.code);
const second = connect();
const [resumed] = await take(second, seen.cursor, id, 1);
await second.dispose();
if (resumed?.__typename !== 'LogEvent' || resumed.cursor !== missed.cursor)
  throw new Error(`resume missed the change: ${JSON.stringify(resumed)}`);
console.log(`resumed after ${seen.cursor}: event ${resumed.type} at ${resumed.cursor}, nothing missed`);

const deleted = (await request(DeleteNetwork, { input: { id } })).deleteNetwork;
console.log(`deleted: ${deleted.__typename}`);
