import type { LoadProgress } from '../api.ts';
import { AbortError, CheckpointError, QwenError } from './errors.ts';
import { HttpStatusError, type FileStat } from './fetch-source.ts';
import type { FileSource } from './file-source.ts';

/**
 * Persistent key → bytes records: cached blocks (each sealed with a checksum) and per-file
 * manifests (small JSON records) go through the same four calls.
 */
export interface BlockStore {
  get(key: string): Promise<Uint8Array | null>;
  put(key: string, bytes: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
  /** Every stored key that starts with `prefix`. */
  keys(prefix: string): Promise<string[]>;
  /** Bytes this origin may store and already does, where the platform says (navigator.storage). */
  estimate?(): Promise<{ quota: number; usage: number } | null>;
}

/** Tests and Node. Copies in and out, so nobody can change a stored record behind the store's back. */
export class MemoryBlockStore implements BlockStore {
  readonly records = new Map<string, Uint8Array>();
  async get(key: string) { return this.records.get(key)?.slice() ?? null; }
  async put(key: string, bytes: Uint8Array) { this.records.set(key, bytes.slice()); }
  async delete(key: string) { this.records.delete(key); }
  async keys(prefix: string) { return [...this.records.keys()].filter((k) => k.startsWith(prefix)); }
}

// Cache Storage keys must be http(s) URLs; the reserved .invalid TLD guarantees nothing is ever fetched from them.
const KEY_ORIGIN = 'https://qwen-webgpu.invalid/';
// One path segment (no '/' survives encoding), so URL parsing cannot normalise any part of a key away.
const url = (key: string) => KEY_ORIGIN + encodeURIComponent(key);

/** The browser's Cache Storage (pages, workers, service workers; secure contexts only). */
export class CacheStorageBlockStore implements BlockStore {
  private cache: Promise<Cache> | undefined;
  constructor(readonly cacheName = 'qwen-webgpu-models') {}

  async get(key: string) {
    const response = await (await this.open()).match(url(key));
    return response ? new Uint8Array(await response.arrayBuffer()) : null;
  }
  async put(key: string, bytes: Uint8Array) { await (await this.open()).put(url(key), new Response(bytes as Uint8Array<ArrayBuffer>)); }
  async delete(key: string) { await (await this.open()).delete(url(key)); }
  async estimate() {
    const estimate = await globalThis.navigator?.storage?.estimate?.().catch(() => null);
    return estimate?.quota === undefined ? null : { quota: estimate.quota, usage: estimate.usage ?? 0 };
  }
  async keys(prefix: string) {
    const keys = (await (await this.open()).keys()).map((request) => request.url).filter((u) => u.startsWith(KEY_ORIGIN));
    return keys.map((u) => decodeURIComponent(u.slice(KEY_ORIGIN.length))).filter((key) => key.startsWith(prefix));
  }

  private open(): Promise<Cache> {
    if (typeof caches === 'undefined') return Promise.reject(new Error('Cache Storage is unavailable here (it needs a secure context: https or localhost)'));
    return (this.cache ??= caches.open(this.cacheName));
  }
}

/** A file or block is not in the cache and the network could not supply it. */
export class ModelNotCachedError extends QwenError {
  constructor(readonly file: string, model: string, problem: string) {
    super('not-cached', `${file}: ${problem}. The model ${model} is not fully cached, so loading it needs the network; reconnect to finish the download.`);
  }
}

/**
 * A network source that can also report a file's validator and stream a range into a buffer it is
 * given (FetchSource does both): a block then exists once in memory, not once per copy.
 */
export type NetworkSource = FileSource & {
  stat?(path: string): Promise<FileStat | null>;
  readInto?(path: string, start: number, end: number, target: Uint8Array, signal?: AbortSignal): Promise<void>;
};

export interface CachedSourceOptions {
  /** The model's key in the store (e.g. resolveModelSource().label); evict() drops everything under it. */
  model: string;
  store: BlockStore;
  /** Bytes per block (default 16 MiB): the unit of each Range request, of resumption and of verification. */
  blockSize?: number;
  /** Blocks prefetch() downloads at once (default 4). */
  concurrency?: number;
  /**
   * Look, don't download (default false): a read from a block not yet stored fetches just the
   * requested bytes and stores nothing. For inspecting a model (config, checkpoint headers) before
   * the user agrees to download it; stored blocks are still used.
   */
  peek?: boolean;
  onProgress?: (p: LoadProgress) => void;
}

interface Manifest {
  /** null: the file does not exist upstream (remembered so that loading offline still knows). */
  size: number | null;
  etag: string | null;
  blockSize: number;
}

interface Block {
  bytes: Uint8Array;
  fromNetwork: boolean;
}

/**
 * A FileSource that keeps what it reads: each file is stored in fixed-size blocks, so a model
 * downloads once, an interrupted download resumes at the first missing block, and a load never
 * holds more than the requested range plus one block. Files are validated against the network
 * once per instance (size and ETag); when the network is unreachable a complete cache serves alone.
 */
export class CachedSource implements FileSource {
  readonly description: string;
  /** Set when the store refused a write (quota, private browsing): loads still work, but the model is not fully cached. */
  storeError: Error | null = null;
  private readonly model: string;
  private readonly store: BlockStore;
  private readonly blockSize: number;
  private readonly manifests = new Map<string, Promise<Manifest>>();
  private readonly inflight = new Map<string, Promise<Block>>();
  /** The last block used: row-chunked reads hit the same block several times in a row. */
  private last: { key: string; block: Block } | null = null;
  private planned = new Map<string, number>();
  private coverage = new Map<string, [number, number][]>();
  private overallLoaded = 0;
  private overallTotal = 0;

