import type { Qwen35Config } from '../loader/config.ts';
import type { Checkpoint } from '../loader/checkpoint.ts';
import { toF32, toF32Padded, toHalfPacked } from '../loader/dtype.ts';
import { AbortError, CheckpointError } from '../loader/errors.ts';
import { checkpointWeightNames } from '../loader/expert-layout.ts';
import { fp8TensorOf } from '../loader/fp8.ts';
import type { GpuContext } from '../gpu/context.ts';
import { allocateMatrix, uploadF32, writeMatrixRows, type GpuMatrix } from '../gpu/weights.ts';
import type { FullAttentionWeights } from '../layers/full-attention.ts';
import type { LinearAttentionWeights } from '../layers/linear-attention.ts';
import type { MlpWeights } from '../layers/mlp.ts';
import type { MoeWeights } from '../layers/moe.ts';
import { loadMoeWeights } from './load-moe.ts';
import { Fp8Uploader } from './fp8-upload.ts';

export interface LoadProgress {
  loadedBytes: number;
  totalBytes: number;
  tensor: string;
}

export interface LayerWeights {
  inputNorm: GPUBuffer;
  postNorm: GPUBuffer;
  mixer: ({ kind: 'linear_attention' } & LinearAttentionWeights) | ({ kind: 'full_attention' } & FullAttentionWeights);
  mlp: MlpWeights | MoeWeights;
}

export interface ModelWeights {
  embedTokens: GpuMatrix;
  finalNorm: GPUBuffer;
  /** The embedding itself when tie_word_embeddings. */
  lmHead: GpuMatrix;
  layers: LayerWeights[];
}

/**
 * Bytes per upload chunk: small next to the loader's 16 MiB download block, so a load holds one
 * block plus about two chunks (the rows read and their converted copy), never a whole tensor.
 */
export const CHUNK_BYTES = 1 << 20;

/**
 * Streams the text model's tensors from the checkpoint into GPU buffers in the engine's layout:
 * matrices in half (or f32) pair storage, fused where one matmul can serve several projections;
 * zero-centred norm weights (Qwen3.5) as 1 + w, plain ones (Qwen3) as they are; small vectors in float32.
 * Block-wise FP8 matrices are dequantized on the GPU into the same storage (fp8-upload.ts).
 */
