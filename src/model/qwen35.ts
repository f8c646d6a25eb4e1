import { parseQwen35Config, type Qwen35Config } from '../loader/config.ts';
import { ContextLengthError, ModelTooLargeError } from '../loader/errors.ts';
import { readJsonFile, type FileSource } from '../loader/file-source.ts';
import { openCheckpoint } from '../loader/checkpoint.ts';
import { GpuContext, type ShaderArith, type WeightStorage } from '../gpu/context.ts';
import { matrixBytes, matrixRowBytes, type WeightFormat } from '../gpu/weights.ts';
import type { Program } from '../gpu/program.ts';
import { readF32 } from '../gpu/buffers.ts';
import { SHADER_LIBS } from '../gpu/shader-libs.ts';
import { FullAttentionLayer } from '../layers/full-attention.ts';
import { createKernelSet } from '../layers/kernel-set.ts';
import { LinearAttentionLayer } from '../layers/linear-attention.ts';
import { isMoeWeights, moeDecodeBytes } from '../layers/moe.ts';
import type { SamplingParams } from '../api.ts';
import { buildForward, type Capture, type DecoderLayer, type ModelParts } from './forward.ts';
import { estimateModelFit } from './fit.ts';
import { expertFormatsOf, loadWeights, weightFormatsOf, type LoadProgress, type ModelWeights } from './load-weights.ts';
import { ropeTable, textPositions } from './rope.ts';
import { allocateScratch } from '../layers/scratch.ts';
import { PreparedVisual, type VisualSegment } from './visual-input.ts';

export interface LoadOptions {
  /** Weight storage on the GPU: 'f16' (default; exact for BF16 checkpoints within f16 range) or 'f32'. */
  storage?: WeightStorage;
  /**
   * Matrix format, embeddings and lm_head included: 'f16' (default), 'f32', or quantized on load
   * to 'q8' / 'q4' with one f16 scale per `groupSize` values (weight-formats.ts).
   */
  quant?: WeightFormat;
  groupSize?: number;
  /** Arithmetic of the kernels written for it: 'auto' (default) is f16 where the device has shader-f16. */
  arith?: ShaderArith | 'auto';
  /** Tokens the KV cache holds (default min(max_position_embeddings, 4096)). */
  maxContext?: number;
  /** Tokens per prefill program (default 128); a longer prompt runs in several. */
  prefillChunk?: number;
  /** Bind at most this many bytes per buffer, below the adapter's limit (tests force weight splitting with it). */
  maxBindingBytes?: number;
  signal?: AbortSignal;
  onProgress?: (p: LoadProgress) => void;
}

export interface ForwardOptions {
  /** M-RoPE positions [3, T]; default: text positions continuing from the cache. */
  positions?: Int32Array;
  /** Write every position's logits here ([T, V] f32); the prompt must fit one chunk. */
  allLogits?: GPUBuffer;
  capture?: Capture;
  deltaForm?: 'recurrent' | 'chunked';
  /**
   * Vision tower output for the prompt's placeholder rows (images, videos): replaces their token
   * embeddings and adds Qwen3-VL's DeepStack levels after the first layers. Pass `positions` too.
   */
  visual?: readonly VisualSegment[];
}

/**
 * A loaded Qwen3.5 text model on one GPUDevice: weights, per-layer state (KV cache, conv window,
 * recurrent state) and the programs that run it. Knows nothing of tokenizers or UI.
 */
export class Qwen35Model {
  private readonly programs = new Map<string, Program>();
  private readonly readback: GPUBuffer;
  private cachePos = 0;
  /** M-RoPE offset of decode positions (0 for text; set by a prefill with vision positions). */
  private ropeDelta = 0;
  private seedState = 0x9e3779b9;
  private destroyed = false;

