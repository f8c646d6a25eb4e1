import { open, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { AbortError, CheckpointError } from '../src/loader/errors.ts';
import type { FileSource } from '../src/loader/file-source.ts';

/** Reads larger than this are split, so an abort takes effect between pieces of a big tensor. */
const PIECE_BYTES = 64 * 2 ** 20;

/** A model repo in a local directory (Node only): positional reads, never a whole shard in memory. */
export class NodeDirSource implements FileSource {
  readonly description: string;
  private readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
    this.description = `directory ${this.dir}`;
  }

  async size(path: string): Promise<number | null> {
    try {
      const info = await stat(this.file(path));
      return info.isFile() ? info.size : null;
    } catch (e) {
      if (isMissing(e)) return null;
      throw new CheckpointError(path, `cannot stat in ${this.description} (${(e as Error).message})`);
    }
  }

  async read(path: string, start: number, end: number, signal?: AbortSignal): Promise<Uint8Array> {
    let handle;
    try {
      handle = await open(this.file(path), 'r');
    } catch (e) {
      throw new CheckpointError(path, isMissing(e) ? `not found in ${this.description}` : `cannot open (${(e as Error).message})`);
    }
    try {
      const out = new Uint8Array(Math.max(0, end - start));
      let filled = 0;
      while (filled < out.byteLength) {
        if (signal?.aborted) throw new AbortError(`Reading ${path}`);
        const want = Math.min(PIECE_BYTES, out.byteLength - filled);
        const { bytesRead } = await handle.read(out, filled, want, start + filled);
        if (bytesRead === 0) throw new CheckpointError(path, `read past the end (${end} > ${start + filled} bytes)`);
        filled += bytesRead;
      }
      return out;
    } finally {
      await handle.close();
    }
  }

  /** Names come from checkpoint indexes, so keep them from reaching outside the directory. */
  private file(path: string): string {
    const full = resolve(this.dir, path);
    if (!full.startsWith(this.dir + sep)) throw new CheckpointError(path, `outside ${this.description}`);
    return full;
  }
}

function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