export async function loadWeights(
  ctx: GpuContext,
  checkpoint: Checkpoint,
  c: Qwen35Config,
  options: { signal?: AbortSignal; onProgress?: (p: LoadProgress) => void },
): Promise<ModelWeights> {
  const names = checkpointWeightNames(c, checkpoint);
  // Shapes, and every FP8 tensor's scales, are checked before anything is uploaded.
  for (const [name, shape] of names.expectedShapes) {
    checkpoint.expectShape(name, shape);
    fp8TensorOf(checkpoint, name, c.quantization);
  }
  let fp8 = null as Fp8Uploader | null; // created on the first FP8 tensor
  const totalBytes = [...names.expectedShapes.keys()].reduce((sum, n) => sum + (checkpoint.get(n).end - checkpoint.get(n).begin), 0);
  let loadedBytes = 0;

  const progress = (tensor: string, bytes: number) => {
    loadedBytes += bytes;
    options.onProgress?.({ loadedBytes, totalBytes, tensor });
  };

  // Matrix rows are everything before a tensor's last dim ([E, 2Im, H] experts: E·2Im rows).
  const matrixRows = (shape: number[]) => shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const matrix = async (label: string, tensors: string[], rowGroup?: number): Promise<GpuMatrix> => {
    const shapes = tensors.map((n) => checkpoint.get(n).shape);
    const cols = shapes[0][shapes[0].length - 1];
    const rows = shapes.reduce((sum, s) => sum + matrixRows(s), 0);
    const m = allocateMatrix(ctx, label, rows, cols, rowGroup);
    let rowBase = 0;
    for (const name of tensors) {
      const info = checkpoint.get(name);
      const quantized = fp8TensorOf(checkpoint, name, c.quantization);
      if (quantized) {
        fp8 ??= await Fp8Uploader.create(ctx, CHUNK_BYTES);
        await fp8.upload(m, rowBase, checkpoint, quantized, options.signal, (bytes) => progress(name, bytes));
        rowBase += info.shape[0];
        continue;
      }
      if (info.dtype !== 'BF16' && info.dtype !== 'F16' && info.dtype !== 'F32') throw new CheckpointError(info.file, `${name} has dtype ${info.dtype}; expected BF16, F16, F32 or block-scaled F8_E4M3`);
      const dtype = info.dtype;
      const perRow = matrixRows(info.shape) / info.shape[0];
      for await (const chunk of checkpoint.readTensorRows(name, CHUNK_BYTES, options.signal)) {
        if (options.signal?.aborted) throw new AbortError('Loading the model');
        const rows = chunk.rows * perRow;
        const data = ctx.storage === 'f16' ? toHalfPacked(chunk.bytes, dtype, rows, cols) : toF32Padded(chunk.bytes, dtype, rows, cols);
        writeMatrixRows(ctx, m, rowBase + chunk.rowStart * perRow, data);
        progress(name, chunk.bytes.byteLength);
      }
      rowBase += matrixRows(info.shape);
    }
    return m;
  };

  const vector = async (name: string, zeroCentred = false): Promise<GPUBuffer> => {
    const info = checkpoint.get(name);
    if (info.dtype !== 'BF16' && info.dtype !== 'F16' && info.dtype !== 'F32') throw new CheckpointError(info.file, `${name} has dtype ${info.dtype}; expected BF16, F16 or F32`);
    const bytes = await checkpoint.readTensor(name, options.signal);
    const values = toF32(bytes, info.dtype);
    // Qwen3_5RMSNorm scales by (1 + w) computed in float32; adding once here is the same arithmetic.
    if (zeroCentred) for (let i = 0; i < values.length; i++) values[i] = Math.fround(1 + values[i]);
    progress(name, bytes.byteLength);
    return uploadF32(ctx, name, values);
  };

  const embedTokens = await matrix('embed_tokens', [names.embed]);
  const layers: LayerWeights[] = [];
  for (const [i, n] of names.layers.entries()) {
    const inputNorm = await vector(n.inputNorm, c.zeroCentredNorms);
    const postNorm = await vector(n.postNorm, c.zeroCentredNorms);
    const mlp = n.mlp.kind === 'moe'
      ? await loadMoeWeights(matrix, c, n.mlp, names.experts[i]!, i)
      : { gateUp: await matrix(`layer${i}.gate_up`, [n.mlp.gateProj, n.mlp.upProj]), down: await matrix(`layer${i}.down`, [n.mlp.downProj]) };
    const mixer: LayerWeights['mixer'] = n.mixer.kind === 'linear_attention'
      ? {
          kind: 'linear_attention',
          inProj: await matrix(`layer${i}.in_proj`, [n.mixer.inProjQkv, n.mixer.inProjZ, n.mixer.inProjB, n.mixer.inProjA]),
          conv: await vector(n.mixer.conv1d),
          aLog: await vector(n.mixer.aLog),
          dtBias: await vector(n.mixer.dtBias),
          norm: await vector(n.mixer.norm),
          outProj: await matrix(`layer${i}.out_proj`, [n.mixer.outProj]),
        }
      : {
          kind: 'full_attention',
          qkv: await matrix(`layer${i}.qkv`, [n.mixer.qProj, n.mixer.kProj, n.mixer.vProj]),
          qNorm: await vector(n.mixer.qNorm, c.zeroCentredNorms),
          kNorm: await vector(n.mixer.kNorm, c.zeroCentredNorms),
          oProj: await matrix(`layer${i}.o_proj`, [n.mixer.oProj]),
        };
    layers.push({ inputNorm, postNorm, mixer, mlp });
  }
  const finalNorm = await vector(names.finalNorm, c.zeroCentredNorms);
  const lmHead = c.tieWordEmbeddings ? embedTokens : await matrix('lm_head', [names.lmHead]);
  fp8?.destroy();
  return { embedTokens, finalNorm, lmHead, layers };
}
