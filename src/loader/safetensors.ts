import { CheckpointError } from './errors.ts';
import type { FileSource } from './file-source.ts';

/**
 * safetensors: an 8-byte little-endian header length n, n bytes of JSON naming each tensor's dtype,
 * shape and [begin, end) offsets relative to the data that follows, then the raw little-endian data.
 * Everything in the header is checked here, so later reads can trust the offsets.
 */
const DTYPE_BYTES = {
  BOOL: 1, U8: 1, I8: 1, F8_E4M3: 1, F8_E5M2: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
} as const;

export type Dtype = keyof typeof DTYPE_BYTES;

function isDtype(value: unknown): value is Dtype {
  return typeof value === 'string' && Object.hasOwn(DTYPE_BYTES, value);
}

export function dtypeBytes(dtype: Dtype): number {
  return DTYPE_BYTES[dtype];
}

export interface TensorInfo {
  name: string;
  file: string;
  dtype: Dtype;
  shape: number[];
  /** Absolute byte offsets in `file`: 8 + header length + data_offsets. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  file: string;
  /** 8 + the JSON header's length: where the tensor data starts. */
  headerBytes: number;
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
}

/** Real headers are a few hundred KB even for 1000-tensor shards; anything larger is corruption. */
export const MAX_HEADER_BYTES = 100_000_000;

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

/** The JSON header's length from the file's first 8 bytes, checked against the file's size. */
export function headerLength(file: string, fileSize: number, first8: Uint8Array): number {
  if (fileSize < 8 || first8.byteLength < 8) throw new CheckpointError(file, `truncated: ${fileSize} bytes is shorter than the 8-byte header length`);
  const length = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(MAX_HEADER_BYTES)) throw new CheckpointError(file, `header length ${length} bytes is absurd (limit ${MAX_HEADER_BYTES})`);
  if (length > BigInt(fileSize - 8)) throw new CheckpointError(file, `header length ${length} runs past the end of the ${fileSize}-byte file`);
  return Number(length);
}

export function parseSafetensorsHeader(file: string, fileSize: number, first8: Uint8Array, headerJson: Uint8Array): SafetensorsHeader {
  const length = headerLength(file, fileSize, first8);
  if (headerJson.byteLength !== length) throw new CheckpointError(file, `header is ${headerJson.byteLength} bytes but its length field says ${length}`);
  const headerBytes = 8 + length;

  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerJson));
  } catch (e) {
    throw new CheckpointError(file, `header is not valid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(parsed)) throw new CheckpointError(file, 'header is not a JSON object');

  const metadata = parseMetadata(file, parsed.__metadata__);
  const tensors = new Map<string, TensorInfo>();
  for (const [name, entry] of Object.entries(parsed)) {
    if (name === '__metadata__') continue;
    tensors.set(name, parseEntry(file, fileSize, headerBytes, name, entry));
  }
  checkNoOverlap(file, tensors);
  return { file, headerBytes, tensors, metadata };
}

export async function readSafetensorsHeader(source: FileSource, file: string): Promise<SafetensorsHeader> {
  const fileSize = await source.size(file);
  if (fileSize === null) throw new CheckpointError(file, `not found in ${source.description}`);
  const first8 = fileSize >= 8 ? await source.read(file, 0, 8) : new Uint8Array(0);
  const length = headerLength(file, fileSize, first8);
  return parseSafetensorsHeader(file, fileSize, first8, await source.read(file, 8, 8 + length));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIndex(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function parseMetadata(file: string, value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw new CheckpointError(file, '__metadata__ is not an object');
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new CheckpointError(file, `__metadata__.${key} is not a string`);
  }
  return value as Record<string, string>;
}

function parseEntry(file: string, fileSize: number, headerBytes: number, name: string, entry: unknown): TensorInfo {
  const bad = (problem: string) => new CheckpointError(file, `tensor '${name}': ${problem}`);
  if (!isPlainObject(entry)) throw bad('entry is not an object');
  const { dtype, shape, data_offsets: offsets } = entry;
  if (dtype === undefined) throw bad('missing dtype');
  if (!isDtype(dtype)) throw bad(`unknown dtype ${JSON.stringify(dtype)}`);
  if (shape === undefined) throw bad('missing shape');
  if (!Array.isArray(shape) || !shape.every(isIndex)) throw bad(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  if (offsets === undefined) throw bad('missing data_offsets');
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) throw bad(`data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`);
  const [relBegin, relEnd] = offsets as [number, number];
  if (relBegin > relEnd) throw bad(`data_offsets [${relBegin}, ${relEnd}] end before they begin`);

  const expectedBytes = elementCount(shape) * dtypeBytes(dtype);
  if (relEnd - relBegin !== expectedBytes) {
    throw new CheckpointError(file, `shape/size mismatch: '${name}' is ${dtype} ${formatShape(shape)} = ${expectedBytes} bytes but data_offsets span ${relEnd - relBegin}`);
  }
  const begin = headerBytes + relBegin;
  const end = headerBytes + relEnd;
  if (end > fileSize) throw new CheckpointError(file, `tensor '${name}' is out of range: bytes [${begin}, ${end}) but the file has ${fileSize}`);
  return { name, file, dtype, shape, begin, end };
}

function checkNoOverlap(file: string, tensors: Map<string, TensorInfo>): void {
  // Empty tensors occupy no bytes, so they cannot overlap anything.
  const byBegin = [...tensors.values()].filter((t) => t.end > t.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < byBegin.length; i++) {
    const [prev, cur] = [byBegin[i - 1], byBegin[i]];
    if (cur.begin < prev.end) throw new CheckpointError(file, `tensors '${prev.name}' and '${cur.name}' overlap (bytes [${prev.begin}, ${prev.end}) and [${cur.begin}, ${cur.end}))`);
  }
}
