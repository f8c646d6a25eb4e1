// Serves a directory the way the Hugging Face Hub serves a repo's files to FetchSource: HEAD with
// Content-Length, and single-range GETs answered 206. Used by `npm run verify` (as Vite middleware),
// the engine tests and the e2e server; it listens on loopback only.
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve, sep } from 'node:path';

/** Answers one request for `dir`/<request path>; 404 for anything outside `dir` or missing. */
export function serveFile(dir: string, req: IncomingMessage, res: ServerResponse): void {
  const file = resolve(dir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.slice(1)));
  const info = file.startsWith(dir + sep) ? statSync(file, { throwIfNoEntry: false }) : undefined;
  if (!info?.isFile()) {
    res.statusCode = 404;
    res.end();
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.statusCode = 405;
    res.end();
    return;
  }
  const size = info.size;
  let start = 0;
  let end = size; // exclusive
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Content-Type', 'application/octet-stream');
  res.setHeader('Cache-Control', 'no-store');
  // Only the single-range forms; anything else is ignored and answered with the whole file (RFC 9110).
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
  if (range && (range[1] || range[2])) {
    if (range[1]) {
      start = Number(range[1]);
      if (range[2]) end = Math.min(size, Number(range[2]) + 1);
    } else {
      start = Math.max(0, size - Number(range[2]));
    }
    if (start >= end) {
      res.statusCode = 416;
      res.setHeader('Content-Range', `bytes */${size}`);
      res.end();
      return;
    }
    res.statusCode = 206;
    res.setHeader('Content-Range', `bytes ${start}-${end - 1}/${size}`);
  }
  res.setHeader('Content-Length', end - start);
  if (req.method === 'HEAD' || end === start) {
    res.end();
    return;
  }
  createReadStream(file, { start, end: end - 1 })
    .on('error', () => res.destroy())
    .pipe(res);
}

/**
 * Faults a test can switch on while the server runs: refuse every connection (offline), cut the
 * next body of a file after some bytes (a connection lost mid-download), delay each answer.
 */
export interface ServeControl {
  offline: boolean;
  /** Request path (as in the URL, e.g. "/model.safetensors") → body bytes to send before cutting; used up by the first body that long. */
  cutAfter: Map<string, number>;
  delayMs: number;
  /** "METHOD /path [range]" of every request (refused ones too), for tests that count them. */
  log: string[];
}

export function serveControl(): ServeControl {
  return { offline: false, cutAfter: new Map(), delayMs: 0, log: [] };
}

/** Answers a request as serveFile does, subject to the faults in `control`. */
export function serveWithFaults(dir: string, control: ServeControl, req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  control.log.push(`${req.method} ${path}${req.headers.range ? ` ${req.headers.range}` : ''}${control.offline ? ' (refused)' : ''}`);
  if (control.offline) {
    req.socket.destroy();
    return;
  }
  const cut = req.method === 'GET' ? control.cutAfter.get(path) : undefined;
  if (cut !== undefined) {
    let sent = 0;
    const write = res.write.bind(res) as (chunk: Buffer) => boolean;
    res.write = ((chunk: Buffer) => {
      if (sent + chunk.length < cut) {
        sent += chunk.length;
        return write(chunk);
      }
      control.cutAfter.delete(path);
      write(chunk.subarray(0, cut - sent));
      res.destroy();
      return false;
    }) as typeof res.write;
  }
  if (control.delayMs > 0) setTimeout(() => serveFile(dir, req, res), control.delayMs);
  else serveFile(dir, req, res);
}

/** Serves `dir` at http://127.0.0.1:<port>/ until close() resolves; `control` injects faults. */
export async function serveDirectory(dir: string, control?: ServeControl): Promise<{ url: string; close: () => Promise<void> }> {
  const root = resolve(dir);
  const server: Server = createServer((req, res) => (control ? serveWithFaults(root, control, req, res) : serveFile(root, req, res)));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url,
    close: () => new Promise<void>((done) => {
      server.closeAllConnections();
      server.close(() => done());
    }),
  };
}
