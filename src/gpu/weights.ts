import { ModelTooLargeError } from '../loader/errors.ts';
import type { GpuContext } from './context.ts';
import { encodeRows, GROUPED_FORMATS, VALUES_PER_WORD, type WeightFormat } from './weight-formats.ts';

export type { WeightFormat } from './weight-formats.ts';

/** A contiguous row range of a matrix held in one buffer (plus its scales, for quantized formats). */
export interface MatrixPart {
  buffer: GPUBuffer;
  /** [rows, scaleWords] f16 scale pairs; null for f16/f32. */
  scales: GPUBuffer | null;
  rowStart: number;
  rows: number;
}

/**
 * A weight matrix [rows, cols] in one of the weight formats (weight-formats.ts). Every stored row
 * is `rowWords` u32 words: cols padded with zeros to a multiple of 32 values (f16/f32) or of the
 * group size (q8/q4), so kernels decode whole 32-value units and never a partial one. Matrices
 * larger than one storage binding (the real 248320-row embedding, say) are split by rows into
 * parts; kernels run once per part.
 */
export interface GpuMatrix {
  label: string;
  rows: number;
  cols: number;
  format: WeightFormat;
  /** ceil(cols/2): the row length of the f16/f32 pair layout the loader's converters produce. */
  pairs: number;
  /** u32 words per stored row (f32: one value per word). */
  rowWords: number;
  /** Values sharing one scale (q8/q4); 0 for f16/f32. */
  groupSize: number;
  /** u32 words of scales per row: ceil(groups/2) f16 pairs; 0 for f16/f32. */
  scaleWords: number;
  parts: MatrixPart[];
}

/** Group size of q8/q4 when the caller does not choose: see ARCHITECTURE.md for the measurements. */
export const DEFAULT_GROUP_SIZE = 32;

export function matrixLayout(rows: number, cols: number, format: WeightFormat, groupSize = DEFAULT_GROUP_SIZE) {
  const grouped = GROUPED_FORMATS.has(format);
  if (grouped && (groupSize % 32 !== 0 || groupSize <= 0)) throw new Error(`group size must be a positive multiple of 32, got ${groupSize}`);
  const multiple = grouped ? groupSize : 32;
  const padded = Math.ceil(cols / multiple) * multiple;
  const rowWords = padded / VALUES_PER_WORD[format];
  const scaleWords = grouped ? Math.ceil(padded / groupSize / 2) : 0;
  return { rows, cols, format, pairs: Math.ceil(cols / 2), rowWords, groupSize: grouped ? groupSize : 0, scaleWords };
}

/** 32-value units per stored row: what the kernels' w_unit prelude steps through. */
export function matrixUnits(m: GpuMatrix): number {
  return (m.rowWords * VALUES_PER_WORD[m.format]) / 32;
}

/** Bytes one full pass over the matrix reads (data and scales): a decode step's traffic for it. */
export function matrixBytes(m: GpuMatrix): number {
  return m.rows * (m.rowWords + m.scaleWords) * 4;
}

/** Bytes one row costs when gathered (the embedding lookup of one token). */
export function matrixRowBytes(m: GpuMatrix): number {
  return (m.rowWords + m.scaleWords) * 4;
}

/** f16/f32 pairs per stored row: the row stride of kernels that read a matrix pair by pair. */
export function matrixRowPairs(m: GpuMatrix): number {
  return matrixUnits(m) * 16;
}

export interface MatrixOptions {
  format?: WeightFormat;
  groupSize?: number;
  /**
   * Keeps blocks of that many rows in one part (an MoE layer's experts: a kernel reading one
   * expert then finds it whole in one buffer).
   */
  rowGroup?: number;
}