  constructor(
    private readonly network: NetworkSource,
    private readonly options: CachedSourceOptions,
  ) {
    this.model = options.model;
    this.store = options.store;
    this.blockSize = options.blockSize ?? 16 << 20;
    if (!Number.isSafeInteger(this.blockSize) || this.blockSize <= 0) throw new RangeError(`blockSize must be a positive integer, got ${this.blockSize}`);
    this.description = `${network.description} (cached as ${this.model})`;
  }

  async size(path: string): Promise<number | null> {
    return (await this.manifest(path)).size;
  }

  async read(path: string, start: number, end: number, signal?: AbortSignal): Promise<Uint8Array> {
    const { size } = await this.manifest(path);
    if (size === null) throw new CheckpointError(path, `not found in ${this.description}`);
    if (start < 0 || end > size) throw new CheckpointError(path, `read past the end (bytes [${start}, ${end}) of ${size})`);
    if (end <= start) return new Uint8Array(0);
    const B = this.blockSize;
    const first = Math.floor(start / B);
    const last = Math.floor((end - 1) / B);
    if (this.options.peek && !(await this.allStored(path, first, last))) {
      const bytes = await this.fetch(path, start, end, new Uint8Array(end - start), signal);
      this.delivered(path, size, start, end, true);
      return bytes;
    }
    // Always a copy, never a view into the block, and each block is touched in a call of its own:
    // a reference held anywhere (even in a suspended async frame's dead register, which V8 keeps)
    // would keep a whole block alive after the cache let go of it.
    const out = new Uint8Array(end - start);
    let fromNetwork = false;
    for (let i = first; i <= last; i++) fromNetwork = (await this.copyFromBlock(path, size, i, start, out, signal)) || fromNetwork;
    this.delivered(path, size, start, end, fromNetwork);
    return out;
  }

  /**
   * Announces what is about to be read, so progress can report an overall total: for each file,
   * the bytes the caller will read from it (its size, or the sum of the tensors it loads).
   * Resets the progress counters; reads of files not listed report per-file progress only.
   */
  planDownload(files: { path: string; size: number }[]): void {
    this.planned = new Map(files.map((f) => [f.path, f.size]));
    this.coverage = new Map();
    this.overallLoaded = 0;
    this.overallTotal = files.reduce((sum, f) => sum + f.size, 0);
  }

  /** Downloads whole files into the cache (verifying what is already there), with progress over all of them. */
  async prefetch(paths: string[], signal?: AbortSignal): Promise<void> {
    const files = await Promise.all(paths.map(async (path) => ({ path, size: (await this.manifest(path)).size })));
    const present = files.filter((f): f is { path: string; size: number } => f.size !== null);
    this.planDownload(present);
    const tasks = present.flatMap(({ path, size }) => Array.from({ length: Math.ceil(size / this.blockSize) }, (_, i) => ({ path, size, i })));
    let next = 0;
    let failed = false;
    const worker = async () => {
      while (!failed && next < tasks.length) {
        const { path, size, i } = tasks[next++];
        try {
          if (signal?.aborted) throw new AbortError('Downloading the model');
          const block = await this.block(path, size, i, signal);
          this.delivered(path, size, i * this.blockSize, i * this.blockSize + block.bytes.byteLength, block.fromNetwork);
        } catch (e) {
          failed = true;
          throw e;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency ?? 4, tasks.length) }, worker));
  }

