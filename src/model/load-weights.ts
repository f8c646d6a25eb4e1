import type { Qwen35Config } from '../loader/config.ts';
import type { Checkpoint } from '../loader/checkpoint.ts';
import { toF32, toF32Padded, toHalfPacked, type FloatDtype } from '../loader/dtype.ts';
import { AbortError, CheckpointError } from '../loader/errors.ts';
import { checkpointWeightNames } from '../loader/expert-layout.ts';
import { checkNoFp8NaN, fp8RowsToF32, fp8TensorOf } from '../loader/fp8.ts';
import type { GpuContext } from '../gpu/context.ts';
import { allocateMatrix, uploadF32, writeMatrixRows, writeRowsF32, type GpuMatrix, type WeightFormat } from '../gpu/weights.ts';
import type { FullAttentionWeights } from '../layers/full-attention.ts';
import type { LinearAttentionWeights } from '../layers/linear-attention.ts';
import type { MlpWeights } from '../layers/mlp.ts';
import { isMoeWeights, type MoeWeights } from '../layers/moe.ts';
import { loadMoeWeights, type MatrixLoader } from './load-moe.ts';
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

/** How matrices are stored: the format of every matrix (embeddings and lm_head included). */
export interface WeightOptions {
  format: WeightFormat;
  /** Values per scale of q8/q4 (a multiple of 32; default DEFAULT_GROUP_SIZE). */
  groupSize?: number;
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
 * matrices in the chosen weight format (q8/q4 quantized chunk by chunk on the CPU as they stream
 * past), fused where one matmul can serve several projections, the MLP's gate and up rows
 * interleaved for the fused gate/up + SwiGLU kernel; zero-centred norm weights (Qwen3.5) as 1 + w,
 * plain ones (Qwen3) as they are; small vectors in float32. Block-wise FP8 matrices are
 * dequantized on the GPU into f16/f32 storage (fp8-upload.ts), or on the CPU, chunk by chunk, on
 * their way to q8/q4.
 */
export async function loadWeights(
  ctx: GpuContext,
  checkpoint: Checkpoint,
  c: Qwen35Config,
  options: { signal?: AbortSignal; onProgress?: (p: LoadProgress) => void; weights?: WeightOptions },
): Promise<ModelWeights> {
  const format = options.weights?.format ?? ctx.storage;
  const groupSize = options.weights?.groupSize;
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

  const floatDtype = (name: string): FloatDtype => {
    const info = checkpoint.get(name);
    if (info.dtype !== 'BF16' && info.dtype !== 'F16' && info.dtype !== 'F32') throw new CheckpointError(info.file, `${name} has dtype ${info.dtype}; expected BF16, F16, F32 or block-scaled F8_E4M3`);
    return info.dtype;
  };

  /**
   * A tensor's rows as the CPU streams them: float tensors converted to f16/f32 pairs or, for
   * q8/q4, to float32; FP8 ones (only for q8/q4: f16/f32 storage dequantizes them on the GPU)
   * dequantized to float32 with their block scales.
   */
  const rowReader = async (name: string, m: GpuMatrix) => {
    const fp8Tensor = fp8TensorOf(checkpoint, name, c.quantization);
    const grouped = m.format === 'q8' || m.format === 'q4';
    if (fp8Tensor) {
      const scale = toF32(await checkpoint.readTensor(fp8Tensor.scale.name, options.signal), fp8Tensor.scale.dtype as FloatDtype);
      return (bytes: Uint8Array, rowStart: number, rows: number) => {
        checkNoFp8NaN(name, fp8Tensor.weight.file, bytes, rowStart, m.cols);
        return fp8RowsToF32(fp8Tensor, scale, bytes, rowStart, rows);
      };
    }
    const dtype = floatDtype(name);
    return (bytes: Uint8Array, _rowStart: number, rows: number): Float32Array | Uint32Array => {
      if (grouped) return toF32(bytes, dtype);
      return m.format === 'f16' ? toHalfPacked(bytes, dtype, rows, m.cols) : new Uint32Array(toF32Padded(bytes, dtype, rows, m.cols).buffer);
    };
  };
  /** Writes converted rows of one or more tensors (alternating, `stride` apart) from matrix row `row`. */
  const writeRows = (m: GpuMatrix, row: number, stride: number, parts: (Float32Array | Uint32Array)[], rows: number) => {
    if (m.format === 'q8' || m.format === 'q4') writeRowsF32(ctx, m, row, interleave(parts as Float32Array[], rows, m.cols, stride));
    else writeMatrixRows(ctx, m, row, interleave(parts as Uint32Array[], rows, parts[0].length / rows, stride));
  };

  // Matrix rows are everything before a tensor's last dim ([E, 2Im, H] experts: E·2Im rows).
  const matrixRows = (shape: number[]) => shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const matrix: MatrixLoader = async (label, tensors, layout = {}) => {
    const shapes = tensors.map((n) => checkpoint.get(n).shape);
    const cols = shapes[0][shapes[0].length - 1];
    const rows = shapes.reduce((sum, s) => sum + matrixRows(s), 0);
    const quantized = tensors.map((n) => fp8TensorOf(checkpoint, n, c.quantization));
    const grouped = format === 'q8' || format === 'q4';
    const gpuFp8 = quantized.some(Boolean) && !grouped;
    const stored = gpuFp8 ? ctx.storage : format;
    const m = allocateMatrix(ctx, label, rows, cols, { format: stored, groupSize, rowGroup: layout.rowGroup });
    // Interleaved tensors (same shape) alternate rows: row r of tensor i lands at r·count + i.
    const step = layout.interleaved ? tensors.length : 1;
    const fp8Upload = async (t: NonNullable<(typeof quantized)[number]>, rowBase: number) => {
      fp8 ??= await Fp8Uploader.create(ctx, CHUNK_BYTES);
      await fp8.upload(m, rowBase, step, checkpoint, t, options.signal, (bytes) => progress(t.weight.name, bytes));
    };
    if (layout.interleaved && !gpuFp8) {
      const [a, b] = tensors;
      if (checkpoint.get(a).dtype !== checkpoint.get(b).dtype) throw new CheckpointError(checkpoint.get(b).file, `${b} has dtype ${checkpoint.get(b).dtype} but ${a} has ${checkpoint.get(a).dtype}; they are loaded together`);
      const [readA, readB] = [await rowReader(a, m), await rowReader(b, m)];
      const second = checkpoint.readTensorRows(b, CHUNK_BYTES, options.signal);
      for await (const chunk of checkpoint.readTensorRows(a, CHUNK_BYTES, options.signal)) {
        const other = (await second.next()).value;
        if (options.signal?.aborted) throw new AbortError('Loading the model');
        const parts = [readA(chunk.bytes, chunk.rowStart, chunk.rows), readB(other!.bytes, chunk.rowStart, chunk.rows)];
        writeRows(m, 2 * chunk.rowStart, 2, parts, chunk.rows);
        progress(a, chunk.bytes.byteLength + other!.bytes.byteLength);
      }
      return m;
    }
    if (layout.interleaved) {
      const plain = tensors.find((_, i) => !quantized[i]);
      if (plain) throw new CheckpointError(checkpoint.get(plain).file, `${plain} is not FP8 but ${tensors.find((_, i) => quantized[i])} is; they are loaded together`);
      for (const [i, t] of quantized.entries()) await fp8Upload(t!, i);
      return m;
    }
    let rowBase = 0;
    for (const [i, name] of tensors.entries()) {
      const info = checkpoint.get(name);
      const t = quantized[i];
      if (t && gpuFp8) {
        await fp8Upload(t, rowBase);
        rowBase += info.shape[0];
        continue;
      }
      const read = await rowReader(name, m);
      const perRow = matrixRows(info.shape) / info.shape[0];
      for await (const chunk of checkpoint.readTensorRows(name, CHUNK_BYTES, options.signal)) {
        if (options.signal?.aborted) throw new AbortError('Loading the model');
        const chunkRows = chunk.rows * perRow;
        writeRows(m, rowBase + chunk.rowStart * perRow, 1, [read(chunk.bytes, chunk.rowStart, chunkRows)], chunkRows);
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
      : {
          gateUp: await matrix(`layer${i}.gate_up`, [n.mlp.gateProj, n.mlp.upProj], { interleaved: true }),
          down: await matrix(`layer${i}.down`, [n.mlp.downProj]),
        };
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

/** The distinct weight layouts among the matrices Matmul and Embed read: what those kernels must be compiled for. */
export function weightFormatsOf(w: ModelWeights): { format: WeightFormat; groupSize: number }[] {
  const mlpMatrices = (mlp: MlpWeights | MoeWeights) => (isMoeWeights(mlp) ? [mlp.routerShared, mlp.sharedDown] : [mlp.gateUp, mlp.down]);
  const mixerMatrices = (m: LayerWeights['mixer']) => (m.kind === 'linear_attention' ? [m.inProj, m.outProj] : [m.qkv, m.oProj]);
  return distinctFormats([w.embedTokens, w.lmHead, ...w.layers.flatMap((l) => [...mlpMatrices(l.mlp), ...mixerMatrices(l.mixer)])]);
}

/** The distinct weight layouts of the MoE blocks' routed experts (empty for dense models): what MoeExperts compiles for. */
export function expertFormatsOf(w: ModelWeights): { format: WeightFormat; groupSize: number }[] {
  return distinctFormats(w.layers.flatMap((l) => (isMoeWeights(l.mlp) ? [l.mlp.expertsGateUp, l.mlp.expertsDown] : [])));
}

function distinctFormats(matrices: GpuMatrix[]): { format: WeightFormat; groupSize: number }[] {
  const seen = new Map(matrices.map((m) => [`${m.format}:${m.groupSize}`, { format: m.format, groupSize: m.groupSize }]));
  return [...seen.values()];
}

/** Rows of `parts` (each [rows, width]) alternated: row r of part p lands at r * parts.length + p. */
function interleave<T extends Float32Array | Uint32Array>(parts: T[], rows: number, width: number, stride: number): T {
  if (stride === 1) return parts[0];
  const out = new (parts[0].constructor as { new (n: number): T })(rows * stride * width);
  for (let r = 0; r < rows; r++) parts.forEach((p, i) => out.set(p.subarray(r * width, (r + 1) * width), (r * stride + i) * width));
  return out;
}
