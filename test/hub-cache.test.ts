// Model sources: Hub ids and base URLs, then the block cache over a local HTTP server that can
// count requests, cut a response short or refuse every connection (offline).
import type { LoadProgress } from '../src/api.ts';
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheStorageBlockStore, CachedSource, MemoryBlockStore, ModelNotCachedError, blockChecksum } from '../src/loader/cached-source.ts';
import { openCheckpoint } from '../src/loader/checkpoint.ts';
import { AbortError } from '../src/loader/errors.ts';
import { FetchSource, HttpStatusError } from '../src/loader/fetch-source.ts';
import { readJsonFile } from '../src/loader/file-source.ts';
import { ModelIdError, resolveModelSource } from '../src/loader/hub.ts';
import { NodeDirSource } from '../scripts/node-file-source.ts';

describe('resolveModelSource', () => {
  test('Hub repo ids resolve through /resolve/<revision>/', () => {
    assert.deepEqual(resolveModelSource('Qwen/Qwen3.5-0.8B'), { baseUrl: 'https://huggingface.co/Qwen/Qwen3.5-0.8B/resolve/main/', label: 'Qwen/Qwen3.5-0.8B' });
    assert.deepEqual(resolveModelSource(' Qwen/Qwen3.5-0.8B@v1.0 '), { baseUrl: 'https://huggingface.co/Qwen/Qwen3.5-0.8B/resolve/v1.0/', label: 'Qwen/Qwen3.5-0.8B@v1.0' });
    assert.equal(resolveModelSource('me/model_x@refs/pr/3').baseUrl, 'https://huggingface.co/me/model_x/resolve/refs%2Fpr%2F3/');
    assert.equal(resolveModelSource('https://huggingface.co/Qwen/Qwen3.5-0.8B').baseUrl, 'https://huggingface.co/Qwen/Qwen3.5-0.8B/resolve/main/');
  });

  test('base URLs and same-origin paths are kept, with a trailing slash', () => {
    assert.deepEqual(resolveModelSource('https://example.com/models/q?x=1'), { baseUrl: 'https://example.com/models/q/', label: 'https://example.com/models/q/' });
    assert.equal(resolveModelSource('http://127.0.0.1:8080/m/').baseUrl, 'http://127.0.0.1:8080/m/');
    assert.equal(resolveModelSource('/models/tiny').baseUrl, '/models/tiny/');
    assert.equal(resolveModelSource('./tiny').baseUrl, './tiny/');
    assert.equal(resolveModelSource('../tiny/').baseUrl, '../tiny/');
  });

  test('malformed ids are ModelIdErrors that say what is wrong', () => {
    for (const bad of ['', 'Qwen', 'a/b/c', '-a/b', 'a/b.', 'a--b/c', 'a/b..c', 'a/b c', 'a/b@', 'a/b@x y', 'a/b@../x', 'ftp://x/y', 'https://']) {
      assert.throws(() => resolveModelSource(bad), ModelIdError, bad);
    }
    assert.throws(() => resolveModelSource('a/b/c'), /owner\/name/);
  });
});

const FIXTURE = new URL('../../shared/fixtures/qwen35-tiny-text/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'hub-cache-'));
const BLOCK = 1000;
const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + (i >> 8)) & 255);
let model = bytes(4500, 1);

const server = {
  offline: false,
  /** Body bytes to send in all before cutting a response off mid-body (null: no limit). */
  dropAfter: null as number | null,
  log: [] as string[],
};

function handle(req: IncomingMessage, res: ServerResponse): void {
  if (server.offline) {
    req.socket.destroy();
    return;
  }
  const [, root, ...rest] = decodeURIComponent(new URL(req.url!, 'http://x').pathname).split('/');
  const file = rest.join('/');
  if (root === 'denied') {
    res.writeHead(401, 'Unauthorized').end();
    return;
  }
  server.log.push(`${req.method} ${file}${req.headers.range ? ` ${req.headers.range}` : ''}`);
  let body: Buffer;
  try {
    body = readFileSync(join(root === 'fixture' ? FIXTURE : dir, file));
  } catch {
    res.writeHead(404).end();
    return;
  }
  const etag = `"${createHash('sha1').update(body).digest('hex')}"`;
  if (req.method === 'HEAD') {
    res.writeHead(200, { 'Content-Length': body.length, ETag: etag }).end();
    return;
  }
  const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
  const start = range ? Number(range[1]) : 0;
  const part = body.subarray(start, range ? Math.min(body.length, Number(range[2]) + 1) : body.length);
  res.writeHead(range ? 206 : 200, { 'Content-Length': part.length, ETag: etag, ...(range && { 'Content-Range': `bytes ${start}-${start + part.length - 1}/${body.length}` }) });
  if (server.dropAfter !== null && part.length > server.dropAfter) {
    res.write(part.subarray(0, server.dropAfter), () => res.destroy());
    server.dropAfter = 0;
    return;
  }
  if (server.dropAfter !== null) server.dropAfter -= part.length;
  res.end(part);
}