export function allocateMatrix(ctx: GpuContext, label: string, rows: number, cols: number, options: MatrixOptions = {}): GpuMatrix {
  const layout = matrixLayout(rows, cols, options.format ?? ctx.storage, options.groupSize);
  const rowBytes = layout.rowWords * 4;
  const scaleRowBytes = layout.scaleWords * 4;
  const maxBytes = ctx.maxBindingBytes;
  if (rowBytes > maxBytes) throw new ModelTooLargeError(`One row of '${label}' (${rowBytes} bytes) exceeds this GPU's storage binding size (${maxBytes})`);
  // Parts start at even rows, so interleaved (gate, up) pairs never straddle two parts, and at
  // whole row groups.
  const rowGroup = options.rowGroup ?? 1;
  const align = rowGroup % 2 === 0 ? rowGroup : 2 * rowGroup;
  const fit = Math.floor(maxBytes / Math.max(rowBytes, scaleRowBytes));
  const rowsPerPart = fit >= rows ? Math.max(rows, 1) : Math.floor(fit / align) * align;
  if (rowsPerPart < 1) throw new ModelTooLargeError(`One block of ${align} rows of '${label}' (${rowBytes * align} bytes) exceeds this GPU's storage binding size (${maxBytes})`);
  const parts: MatrixPart[] = [];
  for (let rowStart = 0; rowStart < rows || parts.length === 0; rowStart += rowsPerPart) {
    const partRows = Math.min(rowsPerPart, rows - rowStart);
    const name = parts.length || rowStart + partRows < rows ? `${label}[${parts.length}]` : label;
    const buffer = ctx.pool.storage(name, partRows * rowBytes);
    const scales = scaleRowBytes ? ctx.pool.storage(`${name}.scales`, partRows * scaleRowBytes) : null;
    parts.push({ buffer, scales, rowStart, rows: partRows });
  }
  return { label, ...layout, parts };
}

/**
 * Writes whole rows of an f16/f32 matrix starting at matrix row `rowStart`, across parts. `data` is
 * in the pair layout of loader/dtype.ts (ceil(cols/2) pairs per row), re-strided here to rowWords
 * when cols is not a multiple of 32.
 */
export function writeMatrixRows(ctx: GpuContext, matrix: GpuMatrix, rowStart: number, data: Uint32Array | Float32Array): void {
  if (GROUPED_FORMATS.has(matrix.format)) throw new Error(`${matrix.label}: ${matrix.format} rows are written with writeRowsF32`);
  const words = new Uint32Array(data.buffer, data.byteOffset, data.length);
  const pairWords = matrix.pairs * (matrix.format === 'f16' ? 1 : 2);
  const rowCount = words.length / pairWords;
  if (!Number.isInteger(rowCount) || rowStart + rowCount > matrix.rows) {
    throw new Error(`${matrix.label}: writing ${data.length} words at row ${rowStart} does not fit ${matrix.rows} rows of ${pairWords} words`);
  }
  let out = words;
  if (pairWords !== matrix.rowWords) {
    out = new Uint32Array(rowCount * matrix.rowWords);
    for (let r = 0; r < rowCount; r++) out.set(words.subarray(r * pairWords, (r + 1) * pairWords), r * matrix.rowWords);
  }
  writeStoredRows(ctx, matrix, rowStart, rowCount, out, null);
}

/** Encodes float32 rows ([count, cols]) into the matrix's format, quantizing q8/q4, and writes them. */
export function writeRowsF32(ctx: GpuContext, matrix: GpuMatrix, rowStart: number, values: Float32Array): void {
  const rowCount = values.length / matrix.cols;
  if (!Number.isInteger(rowCount) || rowStart + rowCount > matrix.rows) {
    throw new Error(`${matrix.label}: ${values.length} values at row ${rowStart} are not whole rows of ${matrix.cols} within ${matrix.rows}`);
  }
  const { words, scales } = encodeRows(values, rowCount, matrix);
  writeStoredRows(ctx, matrix, rowStart, rowCount, words, scales);
}

function writeStoredRows(ctx: GpuContext, m: GpuMatrix, rowStart: number, rowCount: number, words: Uint32Array, scales: Uint32Array | null): void {
  const queue = ctx.device.queue;
  for (const part of m.parts) {
    const from = Math.max(rowStart, part.rowStart);
    const to = Math.min(rowStart + rowCount, part.rowStart + part.rows);
    if (from >= to) continue;
    const slice = words.subarray((from - rowStart) * m.rowWords, (to - rowStart) * m.rowWords);
    queue.writeBuffer(part.buffer, (from - part.rowStart) * m.rowWords * 4, slice.buffer, slice.byteOffset, slice.byteLength);
    if (scales && part.scales) {
      const s = scales.subarray((from - rowStart) * m.scaleWords, (to - rowStart) * m.scaleWords);
      queue.writeBuffer(part.scales, (from - part.rowStart) * m.scaleWords * 4, s.buffer, s.byteOffset, s.byteLength);
    }
  }
}

export function destroyMatrix(ctx: GpuContext, matrix: GpuMatrix): void {
  for (const part of matrix.parts) {
    ctx.pool.destroy(part.buffer);
    if (part.scales) ctx.pool.destroy(part.scales);
  }
}

/** An f32 vector (norm scales, A_log, dt_bias, conv taps): small, always kept in float32. */
export function uploadF32(ctx: GpuContext, label: string, data: Float32Array): GPUBuffer {
  const buffer = ctx.pool.storage(label, data.byteLength);
  ctx.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  return buffer;
}
