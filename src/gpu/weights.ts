import { ModelTooLargeError } from '../loader/errors.ts';
import type { GpuContext } from './context.ts';

/** A contiguous row range of a matrix held in one buffer. */
export interface MatrixPart {
  buffer: GPUBuffer;
  rowStart: number;
  rows: number;
}

/**
 * A weight matrix [rows, cols] in the engine's storage: each row holds ceil(cols/2) pairs (an f16
 * pair packed in a u32, or two f32). Matrices larger than one storage binding (the real 248320-row
 * embedding, say) are split by rows into parts; kernels run once per part.
 */
export interface GpuMatrix {
  label: string;
  rows: number;
  cols: number;
  pairs: number;
  parts: MatrixPart[];
}

export function pairBytes(ctx: GpuContext): number {
  return ctx.storage === 'f16' ? 4 : 8;
}

/**
 * `rowGroup` keeps blocks of that many rows in one part (an MoE layer's experts: a kernel reading
 * one expert then finds it whole in one buffer).
 */
export function allocateMatrix(ctx: GpuContext, label: string, rows: number, cols: number, rowGroup = 1): GpuMatrix {
  const pairs = Math.ceil(cols / 2);
  const rowBytes = pairs * pairBytes(ctx);
  const maxBytes = ctx.maxBindingBytes;
  if (rowBytes > maxBytes) throw new ModelTooLargeError(`One row of '${label}' (${rowBytes} bytes) exceeds this GPU's storage binding size (${maxBytes})`);
  const rowsPerPart = Math.floor(maxBytes / (rowBytes * rowGroup)) * rowGroup;
  if (rowsPerPart === 0) throw new ModelTooLargeError(`One block of ${rowGroup} rows of '${label}' (${rowBytes * rowGroup} bytes) exceeds this GPU's storage binding size (${maxBytes})`);
  const parts: MatrixPart[] = [];
  for (let rowStart = 0; rowStart < rows || parts.length === 0; rowStart += rowsPerPart) {
    const partRows = Math.min(rowsPerPart, rows - rowStart);
    const name = parts.length || rowStart + partRows < rows ? `${label}[${parts.length}]` : label;
    parts.push({ buffer: ctx.pool.storage(name, partRows * rowBytes), rowStart, rows: partRows });
  }
  return { label, rows, cols, pairs, parts };
}

/** Writes whole rows (already in storage layout) starting at matrix row `rowStart`, across parts. */
export function writeMatrixRows(ctx: GpuContext, matrix: GpuMatrix, rowStart: number, data: Uint32Array | Float32Array): void {
  const rowWords = matrix.pairs * (ctx.storage === 'f16' ? 1 : 2);
  const rowCount = data.length / rowWords;
  if (!Number.isInteger(rowCount) || rowStart + rowCount > matrix.rows) {
    throw new Error(`${matrix.label}: writing ${data.length} words at row ${rowStart} does not fit ${matrix.rows} rows of ${rowWords} words`);
  }
  for (const part of matrix.parts) {
    const from = Math.max(rowStart, part.rowStart);
    const to = Math.min(rowStart + rowCount, part.rowStart + part.rows);
    if (from >= to) continue;
    const slice = data.subarray((from - rowStart) * rowWords, (to - rowStart) * rowWords);
    ctx.device.queue.writeBuffer(part.buffer, (from - part.rowStart) * rowWords * 4, slice.buffer, slice.byteOffset, slice.byteLength);
  }
}

export function destroyMatrix(ctx: GpuContext, matrix: GpuMatrix): void {
  for (const part of matrix.parts) ctx.pool.destroy(part.buffer);
}

/** An f32 vector (norm scales, A_log, dt_bias, conv taps): small, always kept in float32. */
export function uploadF32(ctx: GpuContext, label: string, data: Float32Array): GPUBuffer {
  const buffer = ctx.pool.storage(label, data.byteLength);
  ctx.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  return buffer;
}
