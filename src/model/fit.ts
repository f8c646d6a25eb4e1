import type { Qwen35Config } from '../loader/config.ts';
import type { Checkpoint } from '../loader/checkpoint.ts';
import { checkpointWeightNames } from '../loader/expert-layout.ts';
import { fp8TensorOf } from '../loader/fp8.ts';
import type { LayerNames } from '../loader/names.ts';
import type { GpuContext, WeightStorage } from '../gpu/context.ts';
import { matrixLayout, type WeightFormat } from '../gpu/weights.ts';
import { allocateScratch, derivedSizes } from '../layers/scratch.ts';
import { CHUNK_BYTES } from './load-weights.ts';
import { visionWeightBytes } from './vision-weights.ts';

export interface SizeOptions {
  /** Tokens the KV cache holds. */
  maxContext: number;
  /** Tokens per prefill program; the engine caps it at maxContext. */
  prefillChunk: number;
  storage: WeightStorage;
  /** Count the vision tower's weights too (the engine loads it whenever the checkpoint has one). */
  vision?: boolean;
  /** Matrix format when not the storage's own (q8/q4 quantized on load), and its group size. */
  quant?: WeightFormat;
  groupSize?: number;
}

export interface FitOptions extends SizeOptions {
  /**
   * GPU memory the model may use. WebGPU exposes no memory size, so only the caller can say (the
   * app's setting, or what it knows of its users' devices); unset, memory is not checked.
   */
  memoryBudgetBytes?: number;
}

export interface RequiredBytes {
  weights: number;
  kvCache: number;
  /** Delta-rule layers: conv window and recurrent state. */
  deltaState: number;
  scratch: number;
  total: number;
  /**
   * Weight bytes one decode step reads: everything but the experts the router did not choose
   * (k of E per MoE layer) and, with an untied lm_head, all embedding rows but one.
   */
  decodeWeights: number;
  /** FP8 checkpoints: the staging chunk and one tensor's scales, held only while loading (on top of total). */
  loadTransient: number;
  /** The widest weight row: matrices are split into buffers by rows, so one row must fit a binding. */
  widestRow: { name: string; bytes: number };
  /** MoE: one expert's gate/up or down rows (in their format), which stay together in one buffer; null for dense models. */
  widestExpert: { name: string; bytes: number; format: WeightFormat } | null;
  /** The largest buffer of each kind that cannot be split (labelled as the engine labels it). */
  wholeBuffers: { label: string; bytes: number }[];
}

/** The worker API's ModelFit plus the breakdown behind it (src/model may not import src/worker). */
export interface ModelFitEstimate {
  fits: boolean;
  requiredBytes: number;
  reasons: string[];
  breakdown: RequiredBytes;
}

/** What BufferPool really allocates for `size` bytes: a multiple of 4, at least 4. */
function poolBytes(size: number): number {
  return Math.max(4, Math.ceil(size / 4) * 4);
}

/** Tensors the loader keeps as float32 vectors (norms, conv taps, A_log, dt_bias); all others are matrices. */
function vectorNames(layer: LayerNames): string[] {
  const m = layer.mixer;
  const mixer = m.kind === 'linear_attention' ? [m.conv1d, m.dtBias, m.aLog, m.norm] : [m.qNorm, m.kNorm];
  return [layer.inputNorm, layer.postNorm, ...mixer];
}

/**
 * Bytes Qwen35Model.load leaves allocated on the GPU, from config.json and the checkpoint headers
 * alone: weights as the loader stores them (matrices in their format, rows padded to whole units,
 * FP8 matrices in f16/f32 storage; vectors in f32; a tied lm_head once; mtp.*
 * skipped, the vision tower counted only with `vision`; experts in either checkpoint layout), KV
 * caches, delta-rule state and the scratch buffers. Shapes, and FP8 scales, are checked as the
 * loader checks them.
 */