  /** Whether every listed file is known and all its blocks are stored (no network, no checksums). */
  async isCached(paths: string[]): Promise<boolean> {
    for (const path of paths) {
      const manifest = parseManifest(await this.store.get(this.key(path, 'manifest')).catch(() => null));
      if (!manifest || manifest.blockSize !== this.blockSize) return false;
      if (manifest.size === null) continue;
      const stored = new Set(await this.store.keys(this.key(path, 'block/')));
      for (let i = 0; i < Math.ceil(manifest.size / this.blockSize); i++) if (!stored.has(this.key(path, `block/${i}`))) return false;
    }
    return true;
  }

  /**
   * How many bytes of these ranges lie in blocks already stored (no network, no checksums): what
   * a load that reads exactly them would not have to download.
   */
  async storedBytes(ranges: { path: string; start: number; end: number }[]): Promise<number> {
    const B = this.blockSize;
    const storedByFile = new Map<string, Set<string>>();
    let total = 0;
    for (const { path, start, end } of ranges) {
      let stored = storedByFile.get(path);
      if (!stored) {
        const manifest = parseManifest(await this.store.get(this.key(path, 'manifest')).catch(() => null));
        stored = manifest?.blockSize === B ? new Set(await this.store.keys(this.key(path, 'block/'))) : new Set();
        storedByFile.set(path, stored);
      }
      for (let i = Math.floor(start / B); i * B < end; i++) {
        if (stored.has(this.key(path, `block/${i}`))) total += Math.min(end, (i + 1) * B) - Math.max(start, i * B);
      }
    }
    return total;
  }

  /** Deletes a model's cache (this one's by default). */
  async evict(model = this.model): Promise<void> {
    const keys = await this.store.keys(`${encodeURIComponent(model)}/`);
    await Promise.all(keys.map((key) => this.store.delete(key)));
    if (model === this.model) {
      this.manifests.clear();
      this.last = null;
    }
  }

  private key(path: string, suffix: string): string {
    return `${encodeURIComponent(this.model)}/${encodeURIComponent(path)}/${suffix}`;
  }

  private manifest(path: string): Promise<Manifest> {
    let manifest = this.manifests.get(path);
    if (!manifest) {
      manifest = this.validate(path);
      this.manifests.set(path, manifest);
      manifest.catch(() => this.manifests.delete(path));
    }
    return manifest;
  }

  /** Compares the cached manifest with the network's view of the file; any difference drops the file's blocks. */
  private async validate(path: string): Promise<Manifest> {
    const key = this.key(path, 'manifest');
    const cached = parseManifest(await this.store.get(key).catch(() => null));
    let remote: FileStat | null;
    try {
      remote = this.network.stat ? await this.network.stat(path) : await this.network.size(path).then((size) => (size === null ? null : { size, etag: null }));
    } catch (e) {
      if (cached && cached.blockSize === this.blockSize) return cached;
      // The server answered (401, 500…): that is the error to report, not the cache's absence.
      if (e instanceof HttpStatusError) throw e;
      throw new ModelNotCachedError(path, this.model, `not in the cache, and the network could not be asked for it (${problemOf(e)})`);
    }
    const fresh: Manifest = { size: remote?.size ?? null, etag: remote?.etag ?? null, blockSize: this.blockSize };
    // Without an ETag on both sides the size is all there is to compare.
    if (cached && cached.size === fresh.size && cached.blockSize === fresh.blockSize && (!cached.etag || !fresh.etag || cached.etag === fresh.etag)) return cached;
    if (cached) {
      const stale = await this.store.keys(this.key(path, ''));
      await Promise.all(stale.map((k) => this.store.delete(k)));
    }
    await this.write(key, new TextEncoder().encode(JSON.stringify(fresh)));
    return fresh;
  }

  private async block(path: string, size: number, i: number, signal?: AbortSignal): Promise<Block> {
    const key = this.key(path, `block/${i}`);
    if (this.last?.key === key) return this.last.block;
    // Drop the previous block before the next arrives, so a sequential load holds one block at a time.
    this.last = null;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.loadBlock(key, path, i * this.blockSize, Math.min(size, (i + 1) * this.blockSize), signal).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    const block = await pending;
    this.last = { key, block };
    return block;
  }

  private async loadBlock(key: string, path: string, begin: number, end: number, signal?: AbortSignal): Promise<Block> {
    const found = await this.store.get(key).catch(() => null);
    const stored = found && unseal(found, end - begin);
    if (stored) return { bytes: stored, fromNetwork: false };
    // Wrong length or checksum: drop it now, so isCached() stops counting it even if the refetch fails.
    if (found) await this.store.delete(key).catch(() => undefined);
    // The record is the block followed by its checksum; the block is filled in place.
    const length = end - begin;
    const record = new Uint8Array(length + 4);
    const bytes = await this.fetch(path, begin, end, record, signal);
    new DataView(record.buffer, record.byteOffset + length, 4).setUint32(0, blockChecksum(bytes), true);
    await this.write(key, record);
    return { bytes, fromNetwork: true };
  }

