// FileSource implementations over HTTP (FetchSource) and a local directory (NodeDirSource): the same
// contract for both, then how FetchSource copes with servers that ignore Range, cut answers short,
// hide lengths or fail.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbortError, CheckpointError } from '../src/loader/errors.ts';
import { FetchSource } from '../src/loader/fetch-source.ts';
import type { FileSource } from '../src/loader/file-source.ts';
import { NodeDirSource } from '../scripts/node-file-source.ts';

const dir = mkdtempSync(join(tmpdir(), 'fetch-source-'));
const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7 + 3) & 255);
writeFileSync(join(dir, 'model.safetensors'), data);
writeFileSync(join(dir, 'with space.json'), '{"a": 1}');

/** How the test server misbehaves: the first path segment picks it. */
type Mode = 'ok' | 'norange' | 'short' | 'nolength' | 'broken';
const seenHeaders: Record<string, string | undefined>[] = [];

function handle(req: IncomingMessage, res: ServerResponse): void {
  const [, mode, ...rest] = decodeURIComponent(new URL(req.url!, 'http://x').pathname).split('/') as [string, Mode, ...string[]];
  seenHeaders.push({ authorization: req.headers.authorization, range: req.headers.range });
  if (mode === 'broken') {
    res.writeHead(500, 'Broken On Purpose').end();
    return;
  }
  let body: Buffer;
  try {
    body = readFileSync(join(dir, ...rest));
  } catch {
    res.writeHead(404).end();
    return;
  }
  if (req.method === 'HEAD') {
    res.writeHead(200, mode === 'nolength' ? {} : { 'Content-Length': body.length }).end();
    return;
  }
  const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
  if (!range || mode === 'norange') {
    res.writeHead(200, { 'Content-Length': body.length }).end(body);
    return;
  }
  const start = Number(range[1]);
  const end = Math.min(body.length, Number(range[2]) + 1);
  if (start >= body.length) {
    res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
    return;
  }
  const part = body.subarray(start, mode === 'short' ? end - 1 : end);
  res.writeHead(206, { 'Content-Range': `bytes ${start}-${start + part.length - 1}/${body.length}`, 'Content-Length': part.length }).end(part);
}

let server: Server;
let origin = '';
before(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.close();
  rmSync(dir, { recursive: true });
});

const sources: [string, () => FileSource][] = [
  ['FetchSource', () => new FetchSource(`${origin}/ok`)],
  ['NodeDirSource', () => new NodeDirSource(dir)],
];

for (const [name, make] of sources) {
  describe(`${name} (FileSource contract)`, () => {
    test('size of a file, null for a missing one', async () => {
      const source = make();
      assert.equal(await source.size('model.safetensors'), data.length);
      assert.equal(await source.size('with space.json'), 8);
      assert.equal(await source.size('missing.json'), null);
    });

    test('reads exactly the requested bytes', async () => {
      const source = make();
      assert.deepEqual(await source.read('model.safetensors', 100, 357), data.subarray(100, 357));
      assert.deepEqual(await source.read('model.safetensors', 0, data.length), data);
      assert.equal((await source.read('model.safetensors', 5, 5)).byteLength, 0);
      assert.equal(new TextDecoder().decode(await source.read('with space.json', 0, 8)), '{"a": 1}');
    });

    test('a read past the end or of a missing file is a CheckpointError naming the file', async () => {
      const source = make();
      await assert.rejects(source.read('model.safetensors', 990, 1010), (e) => e instanceof CheckpointError && e.file === 'model.safetensors');
      await assert.rejects(source.read('model.safetensors', 1000, 1001), CheckpointError);
      await assert.rejects(source.read('missing.bin', 0, 4), (e) => e instanceof CheckpointError && e.file === 'missing.bin');
    });

    test('an aborted read is an AbortError', async () => {
      const controller = new AbortController();
      controller.abort();
      await assert.rejects(make().read('model.safetensors', 0, 10, controller.signal), AbortError);
    });
  });
}

describe('FetchSource against imperfect servers', () => {
  test('sends one single-range request per read, with the caller headers', async () => {
    seenHeaders.length = 0;
    const source = new FetchSource(`${origin}/ok/`, { headers: { Authorization: 'Bearer t' } });
    await source.read('model.safetensors', 10, 20);
    assert.deepEqual(seenHeaders, [{ authorization: 'Bearer t', range: 'bytes=10-19' }]);
  });

  test('slices a whole-file 200 from a server that ignores Range', async () => {
    const source = new FetchSource(`${origin}/norange`);
    assert.deepEqual(await source.read('model.safetensors', 100, 200), data.subarray(100, 200));
    await assert.rejects(source.read('model.safetensors', 900, 1001), /read past the end/);
  });

  test('rejects a 206 answer shorter than asked', async () => {
    await assert.rejects(new FetchSource(`${origin}/short`).read('model.safetensors', 0, 100), (e) => e instanceof CheckpointError && /short read/.test(e.message));
  });

  test('measures the body when HEAD gives no length', async () => {
    assert.equal(await new FetchSource(`${origin}/nolength`).size('model.safetensors'), data.length);
  });

  test('HTTP errors name the status', async () => {
    const source = new FetchSource(`${origin}/broken`);
    await assert.rejects(source.size('config.json'), (e) => e instanceof CheckpointError && /HTTP 500 Broken On Purpose/.test(e.message));
    await assert.rejects(source.read('config.json', 0, 1), /HTTP 500/);
    await assert.rejects(new FetchSource(`${origin}/ok`).read('missing.bin', 0, 1), /not found: .* answered HTTP 404/);
  });

  test('an unreachable server is a CheckpointError', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(new FetchSource(`http://127.0.0.1:${port}/`).size('config.json'), (e) => e instanceof CheckpointError && /cannot fetch/.test(e.message));
  });
});
