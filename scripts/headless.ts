// Runs one of the repo's harness pages (scripts/*-page/) in headless Chromium with WebGPU on, served
// by Vite from the repo root, optionally with a directory served at `serve.path` the way the Hub
// serves files. The page reports through window.harnessLog(line) and window.harnessDone(result).
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';
import { CHROMIUM_ARGS, chromiumPath } from './chromium.ts';
import type { HarnessResult } from './harness-page.ts';
import { serveFile } from './static-server.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** A failure whose message says it all: no stack needed. */
export class HarnessError extends Error {}


export interface PageRun {
  /** The page, relative to the repo root: 'scripts/bench-page/index.html'. */
  page: string;
  query?: URLSearchParams;
  serve?: { path: string; dir: string };
  log: (line: string) => void;
  timeoutMs: number;
}

export async function runPage<T>(run: PageRun): Promise<T> {
  const executablePath = chromiumPath();
  if (!existsSync(executablePath)) throw new HarnessError(`Chromium not found at ${executablePath}: install it (Debian: apt-get install chromium) or set CHROMIUM_PATH`);
  const { createServer } = await import('vite');
  const { chromium } = await import('playwright-core');
  const server = await createServer({
    configFile: resolve(REPO, 'vite.config.ts'),
    root: REPO,
    logLevel: 'warn',
    clearScreen: false,
    server: { host: '127.0.0.1', port: 0, hmr: false, watch: null },
    optimizeDeps: { entries: [run.page] },
    // A one-shot server: no file watching, no HMR socket, and a dependency scan of this page only.
    plugins: run.serve ? [serveDir(run.serve.path, run.serve.dir)] : [],
  });
  let browser: import('playwright-core').Browser | undefined;
  let watchdog: NodeJS.Timeout | undefined;
  try {
    await server.listen();
    const { port } = server.httpServer!.address() as AddressInfo;
    browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS, timeout: 5 * 60 * 1000 });
    const page = await browser.newPage();
    page.setDefaultTimeout(run.timeoutMs);
    page.on('console', (message) => {
      // Debug messages are Vite's client chatter; failed loads are only useful with their URL.
      if (message.type() === 'debug') return;
      const url = message.location().url;
      console.error(`[browser ${message.type()}] ${message.text()}${url ? ` (${url})` : ''}`);
    });
    page.on('pageerror', (error) => console.error(`[browser page error] ${error.stack ?? error.message}`));
    let finish!: (result: HarnessResult<T>) => void;
    let fail!: (error: Error) => void;
    const done = new Promise<HarnessResult<T>>((ok, reject) => {
      finish = ok;
      fail = reject;
    });
    // Awaited only once the page has started; a rejection before that (or from closing) is moot.
    done.catch(() => undefined);
    page.on('crash', () => fail(new HarnessError('the browser page crashed (out of memory?)')));
    browser.on('disconnected', () => fail(new HarnessError('the browser exited')));
    watchdog = setTimeout(() => fail(new HarnessError(`no result from the browser after ${run.timeoutMs / 60000} minutes`)), run.timeoutMs);
    await page.exposeFunction('harnessDone', (result: HarnessResult<T>) => finish(result));
    await page.exposeFunction('harnessLog', (line: string) => run.log(line));
    await page.goto(`http://127.0.0.1:${port}/${run.page}${run.query ? `?${run.query}` : ''}`);
    if (!(await page.evaluate(() => (window as { harnessStarted?: boolean }).harnessStarted === true))) {
      throw new HarnessError('the page did not start (a module failed to load; see the messages above)');
    }
    const result = await done;
    if ('error' in result) {
      if (result.stack) console.error(`[browser] ${result.stack}`);
      throw new HarnessError(result.error);
    }
    return result.ok;
  } finally {
    clearTimeout(watchdog);
    await browser?.close();
    await server.close();
  }
}

function serveDir(path: string, dir: string): Plugin {
  return {
    name: 'harness-serve-dir',
    configureServer(server) {
      server.middlewares.use(path, (req: IncomingMessage, res: ServerResponse) => serveFile(dir, req, res));
    },
  };
}