  /** Copies block i's share of the read starting at `start` into `out`; says whether it came from the network. */
  private async copyFromBlock(path: string, size: number, i: number, start: number, out: Uint8Array, signal?: AbortSignal): Promise<boolean> {
    const B = this.blockSize;
    const block = await this.block(path, size, i, signal);
    out.set(block.bytes.subarray(Math.max(start - i * B, 0), Math.min(start + out.byteLength - i * B, B)), Math.max(i * B - start, 0));
    return block.fromNetwork;
  }

  /** Bytes [start, end) from the network into the start of `target`; returns that part of it. */
  private async fetch(path: string, start: number, end: number, target: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    try {
      if (this.network.readInto) await this.network.readInto(path, start, end, target, signal);
      else target.set(await this.network.read(path, start, end, signal));
    } catch (e) {
      if (e instanceof AbortError || signal?.aborted) throw e;
      throw new ModelNotCachedError(path, this.model, `bytes [${start}, ${end}) are not cached and downloading them failed (${problemOf(e)})`);
    }
    return target.subarray(0, end - start);
  }

  private async allStored(path: string, first: number, last: number): Promise<boolean> {
    const stored = new Set(await this.store.keys(this.key(path, 'block/')));
    for (let i = first; i <= last; i++) if (!stored.has(this.key(path, `block/${i}`))) return false;
    return true;
  }

  private async write(key: string, bytes: Uint8Array): Promise<void> {
    try {
      await this.store.put(key, bytes);
    } catch (e) {
      this.storeError ??= e as Error;
    }
  }

  /** Counts bytes handed out (each byte once, however often re-read) and reports them. */
  private delivered(path: string, size: number, start: number, end: number, fromNetwork: boolean): void {
    const ranges = this.coverage.get(path) ?? [];
    const before = covered(ranges);
    const merged = addRange(ranges, start, end);
    this.coverage.set(path, merged);
    const after = covered(merged);
    if (after === before) return;
    const total = this.planned.get(path) ?? size;
    if (this.planned.has(path)) this.overallLoaded += Math.min(after, total) - Math.min(before, total);
    this.options.onProgress?.({
      file: path,
      loadedBytes: Math.min(after, total),
      totalBytes: total,
      overallLoadedBytes: this.overallLoaded,
      overallTotalBytes: this.overallTotal,
      from: fromNetwork ? 'network' : 'cache',
    });
  }
}

/** [start, end) merged into disjoint ranges. Reads are mostly sequential, so the list stays short. */
function addRange(ranges: [number, number][], start: number, end: number): [number, number][] {
  const touching = ranges.filter(([a, b]) => b >= start && a <= end);
  const merged: [number, number] = [Math.min(start, ...touching.map((r) => r[0])), Math.max(end, ...touching.map((r) => r[1]))];
  return [...ranges.filter((r) => !touching.includes(r)), merged];
}

function covered(ranges: [number, number][]): number {
  return ranges.reduce((sum, [a, b]) => sum + b - a, 0);
}

/**
 * FNV-1a over 32-bit words, then the tail bytes: a quarter of the work of the bytewise form on
 * 16 MiB blocks, and each step is a bijection, so any single changed word changes the result.
 * Uses the platform's byte order, which is fine for a checksum verified where it was written.
 */
export function blockChecksum(data: Uint8Array): number {
  const aligned = data.byteOffset % 4 === 0 ? data : data.slice();
  const words = new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >>> 2);
  let h = 0x811c9dc5;
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i], 0x01000193);
  for (let i = words.length * 4; i < data.byteLength; i++) h = Math.imul(h ^ data[i], 0x01000193);
  return h >>> 0;
}

/** A stored block's data: the record minus its trailing checksum (4 bytes, little-endian), if both check out. */
function unseal(record: Uint8Array, length: number): Uint8Array | null {
  if (record.byteLength !== length + 4) return null;
  const data = record.subarray(0, length);
  const stored = new DataView(record.buffer, record.byteOffset + length, 4).getUint32(0, true);
  return blockChecksum(data) === stored ? data : null;
}

function parseManifest(bytes: Uint8Array | null): Manifest | null {
  if (!bytes) return null;
  try {
    const m = JSON.parse(new TextDecoder().decode(bytes)) as Manifest;
    const sizeOk = m.size === null || (Number.isSafeInteger(m.size) && m.size >= 0);
    return sizeOk && Number.isSafeInteger(m.blockSize) && (m.etag === null || typeof m.etag === 'string') ? m : null;
  } catch {
    return null;
  }
}

function problemOf(e: unknown): string {
  return e instanceof CheckpointError ? e.problem : (e as Error).message;
}
