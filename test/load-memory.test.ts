// Peak JS heap while a model loads: weights stream from the network through one download block at
// a time into GPU buffers, so the heap holds about one block, never a shard. Measured over a real
// HTTP download into an on-disk block store (off the heap, as Cache Storage is) and again from it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { QwenEngine } from '../src/engine/engine.ts';
import type { BlockStore } from '../src/loader/cached-source.ts';
import { serveDirectory } from '../scripts/static-server.ts';
import { testDevice } from './helpers/gpu.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const FIXTURE = new URL('../../shared/fixtures/qwen35-realdims-2l/', import.meta.url).pathname;
const BLOCK = 16 << 20; // CachedSource's default block: the unit of each download request
// The "small constant": about three 1 MiB upload chunks (rows read, their converted copy, the
// previous chunk still referenced from a suspended async frame) and the JS objects a load makes
// (tokenizer, headers, the model's pipelines and bind groups). Measured: about 5 MiB.
const SLACK = 6 << 20;
const MiB = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

let peak = 0;
/**
 * Live bytes: the V8 heap plus ArrayBuffer backing stores, after full collections. V8 frees dead
 * backing stores on a background sweeper; the second collection waits for the first one's sweep.
 */
function live(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}
function sample(): void {
  peak = Math.max(peak, live());
}

/** Records in files: what the browser's Cache Storage is to the engine, and just as off-heap. */
class DiskStore implements BlockStore {
  constructor(private readonly dir: string) {}
  private file(key: string) {
    return join(this.dir, encodeURIComponent(key));
  }
  async get(key: string) {
    try {
      // A view of the file's Buffer (large ones are not pooled), so reading holds one copy, as Cache Storage does.
      const file = await readFile(this.file(key));
      const bytes = new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
      sample();
      return bytes;
    } catch {
      return null;
    }
  }
  async put(key: string, bytes: Uint8Array) {
    sample();
    await writeFile(this.file(key), bytes);
  }
  async delete(key: string) {
    await rm(this.file(key), { force: true });
  }
  async keys(prefix: string) {
    return (await readdir(this.dir)).map(decodeURIComponent).filter((k) => k.startsWith(prefix));
  }
}

const dir = mkdtempSync(join(tmpdir(), 'load-memory-'));
let server: Awaited<ReturnType<typeof serveDirectory>>;
before(async () => {
  server = await serveDirectory(FIXTURE);
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true });
});

async function measuredLoad(engine: QwenEngine): Promise<number> {
  const baseline = live();
  peak = 0;
  await engine.load(server.url, { maxContext: 64 }, sample);
  await engine.unload();
  return peak - baseline;
}

test('peak JS heap during a load stays below one download block plus a small constant', async () => {
  const shard = statSync(join(FIXTURE, 'model.safetensors')).size;
  assert.ok(shard > 2 * BLOCK, 'the checkpoint must be larger than a block for this to mean anything');
  const engine = new QwenEngine(testDevice, new DiskStore(dir));
  await engine.checkFit(server.url, { maxContext: 64 }); // the device and the header parse, outside the measurement
  const fromNetwork = await measuredLoad(engine);
  const fromCache = await measuredLoad(engine);
  console.log(`peak JS heap during load, above the baseline: ${MiB(fromNetwork)} downloading, ${MiB(fromCache)} from the cache ` +
    `(download block ${MiB(BLOCK)}, bound ${MiB(BLOCK + SLACK)}, shard ${MiB(shard)})`);
  for (const [what, bytes] of [['download', fromNetwork], ['cached load', fromCache]] as const) {
    assert.ok(bytes < BLOCK + SLACK, `${what}: ${MiB(bytes)} is more than a block plus ${MiB(SLACK)}`);
    // The block itself is live while its rows upload: a measurement that misses it measures nothing.
    assert.ok(bytes > BLOCK * 0.9, `${what}: ${MiB(bytes)} is less than the block the load must hold; the measurement is broken`);
  }
});