let http: Server;
let origin = '';
before(async () => {
  http = createServer(handle);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});
after(() => {
  http.closeAllConnections();
  http.close();
  rmSync(dir, { recursive: true });
});

beforeEach(() => {
  model = bytes(4500, 1);
  writeFileSync(join(dir, 'model.bin'), model);
  writeFileSync(join(dir, 'config.json'), '{"model_type": "test"}');
  Object.assign(server, { offline: false, dropAfter: null, log: [] });
});

function cached(store: MemoryBlockStore, onProgress?: (p: LoadProgress) => void, root = 'files') {
  return new CachedSource(new FetchSource(`${origin}/${root}/`), { model: 'test/model', store, blockSize: BLOCK, onProgress });
}

const gets = () => server.log.filter((line) => line.startsWith('GET'));
const blockKey = (file: string, i: number) => `test%2Fmodel/${file}/block/${i}`;

describe('CachedSource', () => {
  test('the first read downloads only the blocks it touches and caches them', async () => {
    const store = new MemoryBlockStore();
    const source = cached(store);
    assert.deepEqual(await source.read('model.bin', 100, 2600), model.subarray(100, 2600));
    assert.deepEqual(server.log, ['HEAD model.bin', 'GET model.bin bytes=0-999', 'GET model.bin bytes=1000-1999', 'GET model.bin bytes=2000-2999']);
    assert.deepEqual((await store.keys('')).sort(), [blockKey('model.bin', 0), blockKey('model.bin', 1), blockKey('model.bin', 2), 'test%2Fmodel/model.bin/manifest']);
    // Each record is the block followed by its checksum.
    const record = store.records.get(blockKey('model.bin', 1))!;
    assert.equal(record.byteLength, BLOCK + 4);
    assert.equal(new DataView(record.buffer).getUint32(BLOCK, true), blockChecksum(model.subarray(1000, 2000)));
  });

  test('a second read makes no request; a new session only revalidates with HEAD', async () => {
    const store = new MemoryBlockStore();
    const source = cached(store);
    await source.read('model.bin', 0, 4500);
    server.log = [];
    assert.deepEqual(await source.read('model.bin', 1500, 4200), model.subarray(1500, 4200));
    assert.deepEqual(server.log, []);
    assert.deepEqual(await cached(store).read('model.bin', 0, 4500), model);
    assert.deepEqual(server.log, ['HEAD model.bin']);
  });

  test('an interrupted download resumes from the first missing block', async () => {
    const store = new MemoryBlockStore();
    server.dropAfter = 2500;
    await assert.rejects(cached(store).read('model.bin', 0, 4500), (e) => e instanceof ModelNotCachedError && /model\.bin: bytes \[2000, 3000\)/.test(e.message));
    assert.deepEqual(gets(), ['GET model.bin bytes=0-999', 'GET model.bin bytes=1000-1999', 'GET model.bin bytes=2000-2999']);
    server.log = [];
    server.dropAfter = null;
    assert.deepEqual(await cached(store).read('model.bin', 0, 4500), model);
    assert.deepEqual(gets(), ['GET model.bin bytes=2000-2999', 'GET model.bin bytes=3000-3999', 'GET model.bin bytes=4000-4499']);
  });

  test('a block failing its checksum or of the wrong length is discarded and fetched again', async () => {
    const store = new MemoryBlockStore();
    await cached(store).prefetch(['model.bin']);
    store.records.get(blockKey('model.bin', 1))![17] ^= 0x40;
    store.records.set(blockKey('model.bin', 3), store.records.get(blockKey('model.bin', 3))!.subarray(0, 600));
    server.log = [];
    const source = cached(store);
    assert.deepEqual(await source.read('model.bin', 0, 4500), model);
    assert.deepEqual(gets(), ['GET model.bin bytes=1000-1999', 'GET model.bin bytes=3000-3999']);
    server.log = [];
    assert.deepEqual(await cached(store).read('model.bin', 0, 4500), model);
    assert.deepEqual(gets(), [], 'the refetched blocks were stored again');
  });

  test('a file that changed on the server (size or ETag) invalidates its cache', async () => {
    const store = new MemoryBlockStore();
    await cached(store).prefetch(['model.bin', 'config.json']);
    model = bytes(2500, 2);
    writeFileSync(join(dir, 'model.bin'), model);
    const source = cached(store);
    assert.equal(await source.size('model.bin'), 2500);
    assert.deepEqual(await source.read('model.bin', 0, 2500), model);
    assert.deepEqual((await store.keys(blockKey('model.bin', 0).slice(0, -1))).sort(), [0, 1, 2].map((i) => blockKey('model.bin', i)));
    assert.deepEqual(await cached(store).read('config.json', 0, 22), new TextEncoder().encode('{"model_type": "test"}'), 'other files stay cached');

    model = bytes(2500, 3); // same size, new content: only the ETag tells
    writeFileSync(join(dir, 'model.bin'), model);
    server.log = [];
    assert.deepEqual(await cached(store).read('model.bin', 0, 2500), model);
    assert.equal(gets().length, 3);
  });

  test('offline with a complete cache, everything works, including files known to be missing', async () => {
    const store = new MemoryBlockStore();
    const online = cached(store, undefined, 'fixture');
    const files = ['config.json', 'model.safetensors', 'tokenizer.json'];
    await online.prefetch(files);
    assert.equal(await online.size('model.safetensors.index.json'), null);
    assert.equal(await online.isCached(files), true);

    server.offline = true;
    const offline = cached(store, undefined, 'fixture');
    const local = new NodeDirSource(FIXTURE);
    assert.deepEqual(await readJsonFile(offline, 'config.json'), await readJsonFile(local, 'config.json'));
    const checkpoint = await openCheckpoint(offline);
    const reference = await openCheckpoint(local);
    assert.deepEqual(checkpoint.names().sort(), reference.names().sort());
    for (const name of checkpoint.names()) assert.deepEqual(await checkpoint.readTensor(name), await reference.readTensor(name), name);
  });

  test('offline with a partial cache, the error names the file and says the model is not fully cached', async () => {
    const store = new MemoryBlockStore();
    const online = cached(store);
    await online.prefetch(['config.json']);
    await online.read('model.bin', 0, 10);
    assert.equal(await online.isCached(['config.json', 'model.bin']), false);
    server.offline = true;
    const offline = cached(store);
    assert.equal(await offline.size('config.json'), 22);
    await assert.rejects(offline.read('model.bin', 0, 4500), (e) => e instanceof ModelNotCachedError && e.file === 'model.bin' && /bytes \[1000, 2000\) are not cached/.test(e.message) && /not fully cached/.test(e.message));
    await assert.rejects(offline.size('tokenizer.json'), (e) => e instanceof ModelNotCachedError && e.file === 'tokenizer.json' && /not fully cached/.test(e.message));
  });

  test('prefetch reports monotonic progress that ends at the totals, then a cached load reports from cache', async () => {
    const store = new MemoryBlockStore();
    const events: LoadProgress[] = [];
    await new CachedSource(new FetchSource(`${origin}/files/`), { model: 'test/model', store, blockSize: BLOCK, concurrency: 3, onProgress: (p) => events.push(p) }).prefetch(['config.json', 'model.bin']);
    assert.equal(gets().length, 6, 'each block downloaded once');
    checkProgress(events, { 'config.json': 22, 'model.bin': 4500 });
    assert.ok(events.every((p) => p.from === 'network'));

    // A load plans what it will read (here a 3000-byte range of model.bin) and re-reads overlap.
    events.length = 0;
    server.log = [];
    const source = cached(store, (p) => events.push(p));
    await source.size('model.bin');
    source.planDownload([{ path: 'config.json', size: 22 }, { path: 'model.bin', size: 3000 }]);
    await source.read('config.json', 0, 22);
    await source.read('model.bin', 500, 2000);
    await source.read('model.bin', 1000, 2000);
    await source.read('model.bin', 2000, 3500);
    checkProgress(events, { 'config.json': 22, 'model.bin': 3000 });
    assert.ok(events.every((p) => p.from === 'cache'));
    assert.deepEqual(gets(), []);
  });

  test('peeking reads just the bytes asked for from blocks not yet stored, and stores no block', async () => {
    const store = new MemoryBlockStore();
    const peek = new CachedSource(new FetchSource(`${origin}/files/`), { model: 'test/model', store, blockSize: BLOCK, peek: true });
    assert.deepEqual(await peek.read('model.bin', 1010, 1030), model.subarray(1010, 1030));
    assert.deepEqual(gets(), ['GET model.bin bytes=1010-1029']);
    assert.deepEqual(await store.keys(blockKey('model.bin', 0).slice(0, -1)), []);
    // Blocks a real load stored are used, without the network.
    await cached(store).read('model.bin', 0, 1000);
    server.log = [];
    assert.deepEqual(await peek.read('model.bin', 10, 30), model.subarray(10, 30));
    assert.deepEqual(gets(), []);
  });

  test('storedBytes counts the bytes of ranges whose blocks are stored', async () => {
    const store = new MemoryBlockStore();
    const source = cached(store);
    assert.equal(await source.storedBytes([{ path: 'model.bin', start: 0, end: 4500 }]), 0);
    await source.read('model.bin', 1500, 2500); // blocks 1 and 2
    assert.equal(await source.storedBytes([{ path: 'model.bin', start: 0, end: 4500 }]), 2000);
    assert.equal(await source.storedBytes([{ path: 'model.bin', start: 1900, end: 2100 }, { path: 'config.json', start: 0, end: 22 }]), 200);
  });

  test('a server that answers with an error status is reported as such, not as a missing cache', async () => {
    await assert.rejects(cached(new MemoryBlockStore(), undefined, 'denied').size('config.json'), (e) => e instanceof HttpStatusError && e.status === 401 && /HTTP 401/.test(e.message));
  });

  test('an aborted prefetch is an AbortError; evict removes one model only', async () => {
    const store = new MemoryBlockStore();
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(cached(store).prefetch(['model.bin'], controller.signal), AbortError);
    const other = new CachedSource(new FetchSource(`${origin}/files/`), { model: 'other', store, blockSize: BLOCK });
    await other.prefetch(['config.json']);
    const source = cached(store);
    await source.prefetch(['model.bin', 'config.json']);
    assert.equal(await source.isCached(['model.bin', 'config.json']), true);
    await source.evict();
    assert.equal(await source.isCached(['model.bin']), false);
    assert.deepEqual(await store.keys('test%2Fmodel/'), []);
    assert.equal(await other.isCached(['config.json']), true);
  });
});

