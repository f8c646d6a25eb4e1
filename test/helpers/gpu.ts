import { GpuContext, type ContextOptions, type WeightStorage } from '../../src/gpu/context.ts';
import { readF32 } from '../../src/gpu/buffers.ts';
import { ProgramBuilder } from '../../src/gpu/program.ts';
import { SHADER_LIBS } from '../../src/gpu/shader-libs.ts';
import { allocateMatrix, matrixLayout, writeMatrixRows, writeRowsF32, type GpuMatrix, type WeightFormat } from '../../src/gpu/weights.ts';
import { encodeRows } from '../../src/gpu/weight-formats.ts';
import { decodeRows } from '../../src/reference/quant.ts';
import { toF32Padded, toHalfPacked } from '../../src/loader/dtype.ts';
import { nodeDevice } from '../../scripts/node-gpu.ts';

let devicePromise: Promise<GPUDevice> | null = null;

/**
 * Runs `work` while recording every buffer the device creates: all of them, and those still not
 * destroyed when it ends (a failed load must leave none).
 */
export async function watchBuffers(device: GPUDevice, work: () => Promise<unknown>): Promise<{ created: GPUBuffer[]; live: Set<GPUBuffer> }> {
  const created: GPUBuffer[] = [];
  const live = new Set<GPUBuffer>();
  const createBuffer = device.createBuffer.bind(device);
  device.createBuffer = (descriptor: GPUBufferDescriptor) => {
    const buffer = createBuffer(descriptor);
    const destroy = buffer.destroy.bind(buffer);
    created.push(buffer);
    live.add(buffer);
    buffer.destroy = () => {
      live.delete(buffer);
      destroy();
    };
    return buffer;
  };
  try {
    await work();
  } finally {
    device.createBuffer = createBuffer;
  }
  return { created, live };
}

/** One Dawn device per test process: creating devices is slow on SwiftShader. */
export function testDevice(): Promise<GPUDevice> {
  devicePromise ??= nodeDevice();
  return devicePromise;
}

export async function testContext(storage: WeightStorage = 'f16', maxBindingBytes?: number, options?: ContextOptions): Promise<GpuContext> {
  return new GpuContext(await testDevice(), storage, SHADER_LIBS, maxBindingBytes, options);
}

export function upload(ctx: GpuContext, data: Float32Array | Uint32Array | Int32Array, label = 'test'): GPUBuffer {
  const buffer = ctx.pool.storage(label, data.byteLength);
  ctx.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  return buffer;
}

export function emptyF32(ctx: GpuContext, count: number, label = 'out'): GPUBuffer {
  return ctx.pool.storage(label, count * 4);
}

/** Uploads an f32 [rows, cols] matrix in the context's storage format (values should be f16-exact for f16). */
export function uploadMatrix(ctx: GpuContext, data: Float32Array, rows: number, cols: number, label = 'W', rowGroup?: number): GpuMatrix {
  const m = allocateMatrix(ctx, label, rows, cols, { rowGroup });
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  writeMatrixRows(ctx, m, 0, ctx.storage === 'f16' ? toHalfPacked(bytes, 'F32', rows, cols) : toF32Padded(bytes, 'F32', rows, cols));
  return m;
}

/**
 * Uploads f32 [rows, cols] values in any weight format; returns the matrix and the values its
 * format actually stores (decoded by the reference decoder), which the reference multiplies by.
 */
export function uploadFormatted(ctx: GpuContext, data: Float32Array, rows: number, cols: number, format: WeightFormat, groupSize?: number, label = 'W', rowGroup?: number): { m: GpuMatrix; stored: Float32Array } {
  const m = allocateMatrix(ctx, label, rows, cols, { format, groupSize, rowGroup });
  writeRowsF32(ctx, m, 0, data);
  const layout = matrixLayout(rows, cols, format, groupSize);
  const { words, scales } = encodeRows(data, rows, layout);
  return { m, stored: decodeRows(words, scales, rows, layout) };
}

/** Builds a one-off program, runs it with the given step values, and waits for it. */
export async function run(ctx: GpuContext, build: (b: ProgramBuilder) => void, cachePos = 0, seed = 0): Promise<void> {
  const b = new ProgramBuilder(ctx, 'test');
  build(b);
  const program = b.build();
  const encoder = ctx.device.createCommandEncoder();
  program.encode(encoder, { cache_pos: cachePos, seed });
  ctx.device.queue.submit([encoder.finish()]);
  await ctx.device.queue.onSubmittedWorkDone();
  program.destroy();
}

export { readF32 };

/** Deterministic values in [-scale, scale], rounded to f16-exact numbers so f16 storage is lossless. */
export function seededValues(count: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    const v = ((s / 0xffffffff) * 2 - 1) * scale;
    out[i] = Math.round(v * 1024) / 1024;
  }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}
