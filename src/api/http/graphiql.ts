import { createRequire } from 'node:module';
import type http from 'node:http';

/**
 * GraphiQL served from the `@graphql-yoga/render-graphiql` package (the same build yoga's CDN page
 * loads), so the page works with no internet. Its assets are large (~9 MB of JavaScript), so the
 * module is imported on the first request for one, never at start-up.
 */

const VERSION = (createRequire(import.meta.url)('@graphql-yoga/render-graphiql/package.json') as { version: string }).version;
/** The version is in the path, so a browser may cache an asset for good. */
export const GRAPHIQL_ASSETS = `/graphiql/${VERSION}/`;

type Bundle = typeof import('@graphql-yoga/render-graphiql/graphiql');

const ASSETS: Record<string, { type: string; from: (b: Bundle) => Buffer }> = {
  'graphiql.css': { type: 'text/css; charset=utf-8', from: (b) => Buffer.from(b.css) },
  'yoga-graphiql.js': { type: 'text/javascript; charset=utf-8', from: (b) => Buffer.from(b.js) },
  'editor.worker.js': { type: 'text/javascript; charset=utf-8', from: (b) => Buffer.from(b.editorWorkerService) },
  'json.worker.js': { type: 'text/javascript; charset=utf-8', from: (b) => Buffer.from(b.jsonWorker) },
  'graphql.worker.js': { type: 'text/javascript; charset=utf-8', from: (b) => Buffer.from(b.graphqlWorker) },
  'favicon.ico': { type: 'image/x-icon', from: (b) => Buffer.from(b.favicon.slice(b.favicon.indexOf(',') + 1), 'base64') },
};

let bundle: Promise<Bundle> | undefined;
const cache = new Map<string, Buffer>();

/** Answers a request under GRAPHIQL_ASSETS: the asset, or 404. No token: it is public code. */
export async function serveGraphiqlAsset(pathname: string, res: http.ServerResponse): Promise<void> {
  const name = pathname.slice(GRAPHIQL_ASSETS.length);
  const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name]! : undefined;
  if (!asset) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    return void res.end('not found');
  }
  let body = cache.get(name);
  if (!body) {
    body = asset.from(await (bundle ??= import('@graphql-yoga/render-graphiql/graphiql')));
    cache.set(name, body);
  }
  res.writeHead(200, {
    'content-type': asset.type,
    'content-length': String(body.length),
    'cache-control': 'public, max-age=31536000, immutable',
  });
  res.end(body);
}

/** Yoga's GraphiQL page, with every asset on this server instead of a CDN. */
export function renderGraphiqlPage(options: Record<string, unknown>): string {
  const title = String(options.title ?? 'GraphiQL').replace(/[<>&"]/g, '');
  // `<` escaped: nothing in the options can close the script element.
  const script = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');
  const workers = { editorWorkerService: 'editor.worker.js', json: 'json.worker.js', graphql: 'graphql.worker.js' };
  const workerUrls = Object.fromEntries(Object.entries(workers).map(([label, file]) => [label, GRAPHIQL_ASSETS + file]));
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${title}</title>
    <link rel="icon" href="${GRAPHIQL_ASSETS}favicon.ico" />
    <link rel="stylesheet" href="${GRAPHIQL_ASSETS}graphiql.css" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>You need to enable JavaScript to run this app.</noscript>
    <div id="root">Loading ${title}…</div>
    <script>
      const workerUrls = ${script(workerUrls)};
      self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: (_moduleId, label) => workerUrls[label] };
    </script>
    <script src="${GRAPHIQL_ASSETS}yoga-graphiql.js"></script>
    <script>
      YogaGraphiQL.renderYogaGraphiQL(document.querySelector('#root'), ${script(options)});
    </script>
  </body>
</html>
`;
}
