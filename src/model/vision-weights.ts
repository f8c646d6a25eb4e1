import type { Checkpoint } from '../loader/checkpoint.ts';
import { toF32, toHalfPacked, toF32Padded } from '../loader/dtype.ts';
import { AbortError, CheckpointError } from '../loader/errors.ts';
import type { VisionConfig } from '../loader/vision-config.ts';
import { visionWeightNames, type LinearNames, type MergerNames, type NormNames } from '../loader/vision-names.ts';
import type { GpuContext, WeightStorage } from '../gpu/context.ts';
import { allocateMatrix, matrixLayout, uploadF32, writeMatrixRows, type GpuMatrix } from '../gpu/weights.ts';
import type { LinearWeights, MergerWeights, NormWeights, VisionBlockWeights } from '../layers/vision-block.ts';
import type { LoadProgress } from './load-weights.ts';

export interface VisionWeights {
  patchEmbed: LinearWeights;   // [Hv, C·Tp·p·p]
  posEmbed: GpuMatrix;         // [Npos, Hv]
  blocks: VisionBlockWeights[];
  merger: MergerWeights;
  deepstackMergers: MergerWeights[];
}

const CHUNK_BYTES = 8 << 20;

/**
 * Streams `model.visual.*` into GPU buffers: linear weights (and the position table) in the
 * engine's pair storage, biases and norm parameters in float32. Every tensor's shape is checked
 * against vision_config before any upload. `buffers` receives each buffer made, so a failed load
 * can free exactly those.
 */
export async function loadVisionWeights(
  ctx: GpuContext, checkpoint: Checkpoint, v: VisionConfig, buffers: GPUBuffer[],
  options: { signal?: AbortSignal; onProgress?: (p: LoadProgress) => void } = {},
): Promise<VisionWeights> {
  const names = visionWeightNames(v);
  for (const [name, shape] of names.expectedShapes) checkpoint.expectShape(name, shape);
  const totalBytes = [...names.expectedShapes.keys()].reduce((sum, n) => sum + checkpoint.get(n).end - checkpoint.get(n).begin, 0);
  let loadedBytes = 0;
  const progress = (tensor: string, bytes: number) => {
    loadedBytes += bytes;
    options.onProgress?.({ loadedBytes, totalBytes, tensor });
  };
  const floatDtype = (name: string) => {
    const info = checkpoint.get(name);
    if (info.dtype !== 'BF16' && info.dtype !== 'F16' && info.dtype !== 'F32') throw new CheckpointError(info.file, `${name} has dtype ${info.dtype}; expected BF16, F16 or F32`);
    return info.dtype;
  };

  const matrix = async (name: string): Promise<GpuMatrix> => {
    const info = checkpoint.get(name);
    const dtype = floatDtype(name);
    const cols = info.shape.slice(1).reduce((a, b) => a * b, 1);
    const m = allocateMatrix(ctx, name, info.shape[0], cols);
    buffers.push(...m.parts.map((p) => p.buffer));
    for await (const chunk of checkpoint.readTensorRows(name, CHUNK_BYTES, options.signal)) {
      if (options.signal?.aborted) throw new AbortError('Loading the vision tower');
      writeMatrixRows(ctx, m, chunk.rowStart, ctx.storage === 'f16' ? toHalfPacked(chunk.bytes, dtype, chunk.rows, cols) : toF32Padded(chunk.bytes, dtype, chunk.rows, cols));
      progress(name, chunk.bytes.byteLength);
    }
    return m;
  };
  const vector = async (name: string): Promise<GPUBuffer> => {
    const bytes = await checkpoint.readTensor(name, options.signal);
    const buffer = uploadF32(ctx, name, toF32(bytes, floatDtype(name)));
    buffers.push(buffer);
    progress(name, bytes.byteLength);
    return buffer;
  };
  const linear = async (n: LinearNames): Promise<LinearWeights> => ({ weight: await matrix(n.weight), bias: await vector(n.bias) });
  const norm = async (n: NormNames): Promise<NormWeights> => ({ weight: await vector(n.weight), bias: await vector(n.bias) });
  const merger = async (n: MergerNames): Promise<MergerWeights> => ({
    norm: await norm(n.norm), postShuffleNorm: n.postShuffleNorm, fc1: await linear(n.fc1), fc2: await linear(n.fc2),
  });

  const patchEmbed = await linear(names.patchEmbed);
  const posEmbed = await matrix(names.posEmbed);
  const blocks: VisionBlockWeights[] = [];
  for (const b of names.blocks) {
    blocks.push({ norm1: await norm(b.norm1), norm2: await norm(b.norm2), qkv: await linear(b.qkv), proj: await linear(b.proj), fc1: await linear(b.fc1), fc2: await linear(b.fc2) });
  }
  const deepstackMergers: MergerWeights[] = [];
  for (const d of names.deepstackMergers) deepstackMergers.push(await merger(d));
  return { patchEmbed, posEmbed, blocks, merger: await merger(names.merger), deepstackMergers };
}

/** Bytes loadVisionWeights leaves on the GPU, from the checkpoint headers alone (for the fit estimate). */
export function visionWeightBytes(v: VisionConfig, checkpoint: Checkpoint, storage: WeightStorage): number {
  let bytes = 0;
  for (const [name, shape] of visionWeightNames(v).expectedShapes) {
    checkpoint.expectShape(name, shape);
    const padded = (n: number) => Math.max(4, Math.ceil(n / 4) * 4);
    if (shape.length === 1) bytes += padded(shape[0] * 4);
    else bytes += padded(shape[0] * matrixLayout(shape[0], shape.slice(1).reduce((a, b) => a * b, 1), storage).rowWords * 4);
  }
  return bytes;
}
