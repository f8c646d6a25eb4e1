import { CheckpointError } from './errors.ts';

/**
 * Where a model repo's files come from: a Hub URL, a self-hosted base URL, a local folder in Node,
 * or memory in tests. Reads are by byte range so a shard never has to be held whole.
 */
export interface FileSource {
  /** Human-readable origin, used in error messages. */
  readonly description: string;
  /** Size of a file in bytes, or null when it does not exist. */
  size(path: string): Promise<number | null>;
  /** Bytes [start, end) of a file; rejects if the file is shorter than `end`. */
  read(path: string, start: number, end: number, signal?: AbortSignal): Promise<Uint8Array>;
}

export async function readWholeFile(source: FileSource, path: string): Promise<Uint8Array> {
  const size = await source.size(path);
  if (size === null) throw new CheckpointError(path, `not found in ${source.description}`);
  return source.read(path, 0, size);
}

export async function readJsonFile(source: FileSource, path: string): Promise<unknown> {
  const text = new TextDecoder().decode(await readWholeFile(source, path));
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(path, `not valid JSON (${(e as Error).message})`);
  }
}

/** Files held in memory: tests, and data already downloaded by other means. */
export class MemorySource implements FileSource {
  readonly description = 'memory';
  constructor(private readonly files: Map<string, Uint8Array>) {}

  async size(path: string): Promise<number | null> {
    return this.files.get(path)?.byteLength ?? null;
  }

  async read(path: string, start: number, end: number): Promise<Uint8Array> {
    const file = this.files.get(path);
    if (!file) throw new CheckpointError(path, 'not found in memory');
    if (end > file.byteLength) throw new CheckpointError(path, `read past the end (${end} > ${file.byteLength} bytes)`);
    return file.subarray(start, end);
  }
}
