// The e2e tests' web servers, on 127.0.0.1 with free ports: the built demo (dist/) with fixture
// model repos under /models/<name>/ served as the Hub serves files (HEAD, Range), and a second
// origin for a plain third-party page that embeds <qwen-chat> from the first.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, resolve, sep } from 'node:path';
import { serveControl, serveWithFaults, type ServeControl } from '../scripts/static-server.ts';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export interface Servers {
  /** The demo's origin, ending in '/'. */
  app: string;
  /** Base URL of a fixture repo: `${models}qwen35-tiny-text/`. */
  models: string;
  /** Another origin, serving `pages` (path → HTML). */
  other: string;
  /** Faults for the app origin (the demo and the models alike). */
  control: ServeControl;
  pages: Map<string, string>;
  close(): Promise<void>;
}

/** `repos`: more model directories, served as /models/<name>/ beside the fixtures. */
export async function startServers(dist: string, fixtures: string, repos: Record<string, string> = {}): Promise<Servers> {
  if (!existsSync(resolve(dist, 'index.html')) || !existsSync(resolve(dist, 'lib/qwen-chat.js'))) {
    throw new Error(`${dist} has no built demo and library: run npm run build first`);
  }
  const control = serveControl();
  const pages = new Map<string, string>();
  const app = await listen((req, res) => {
    // The models and the library are fetched across origins (the embed page), as from the Hub or a CDN.
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Length, Content-Range, ETag, Accept-Ranges');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'Access-Control-Allow-Headers': 'Range', 'Access-Control-Allow-Methods': 'GET, HEAD' }).end();
      return;
    }
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const repo = Object.keys(repos).find((name) => path.startsWith(`/models/${name}/`));
    if (repo) {
      req.url = req.url!.slice(`/models/${repo}`.length);
      return serveWithFaults(repos[repo], control, req, res);
    }
    if (path.startsWith('/models/')) {
      req.url = req.url!.slice('/models'.length);
      return serveWithFaults(fixtures, control, req, res);
    }
    if (control.offline) {
      control.log.push(`${req.method} ${path} (refused)`);
      return void req.socket.destroy();
    }
    serveStatic(dist, path, res);
  });
  const other = await listen((req, res) => {
    const page = pages.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (!page) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': MIME['.html'] }).end(page);
  });
  return {
    app: app.url,
    models: `${app.url}models/`,
    other: other.url,
    control,
    pages,
    close: async () => {
      await app.close();
      await other.close();
    },
  };
}

function serveStatic(root: string, path: string, res: ServerResponse): void {
  const file = resolve(root, `.${decodeURIComponent(path.endsWith('/') ? `${path}index.html` : path)}`);
  if (!file.startsWith(root + sep) || !statSync(file, { throwIfNoEntry: false })?.isFile()) return void res.writeHead(404).end();
  res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' }).end(readFileSync(file));
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer(handler);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise<void>((done) => {
      server.closeAllConnections();
      server.close(() => done());
    }),
  };
}