function checkProgress(events: LoadProgress[], totals: Record<string, number>): void {
  const overallTotal = Object.values(totals).reduce((a, b) => a + b, 0);
  const perFile = new Map<string, number>();
  let overall = 0;
  for (const p of events) {
    assert.equal(p.overallTotalBytes, overallTotal);
    assert.equal(p.totalBytes, totals[p.file]);
    assert.ok(p.overallLoadedBytes > overall && p.overallLoadedBytes <= overallTotal, `overall ${p.overallLoadedBytes} after ${overall}`);
    assert.ok(p.loadedBytes > (perFile.get(p.file) ?? 0) && p.loadedBytes <= p.totalBytes);
    overall = p.overallLoadedBytes;
    perFile.set(p.file, p.loadedBytes);
  }
  assert.equal(overall, overallTotal);
  for (const [file, total] of Object.entries(totals)) assert.equal(perFile.get(file), total, file);
}

test('CacheStorageBlockStore round-trips keys and bytes through Cache Storage URLs', async () => {
  // Node has no Cache Storage: a stand-in keyed by Request URLs, as the browser's is, checks the key encoding.
  const entries = new Map<string, Response>();
  const cache = {
    match: async (key: string) => entries.get(new Request(key).url)?.clone(),
    put: async (key: string, response: Response) => void entries.set(new Request(key).url, response),
    delete: async (key: string) => entries.delete(new Request(key).url),
    keys: async () => [...entries.keys()].map((key) => new Request(key)),
  };
  Object.assign(globalThis, { caches: { open: async () => cache } });
  try {
    const store = new CacheStorageBlockStore();
    const key = 'Qwen%2FQwen3.5-0.8B@main/model-00001-of-00002.safetensors/block/7';
    await store.put(key, Uint8Array.of(1, 2, 3));
    await store.put('other/../x/manifest', Uint8Array.of(4));
    assert.deepEqual(await store.get(key), Uint8Array.of(1, 2, 3));
    assert.deepEqual((await store.keys('')).sort(), [key, 'other/../x/manifest']);
    assert.deepEqual(await store.keys('Qwen%2F'), [key]);
    await store.delete(key);
    assert.equal(await store.get(key), null);
  } finally {
    delete (globalThis as { caches?: unknown }).caches;
  }
});
