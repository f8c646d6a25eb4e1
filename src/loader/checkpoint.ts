import { AbortError, CheckpointError } from './errors.ts';
import { readJsonFile, type FileSource } from './file-source.ts';
import { dtypeBytes, elementCount, formatShape, readSafetensorsHeader, type Dtype, type TensorInfo } from './safetensors.ts';

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';

/** Whole rows [rowStart, rowStart + rows) of a tensor, where a row is everything after the first dim. */
export interface TensorRows {
  rowStart: number;
  rows: number;
  bytes: Uint8Array;
}

/**
 * The tensors of a checkpoint, single-file or sharded, with every header already validated.
 * Data is read on demand by byte range, so no shard is ever held whole.
 */
export class Checkpoint {
  constructor(
    private readonly source: FileSource,
    readonly tensors: Map<string, TensorInfo>,
    /** The file that lists the tensors: model.safetensors or the shard index. */
    readonly origin: string,
  ) {}

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  get(name: string): TensorInfo {
    const info = this.tensors.get(name);
    if (!info) throw new CheckpointError(this.origin, `missing tensor ${name}`);
    return info;
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  async readTensor(name: string, signal?: AbortSignal): Promise<Uint8Array> {
    const info = this.get(name);
    return this.readRange(info, info.begin, info.end, signal);
  }

  /** Streams a tensor in chunks of whole rows, each at most `maxChunkBytes` unless one row is larger. */
  async *readTensorRows(name: string, maxChunkBytes: number, signal?: AbortSignal): AsyncGenerator<TensorRows> {
    const info = this.get(name);
    const totalRows = info.shape.length ? info.shape[0] : 1;
    const rowBytes = elementCount(info.shape.slice(1)) * dtypeBytes(info.dtype);
    const rowsPerChunk = rowBytes > 0 ? Math.max(1, Math.floor(maxChunkBytes / rowBytes)) : totalRows;
    for (let rowStart = 0; rowStart < totalRows; rowStart += rowsPerChunk) {
      if (signal?.aborted) throw new AbortError(`Reading ${name}`);
      const rows = Math.min(rowsPerChunk, totalRows - rowStart);
      const begin = info.begin + rowStart * rowBytes;
      yield { rowStart, rows, bytes: await this.readRange(info, begin, begin + rows * rowBytes, signal) };
    }
  }

  /** Checks a tensor against the shape (and optionally dtypes) that config.json implies. */
  expectShape(name: string, shape: number[], dtypes?: Dtype[]): TensorInfo {
    const info = this.get(name);
    if (info.shape.length !== shape.length || info.shape.some((dim, i) => dim !== shape[i])) {
      throw new CheckpointError(info.file, `shape/size mismatch: ${name} is ${formatShape(info.shape)} but config.json implies ${formatShape(shape)}`);
    }
    if (dtypes && !dtypes.includes(info.dtype)) {
      throw new CheckpointError(info.file, `${name} has dtype ${info.dtype}; expected ${dtypes.join(' or ')}`);
    }
    return info;
  }

  private async readRange(info: TensorInfo, begin: number, end: number, signal?: AbortSignal): Promise<Uint8Array> {
    const bytes = await this.source.read(info.file, begin, end, signal);
    if (bytes.byteLength !== end - begin) throw new CheckpointError(info.file, `short read of ${info.name}: got ${bytes.byteLength} of ${end - begin} bytes`);
    return bytes;
  }
}

/** Opens `model.safetensors.index.json` and its shards if present, else `model.safetensors`. */
export async function openCheckpoint(source: FileSource): Promise<Checkpoint> {
  if ((await source.size(INDEX_FILE)) !== null) return openSharded(source);
  if ((await source.size(SINGLE_FILE)) !== null) return new Checkpoint(source, (await readSafetensorsHeader(source, SINGLE_FILE)).tensors, SINGLE_FILE);
  throw new CheckpointError(SINGLE_FILE, `not found in ${source.description}, and neither is ${INDEX_FILE}`);
}

async function openSharded(source: FileSource): Promise<Checkpoint> {
  const weightMap = parseWeightMap(await readJsonFile(source, INDEX_FILE));
  const shardFiles = [...new Set(weightMap.values())];
  const headers = await Promise.all(shardFiles.map((file) => readSafetensorsHeader(source, file)));

  const tensors = new Map<string, TensorInfo>();
  for (const header of headers) {
    for (const [name, info] of header.tensors) {
      const earlier = tensors.get(name);
      if (earlier) throw new CheckpointError(info.file, `tensor ${name} is also in ${earlier.file}; shards must not repeat tensors`);
      tensors.set(name, info);
    }
  }
  for (const [name, file] of weightMap) {
    const actual = tensors.get(name)?.file;
    if (actual !== file) {
      throw new CheckpointError(INDEX_FILE, `weight_map puts tensor ${name} in ${file}, but ${actual ? `it is in ${actual}` : 'that shard does not have it'}`);
    }
  }
  return new Checkpoint(source, tensors, INDEX_FILE);
}

function parseWeightMap(index: unknown): Map<string, string> {
  const weightMap = typeof index === 'object' && index !== null ? (index as Record<string, unknown>).weight_map : undefined;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) throw new CheckpointError(INDEX_FILE, 'has no weight_map object');
  const entries = Object.entries(weightMap);
  if (entries.length === 0) throw new CheckpointError(INDEX_FILE, 'weight_map is empty');
  for (const [name, file] of entries) {
    if (typeof file !== 'string' || file === '') throw new CheckpointError(INDEX_FILE, `weight_map entry for ${name} is not a file name`);
  }
  return new Map(entries as [string, string][]);
}