  private constructor(
    readonly ctx: GpuContext,
    readonly config: Qwen35Config,
    private readonly parts: ModelParts,
    readonly maxContext: number,
    /** Bytes of weights on the GPU. */
    readonly weightBytes: number,
  ) {
    this.readback = ctx.device.createBuffer({ label: 'token.readback', size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  static async load(device: GPUDevice, source: FileSource, options: LoadOptions = {}): Promise<Qwen35Model> {
    const config = parseQwen35Config(await readJsonFile(source, 'config.json'));
    const { maxContext, chunk } = plannedSizes(config, options);
    return Qwen35Model.create(device, config, options, async (ctx) => {
      const checkpoint = await openCheckpoint(source);
      const format = options.quant ?? ctx.storage;
      // Say what does not fit before allocating anything, from config.json and the headers alone.
      const fit = estimateModelFit(config, checkpoint, device.limits, { maxContext, prefillChunk: chunk, storage: ctx.storage, quant: format });
      if (!fit.fits) throw new ModelTooLargeError(`The model does not fit this GPU: ${fit.reasons.join('; ')}`);
      return loadWeights(ctx, checkpoint, config, { ...options, weights: { format, groupSize: options.groupSize } });
    });
  }

  /**
   * A model from weights made by `makeWeights` in the returned context: the checkpoint loader, or
   * the benchmark's random weights generated on the GPU. Frees every buffer if anything fails.
   */
  static async create(device: GPUDevice, config: Qwen35Config, options: LoadOptions, makeWeights: (ctx: GpuContext) => Promise<ModelWeights>): Promise<Qwen35Model> {
    const storage = options.storage ?? (options.quant === 'f32' ? 'f32' : 'f16');
    const arith = options.arith === 'auto' || options.arith === undefined ? (device.features.has('shader-f16') ? 'f16' : 'f32') : options.arith;
    const ctx = new GpuContext(device, storage, SHADER_LIBS, options.maxBindingBytes, { arith });
    const { maxContext, chunk } = plannedSizes(config, options);
    device.pushErrorScope('out-of-memory');
    try {
      const weights = await makeWeights(ctx);
      const weightBytes = ctx.pool.allocatedBytes;
      const kernels = await createKernelSet(ctx, config, weightFormatsOf(weights), expertFormatsOf(weights));
      const scratch = allocateScratch(ctx, config, chunk);
      const layers: DecoderLayer[] = weights.layers.map((w, i) => ({
        inputNorm: w.inputNorm,
        postNorm: w.postNorm,
        mlp: w.mlp,
        mixer: w.mixer.kind === 'linear_attention'
          ? new LinearAttentionLayer(ctx, config, w.mixer, i)
          : new FullAttentionLayer(ctx, config, w.mixer, i, maxContext),
      }));
      const oom = await device.popErrorScope();
      if (oom) throw new ModelTooLargeError(`The GPU ran out of memory loading the model (${oom.message})`);
      const parts: ModelParts = { config, kernels, scratch, embedTokens: weights.embedTokens, finalNorm: weights.finalNorm, lmHead: weights.lmHead, layers };
      const model = new Qwen35Model(ctx, config, parts, maxContext, weightBytes);
      model.reset();
      return model;
    } catch (e) {
      await device.popErrorScope().catch(() => null);
      ctx.pool.destroyAll();
      throw e;
    }
  }

  /** Tokens currently in the cache. */
  get position(): number {
    return this.cachePos;
  }

  get gpuBytes(): number {
    return this.ctx.pool.allocatedBytes;
  }

  /**
   * Bytes one decode step reads at `position` tokens of context: every matrix of every layer and
   * all of lm_head, one embedding row, the norm vectors, the delta-rule state and the KV rows in
   * use. The benchmark divides by it; a model that reads less per token (MoE: only the routed
   * experts) reports that here.
   */
  decodeBytesPerToken(position = this.cachePos): number {
    const p = this.parts;
    let bytes = matrixRowBytes(p.embedTokens) + matrixBytes(p.lmHead) + p.finalNorm.size;
    for (const layer of p.layers) {
      const mlp = isMoeWeights(layer.mlp) ? moeDecodeBytes(layer.mlp, this.config.moe!) : matrixBytes(layer.mlp.gateUp) + matrixBytes(layer.mlp.down);
      bytes += layer.inputNorm.size + layer.postNorm.size + mlp;
      bytes += layer.mixer.decodeBytes(position + 1);
    }
    return bytes;
  }

  /** Dispatches and compute passes of one decode step (one command buffer). */
  get decodeCost(): { dispatches: number; passes: number; commandBuffers: number } {
    const p = this.program(1, 'sampled');
    return { dispatches: p.dispatchCount, passes: p.passCount, commandBuffers: 1 };
  }

  configureSampling(params: SamplingParams, seed?: number): void {
    this.parts.kernels.sampler.configure(params);
    if (seed !== undefined) this.seedState = seed >>> 0 || 1;
  }

  /** Runs tokens through the model (in chunks), leaving their state cached; returns the sampled next token. */
  async prefill(ids: Int32Array, options: ForwardOptions = {}): Promise<number> {
    const T = ids.length;
    if (T === 0) throw new RangeError('prefill needs at least one token');
    if (this.cachePos + T > this.maxContext) throw new ContextLengthError(this.cachePos + T, this.maxContext);
    const positions = options.positions ?? textPositions(this.cachePos + this.ropeDelta, T);
    const chunk = this.parts.scratch.maxTokens;
    const oneShot = options.allLogits || options.capture;
    if (oneShot && T > chunk) throw new RangeError(`allLogits/capture need the prompt in one chunk (${T} > ${chunk}); load with a larger prefillChunk`);
    const { device } = this.ctx;
    const visual = options.visual ? PreparedVisual.prepare(this.ctx, this.config, ids, options.visual) : null;
    // Only once the input is accepted: a refused prefill leaves the model as it was.
    if (options.positions) this.ropeDelta = Math.max(...positions) + 1 - (this.cachePos + T);
    let last = 0;
    try {
      for (let start = 0; start < T; start += chunk) {
        const n = Math.min(chunk, T - start);
        const slice = ids.subarray(start, start + n);
        device.queue.writeBuffer(this.parts.scratch.ids, 0, slice.buffer, slice.byteOffset, slice.byteLength);
        this.writeRope(positions, start, n, T);
        // Chunks with visual rows get a program of their own; plain chunks replay the cached one.
        const visualChunk = visual?.chunk(start, n);
        const own = oneShot || visualChunk;
        const program = own
          ? buildForward(this.ctx, this.parts, { T: n, input: 'prompt', allLogits: options.allLogits, capture: options.capture, deltaForm: options.deltaForm, visual: visualChunk })
          : this.program(n, 'prompt', options.deltaForm);
        last = await this.run(program, n);
        if (own) program.destroy();
      }
    } finally {
      visual?.destroy();
    }
    return last;
  }

  /** One decode step: feeds the last sampled token (or `feed`), returns the next sampled token. */
  async decodeOne(feed?: number): Promise<number> {
    if (this.cachePos + 1 > this.maxContext) throw new ContextLengthError(this.cachePos + 1, this.maxContext);
    if (feed !== undefined) this.ctx.device.queue.writeBuffer(this.parts.scratch.token, 0, new Uint32Array([feed]));
    this.writeRope(textPositions(this.cachePos + this.ropeDelta, 1), 0, 1, 1);
    return this.run(this.program(1, 'sampled'), 1);
  }

  /** The last position's logits (tests and verification; a readback, so not for the decode loop). */
  get logitsBuffer(): GPUBuffer {
    return this.parts.scratch.logits;
  }

  /**
   * Every layer's state as it stands (KV cache rows in use, conv window, recurrent state), read
   * back for tests that pin state equality. Slow: never call it while generating.
   */
  async readState(): Promise<{ layer: number; name: string; values: Float32Array }[]> {
    const out: { layer: number; name: string; values: Float32Array }[] = [];
    const { device } = this.ctx;
    const c = this.config;
    for (const [layer, { mixer }] of this.parts.layers.entries()) {
      if (mixer instanceof LinearAttentionLayer) {
        out.push({ layer, name: 'conv', values: await readF32(device, mixer.convState) });
        out.push({ layer, name: 'recurrent', values: await readF32(device, mixer.recurrentState) });
      } else if (this.cachePos > 0) {
        const count = this.cachePos * c.numKeyValueHeads * c.headDim;
        out.push({ layer, name: 'k', values: await readF32(device, mixer.kCache, 0, count) });
        out.push({ layer, name: 'v', values: await readF32(device, mixer.vCache, 0, count) });
      }
    }
    return out;
  }

  /** Forgets the conversation: empty caches and states, as freshly loaded. */
  reset(): void {
    const encoder = this.ctx.device.createCommandEncoder();
    for (const layer of this.parts.layers) if (layer.mixer instanceof LinearAttentionLayer) layer.mixer.clearState(encoder);
    encoder.clearBuffer(this.parts.scratch.counts);
    this.ctx.device.queue.submit([encoder.finish()]);
    this.cachePos = 0;
    this.ropeDelta = 0;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const p of this.programs.values()) p.destroy();
    this.programs.clear();
    this.readback.destroy();
    this.ctx.pool.destroyAll();
  }

  private program(T: number, input: 'prompt' | 'sampled', deltaForm?: 'recurrent' | 'chunked'): Program {
    const key = `${T}:${input}:${deltaForm ?? ''}`;
    let p = this.programs.get(key);
    if (!p) {
      p = buildForward(this.ctx, this.parts, { T, input, deltaForm });
      this.programs.set(key, p);
    }
    return p;
  }

  private async run(program: Program, tokens: number): Promise<number> {
    const { device } = this.ctx;
    const encoder = device.createCommandEncoder({ label: program.label });
    program.encode(encoder, { cache_pos: this.cachePos, seed: this.nextSeed() });
    encoder.copyBufferToBuffer(this.parts.scratch.token, 0, this.readback, 0, 4);
    device.queue.submit([encoder.finish()]);
    await this.readback.mapAsync(GPUMapMode.READ);
    const token = new Uint32Array(this.readback.getMappedRange())[0];
    this.readback.unmap();
    this.cachePos += tokens;
    return token;
  }

  private writeRope(positions: Int32Array, start: number, n: number, T: number): void {
    const chunkPositions = new Int32Array(3 * n);
    for (let axis = 0; axis < 3; axis++) chunkPositions.set(positions.subarray(axis * T + start, axis * T + start + n), axis * n);
    const table = ropeTable(this.config.rope, chunkPositions, n);
    this.ctx.device.queue.writeBuffer(this.parts.scratch.rope, 0, table.buffer, table.byteOffset, table.byteLength);
  }

  private nextSeed(): number {
    let s = this.seedState;
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    this.seedState = s;
    return s;
  }
}

function plannedSizes(config: Qwen35Config, options: LoadOptions): { maxContext: number; chunk: number } {
  const maxContext = options.maxContext ?? Math.min(config.maxPositionEmbeddings, 4096);
  return { maxContext, chunk: Math.min(options.prefillChunk ?? 128, maxContext) };
}
