import fs from 'node:fs';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import WebSocket from 'ws';
import { until } from './until.js';

/**
 * Debian's headless Chromium driven over the DevTools protocol with the `ws` package we already
 * have: enough for a test to load a page, type, click, read the DOM and take screenshots, with no
 * browser download and no driver library.
 */

export const CHROMIUM = '/usr/bin/chromium';

export interface Page {
  /** Evaluates an expression in the page (awaiting a promise) and answers its JSON value. */
  eval<T = unknown>(expression: string): Promise<T>;
  /** Waits until the expression is truthy in the page, and answers its value. */
  waitFor<T = unknown>(what: string, expression: string, timeoutMs?: number): Promise<T>;
  goto(url: string): Promise<void>;
  /** Makes this the visible tab, as a user switching to it does (a hidden page draws nothing). */
  bringToFront(): Promise<void>;
  screenshot(file: string): Promise<void>;
  close(): Promise<void>;
  /** Uncaught exceptions and console errors in the page so far. */
  readonly errors: string[];
}

export interface Browser {
  page(width?: number, height?: number): Promise<Page>;
  close(): Promise<void>;
}

export async function launchChromium(profileDir: string): Promise<Browser> {
  fs.rmSync(profileDir, { recursive: true, force: true });
  const proc: ResultPromise = execa(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--no-first-run',
      '--disable-extensions',
      // A page behind another tab keeps its full timers and CPU priority, as puppeteer launches it,
      // so a test's second page cannot starve the first one's subscriptions.
      '--disable-background-timer-throttling',
      '--disable-renderer-backgrounding',
      '--disable-backgrounding-occluded-windows',
      // Any host but loopback fails to resolve: a page must work from this server alone.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      '--remote-debugging-port=0',
      `--user-data-dir=${profileDir}`,
      'about:blank',
    ],
    { reject: false, buffer: false, stdin: 'ignore', stdout: 'ignore' },
  );
  const endpoint = await until(
    'the DevTools endpoint',
    () => {
      try {
        const [port, p] = fs.readFileSync(path.join(profileDir, 'DevToolsActivePort'), 'utf8').split('\n');
        return port && p ? `ws://127.0.0.1:${port}${p}` : undefined;
      } catch {
        return undefined;
      }
    },
    60_000,
  );
  const ws = new WebSocket(endpoint, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let nextId = 1;
  const waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  const listeners = new Map<string, (method: string, params: any) => void>();
  ws.on('message', (raw) => {
    const m = JSON.parse(raw.toString()) as {
      id?: number;
      result?: unknown;
      error?: { message: string };
      method?: string;
      params?: unknown;
      sessionId?: string;
    };
    if (m.id === undefined) {
      if (m.method && m.sessionId) listeners.get(m.sessionId)?.(m.method, m.params);
      return;
    }
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.error) w?.reject(new Error(m.error.message));
    else w?.resolve(m.result);
  });
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<any> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });

  return {
    async page(width = 1400, height = 900) {
      const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
      const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
      const on = (method: string, params: Record<string, unknown> = {}) => send(method, params, sessionId);
      const errors: string[] = [];
      listeners.set(sessionId, (method, params) => {
        if (method === 'Runtime.exceptionThrown')
          errors.push(params.exceptionDetails?.exception?.description ?? params.exceptionDetails?.text);
        if (method === 'Runtime.consoleAPICalled' && params.type === 'error')
          errors.push(params.args.map((a: any) => a.value ?? a.description).join(' '));
      });
      await on('Page.enable');
      await on('Runtime.enable');
      await on('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
      const page: Page = {
        errors,
        async eval(expression) {
          const r = await on('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
          if (r.exceptionDetails) throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
          return r.result.value;
        },
        waitFor(what, expression, timeoutMs = 90_000) {
          return until(what, async () => (await page.eval(expression)) || undefined, timeoutMs) as Promise<any>;
        },
        async goto(url) {
          await on('Page.navigate', { url });
          await page.waitFor(`${url} to load`, 'document.readyState === "complete"');
        },
        async bringToFront() {
          await on('Page.bringToFront');
        },
        async screenshot(file) {
          const { data } = await on('Page.captureScreenshot', { format: 'png' });
          fs.mkdirSync(path.dirname(file), { recursive: true });
          fs.writeFileSync(file, Buffer.from(data as string, 'base64'));
        },
        async close() {
          await send('Target.closeTarget', { targetId });
        },
      };
      return page;
    },
    async close() {
      await send('Browser.close').catch(() => {});
      ws.close();
      const exited = await Promise.race([proc.then(() => true), new Promise((r) => setTimeout(() => r(false), 10_000))]);
      if (!exited) proc.kill('SIGKILL');
      fs.rmSync(profileDir, { recursive: true, force: true });
    },
  };
}