export function estimateRequiredBytes(config: Qwen35Config, checkpoint: Checkpoint, options: SizeOptions): RequiredBytes {
  const names = checkpointWeightNames(config, checkpoint);
  const vectors = new Set([names.finalNorm, ...names.layers.flatMap(vectorNames)]);
  const format = options.quant ?? options.storage;
  const grouped = format === 'q8' || format === 'q4';
  let weights = 0;
  let widestRow = { name: '', bytes: 0 };
  let widestVector = { label: '', bytes: 0 };
  let fp8Staging = 0;
  let fp8Scales = 0;
  for (const [name, shape] of names.expectedShapes) {
    const info = checkpoint.expectShape(name, shape);
    const fp8 = fp8TensorOf(checkpoint, name, config.quantization);
    // FP8 is dequantized on the GPU into f16/f32 storage, unless it is re-quantized to q8/q4 on the CPU.
    const gpuFp8 = fp8 !== null && !grouped;
    if (fp8 && gpuFp8) {
      // Fp8Uploader's staging buffer holds a chunk of whole rows (at least one), and the scales go up as f32.
      fp8Staging = Math.max(fp8Staging, poolBytes(Math.max(CHUNK_BYTES, Math.ceil(info.shape[1] / 4) * 4)));
      fp8Scales = Math.max(fp8Scales, poolBytes(fp8.scale.shape[0] * fp8.scale.shape[1] * 4));
    }
    if (vectors.has(name)) {
      const bytes = poolBytes(info.shape.reduce((a, b) => a * b, 1) * 4);
      weights += bytes;
      if (bytes > widestVector.bytes) widestVector = { label: name, bytes };
      continue;
    }
    // Rows are everything before the last dim; fusing or splitting by rows changes no byte count.
    const cols = info.shape[info.shape.length - 1];
    const rows = info.shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const layout = matrixLayout(rows, cols, gpuFp8 ? options.storage : format, options.groupSize);
    const rowBytes = layout.rowWords * 4;
    weights += poolBytes(rows * rowBytes) + (layout.scaleWords ? poolBytes(rows * layout.scaleWords * 4) : 0);
    if (rowBytes > widestRow.bytes) widestRow = { name, bytes: rowBytes };
  }

  if (options.vision && config.vision && checkpoint.has('model.visual.patch_embed.proj.weight')) weights += visionWeightBytes(config.vision, checkpoint, options.storage);

  const c = config;
  const rowBytesOf = (cols: number, rowFormat: WeightFormat) => {
    const layout = matrixLayout(1, cols, rowFormat, options.groupSize);
    return (layout.rowWords + layout.scaleWords) * 4;
  };
  const embedFormat = fp8TensorOf(checkpoint, names.embed, config.quantization) && !grouped ? options.storage : format;
  let decodeWeights = weights - (c.tieWordEmbeddings ? 0 : (c.vocabSize - 1) * rowBytesOf(c.hiddenSize, embedFormat));
  let widestExpert: RequiredBytes['widestExpert'] = null;
  if (c.moe) {
    const { numExperts: E, numExpertsPerTok: k, moeIntermediateSize: Im } = c.moe;
    // Experts take the load's format, as every matrix does (FP8 ones in f16/f32 storage unless that is q8/q4).
    const expertFormat = (tensors: string[]) => (!grouped && tensors.some((n) => fp8TensorOf(checkpoint, n, config.quantization)) ? options.storage : format);
    for (const e of names.experts) {
      if (!e) continue;
      const [gateUpFormat, downFormat] = [expertFormat(e.gateUp), expertFormat(e.down)];
      const gateUp = 2 * Im * rowBytesOf(c.hiddenSize, gateUpFormat);
      const down = c.hiddenSize * rowBytesOf(Im, downFormat);
      decodeWeights -= (E - k) * (gateUp + down);
      const widest = gateUp >= down ? { name: e.gateUp[0], bytes: gateUp, format: gateUpFormat } : { name: e.down[0], bytes: down, format: downFormat };
      if (!widestExpert || widest.bytes > widestExpert.bytes) widestExpert = widest;
    }
  }
  const wholeBuffers = [widestVector];
  const kvLayer = c.layerTypes.indexOf('full_attention');
  const kvBytes = poolBytes(options.maxContext * c.numKeyValueHeads * c.headDim * 4);
  if (kvLayer >= 0) wholeBuffers.push({ label: `layer${kvLayer}.k_cache`, bytes: kvBytes });
  const linearLayer = c.layerTypes.indexOf('linear_attention');
  const convState = poolBytes(derivedSizes(c).convDim * (c.linearConvKernelDim - 1) * 4);
  const recurrentState = poolBytes(c.linearNumValueHeads * c.linearKeyHeadDim * c.linearValueHeadDim * 4);
  if (linearLayer >= 0) wholeBuffers.push({ label: `layer${linearLayer}.conv_state`, bytes: convState }, { label: `layer${linearLayer}.recurrent_state`, bytes: recurrentState });
  const scratchBuffers = scratchSizes(c, Math.min(options.prefillChunk, options.maxContext));
  wholeBuffers.push(...scratchBuffers);
  if (fp8Staging) wholeBuffers.push({ label: 'fp8_dequant.staging', bytes: fp8Staging });

  const fullLayers = c.layerTypes.filter((t) => t === 'full_attention').length;
  const kvCache = fullLayers * 2 * kvBytes;
  const deltaState = (c.numLayers - fullLayers) * (convState + recurrentState);
  const scratch = scratchBuffers.reduce((sum, b) => sum + b.bytes, 0);
  const loadTransient = fp8Staging + fp8Scales;
  return { weights, kvCache, deltaState, scratch, total: weights + kvCache + deltaState + scratch, decodeWeights, loadTransient, widestRow, widestExpert, wholeBuffers };
}

