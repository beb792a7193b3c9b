import fs from 'node:fs/promises';
import type http from 'node:http';

/**
 * The dashboard (`/ui`): static ES modules from src/ui, read from disk on first request and kept.
 * Nothing is built and nothing comes from another host: the page works offline, and its CSP says
 * so to the browser. No token here: the page is public code, its data comes from /graphql.
 */

export const DASHBOARD_PATH = '/ui';

const DIR = new URL('../../ui/', import.meta.url);
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};
const FILES = new Set(['index.html', 'dashboard.css', 'main.js', 'graphql.js', 'topology.js', 'events.js', 'dataplane.js', 'dom.js']);
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

const cache = new Map<string, Buffer>();

/** Answers a GET under /ui: the page for `/ui` and `/ui/`, one of its files, or 404. */
export async function serveDashboard(pathname: string, res: http.ServerResponse): Promise<void> {
  const rest = pathname.slice(DASHBOARD_PATH.length).replace(/^\//, '');
  const name = rest === '' ? 'index.html' : rest;
  if (!FILES.has(name)) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    return void res.end('not found');
  }
  let body = cache.get(name);
  if (!body) {
    body = await fs.readFile(new URL(name, DIR));
    cache.set(name, body);
  }
  const type = TYPES[name.slice(name.lastIndexOf('.'))]!;
  // Small files, served from memory: revalidating on each load keeps an upgraded server's page current.
  res.writeHead(200, {
    'content-type': type,
    'content-length': String(body.length),
    'cache-control': 'no-cache',
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}