/**
 * The scratch buffers allocateScratch makes, found by running it against a pool that only
 * records sizes: the estimate cannot drift from what the engine allocates.
 */
function scratchSizes(c: Qwen35Config, maxTokens: number): { label: string; bytes: number }[] {
  const buffers: { label: string; bytes: number }[] = [];
  const storage = (label: string, size: number) => {
    buffers.push({ label, bytes: poolBytes(size) });
    return null as unknown as GPUBuffer;
  };
  allocateScratch({ pool: { storage } } as unknown as GpuContext, c, maxTokens);
  return buffers;
}

/**
 * Whether a model fits a GPU with these limits, before downloading its weights. It does not fit
 * when one weight row or any unsplittable buffer exceeds what one buffer binding may hold, or when
 * its peak (resident bytes plus what a load holds on top) exceeds the memory budget, if one is given.
 */
export function estimateModelFit(config: Qwen35Config, checkpoint: Checkpoint, limits: GPUSupportedLimits, options: FitOptions): ModelFitEstimate {
  const required = estimateRequiredBytes(config, checkpoint, options);
  const bindingMax = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const reasons: string[] = [];
  const { widestRow, widestExpert } = required;
  if (widestRow.bytes > bindingMax) {
    reasons.push(`One row of ${widestRow.name} needs ${formatBytes(widestRow.bytes)} in ${options.quant ?? options.storage} storage, but this GPU binds at most ${formatBytes(bindingMax)} per buffer`);
  }
  if (widestExpert && widestExpert.bytes > bindingMax) {
    reasons.push(`One expert of ${widestExpert.name} needs ${formatBytes(widestExpert.bytes)} in ${widestExpert.format} storage and is kept whole in one buffer, but this GPU binds at most ${formatBytes(bindingMax)} per buffer`);
  }
  for (const { label, bytes } of required.wholeBuffers) {
    if (bytes <= bindingMax) continue;
    const kvPerToken = config.numKeyValueHeads * config.headDim * 4;
    const hint = label.endsWith('.k_cache') ? `; maxContext ${Math.floor(bindingMax / kvPerToken)} or less would fit` : '';
    reasons.push(`Buffer ${label} needs ${formatBytes(bytes)}, but this GPU binds at most ${formatBytes(bindingMax)} per buffer${hint}`);
  }
  const budget = options.memoryBudgetBytes;
  const peak = required.total + required.loadTransient;
  if (budget !== undefined && peak > budget) {
    const { weights, kvCache, deltaState, scratch, loadTransient } = required;
    const transient = loadTransient ? `, ${formatBytes(loadTransient)} more while loading` : '';
    const parts = `weights ${formatBytes(weights)}, KV cache ${formatBytes(kvCache)}, delta-rule state ${formatBytes(deltaState)}, scratch ${formatBytes(scratch)}${transient}`;
    reasons.push(`The model needs ${formatBytes(peak)} of GPU memory (${parts}), more than the budget of ${formatBytes(budget)}`);
  }
  const fits = reasons.length === 0;
  return { fits, requiredBytes: required.total, reasons, breakdown: required };
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}
