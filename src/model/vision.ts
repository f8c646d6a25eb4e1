import type { Checkpoint } from '../loader/checkpoint.ts';
import { ModelTooLargeError } from '../loader/errors.ts';
import type { GridThw, PixelNormalization, ResampleTaps, VisionConfig } from '../loader/vision-config.ts';
import type { GpuContext } from '../gpu/context.ts';
import { ProgramBuilder } from '../gpu/program.ts';
import {
  createVisionKernels, recordLinear, recordMerger, recordVisionBlock, type VisionKernels, type VisionScratch,
} from '../layers/vision-block.ts';
import type { LoadProgress } from './load-weights.ts';
import { loadVisionWeights, type VisionWeights } from './vision-weights.ts';
import { attentionSegments, axialRopeTable, patchCount, positionTaps } from './vision-tables.ts';

/** One image or video, preprocessed: frames sized (or with the taps to size them here), ready for patching. */
export interface VisionItem {
  /** [frameCount, height, width, 3] bytes, RGB; at the source size when `resize` is given. */
  frames: Uint8Array;
  frameCount: number;
  /** Final size. */
  width: number;
  height: number;
  /** A resize to run on the GPU first (vision_resize.wgsl), axis by axis. */
  resize?: { sourceWidth: number; sourceHeight: number; horizontal?: ResampleTaps; vertical?: ResampleTaps };
  /** (ceil(frameCount / Tp), height / p, width / p). */
  grid: GridThw;
  normalization: PixelNormalization;
}

/** The outputs of one run, on the GPU until destroy(). */
export interface VisionRun {
  /** [tokens, out]: merged tokens of every item, in item order. */
  embeddings: GPUBuffer;
  tokens: number;
  patches: number;
  /** Qwen3-VL: [levels, tokens, out], the DeepStack mergers' rows (absent without DeepStack levels). */
  deepstack?: GPUBuffer;
  /** With capture: pixel values [N, patchDim], block 0's input [N, Hv], block outputs [depth, N, Hv]. */
  capture?: { pixels: GPUBuffer; input: GPUBuffer; blockOutputs: GPUBuffer };
  destroy(): void;
}

/**
 * The vision tower on one GPUDevice: weights and kernels, loaded once; each run takes one
 * request's images and videos and leaves their merged tokens in a GPU buffer, recorded as one
 * program (patchify, patch embedding, position table, blocks, mergers) in one command buffer.
 */
export class VisionTower {
  private constructor(
    private readonly ctx: GpuContext,
    readonly config: VisionConfig,
    private readonly weights: VisionWeights,
    private readonly kernels: VisionKernels,
    private readonly buffers: GPUBuffer[],
  ) {}

  static async load(
    ctx: GpuContext, checkpoint: Checkpoint, config: VisionConfig,
    options: { signal?: AbortSignal; onProgress?: (p: LoadProgress) => void } = {},
  ): Promise<VisionTower> {
    const buffers: GPUBuffer[] = [];
    try {
      const weights = await loadVisionWeights(ctx, checkpoint, config, buffers, options);
      return new VisionTower(ctx, config, weights, await createVisionKernels(ctx, config), buffers);
    } catch (e) {
      for (const b of buffers) ctx.pool.destroy(b);
      throw e;
    }
  }

  /** The most patches one run can take: every per-patch buffer must fit one storage binding. */
  get maxPatches(): number {
    const v = this.config;
    const widest = Math.max(v.patchDim, 3 * v.hiddenSize, v.intermediateSize, v.hiddenSize);
    return Math.floor(this.ctx.maxBindingBytes / (4 * widest));
  }

  /** The largest item (source frames, bytes) whose resize can run on the GPU: it must fit one binding. */
  get maxFrameBytes(): number {
    return this.ctx.maxBindingBytes;
  }

  /** Bytes of weights held on the GPU. */
  get weightBytes(): number {
    return this.buffers.reduce((sum, b) => sum + b.size, 0);
  }

  async run(items: readonly VisionItem[], options: { capture?: boolean } = {}): Promise<VisionRun> {
    const v = this.config;
    const { device, pool } = this.ctx;
    const grids = items.map((i) => i.grid);
    const N = patchCount(grids);
    const group = v.spatialMergeSize ** 2;
    const tokens = N / group;
    if (N === 0) throw new RangeError('vision: no patches to encode');
    if (N > this.maxPatches) throw new ModelTooLargeError(`${N} vision patches need more than one storage binding on this GPU (at most ${this.maxPatches} patches per request)`);

    const made: GPUBuffer[] = [];
    const f32 = (label: string, count: number) => {
      const buffer = pool.storage(`vision.${label}`, count * 4);
      made.push(buffer);
      return buffer;
    };
    const upload = (label: string, data: ArrayBufferView & { byteLength: number }) => {
      const buffer = pool.storage(`vision.${label}`, data.byteLength);
      made.push(buffer);
      device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
      return buffer;
    };
    device.pushErrorScope('out-of-memory');
    let scopeOpen = true;
    try {
      const Hv = v.hiddenSize;
      const b = new ProgramBuilder(this.ctx, 'vision');
      const k = this.kernels;
      // Each item's frames: uploaded as given, then resized axis by axis on the GPU if asked.
      const itemFrames = items.map((item, i) => {
        // Sides are multiples of the patch size once resized; source frames are padded to whole words.
        let current = upload(`frames${i}`, padToWords(item.frames));
        let [w, h] = item.resize ? [item.resize.sourceWidth, item.resize.sourceHeight] : [item.width, item.height];
        const pass = (taps: ResampleTaps, lines: number, inner: number, label: string) => {
          const out = f32(`${label}${i}`, Math.ceil((lines * taps.outSize * inner) / 4));
          k.resize.record(b, {
            src: current, start: upload(`${label}${i}.start`, taps.start), count: upload(`${label}${i}.count`, taps.count), weights: upload(`${label}${i}.weights`, taps.weights),
            ksize: taps.ksize, precision: taps.precision, dst: out, lines, inSize: taps.inSize, outSize: taps.outSize, inner,
          });
          current = out;
        };
        if (item.resize?.horizontal) {
          pass(item.resize.horizontal, item.frameCount * h, 3, 'resize_h');
          w = item.width;
        }
        if (item.resize?.vertical) {
          pass(item.resize.vertical, item.frameCount, w * 3, 'resize_v');
          h = item.height;
        }
        if (w !== item.width || h !== item.height) throw new RangeError(`vision: item ${i} is ${w}×${h} after resizing, expected ${item.width}×${item.height}`);
        return current;
      });
      const taps = positionTaps(grids, v.gridPerSide, v.spatialMergeSize);
      const scratch: VisionScratch = {
        N,
        x: f32('x', N * Hv),
        xn: f32('xn', N * Hv),
        qkv: f32('qkv', N * 3 * Hv),
        mlp: f32('mlp', N * Math.max(v.intermediateSize, Hv)),
        rope: upload('rope', axialRopeTable(grids, v.spatialMergeSize, v.headDim, v.ropeTheta)),
        seg: upload('seg', attentionSegments(grids)),
      };
      const pixels = f32('pixels', N * v.patchDim);
      const tapIndex = upload('pos_index', taps.index);
      const tapWeight = upload('pos_weight', taps.weight);
      const embeddings = f32('embeddings', tokens * v.outHiddenSize);
      const levelFloats = tokens * v.outHiddenSize;
      const levels = this.weights.deepstackMergers.length;
      const deepstack = levels ? f32('deepstack', levels * levelFloats) : undefined;
      const levelOut = levels ? f32('deepstack.level', levelFloats) : undefined;
      const capture = options.capture
        ? { pixels, input: f32('capture.input', N * Hv), blockOutputs: f32('capture.blocks', v.depth * N * Hv) }
        : undefined;

      let rowOffset = 0;
      items.forEach((item, i) => {
        k.patchify.record(b, { frames: itemFrames[i], frameCount: item.frameCount, width: item.width, height: item.height, groups: item.grid.t, rowOffset }, item.normalization, pixels);
        rowOffset += item.grid.t * item.grid.h * item.grid.w;
      });
      recordLinear(b, k, this.weights.patchEmbed, pixels, scratch.x, N);
      k.posEmbed.record(b, { index: tapIndex, weight: tapWeight, table: this.weights.posEmbed, x: scratch.x, N });
      const rowBytes = N * Hv * 4;
      if (capture) b.copy(scratch.x, 0, capture.input, 0, rowBytes);
      this.weights.blocks.forEach((block, j) => {
        recordVisionBlock(b, k, v, block, scratch);
        if (capture) b.copy(scratch.x, 0, capture.blockOutputs, j * rowBytes, rowBytes);
        v.deepstackVisualIndexes.forEach((index, level) => {
          if (index !== j) return;
          recordMerger(b, k, v, this.weights.deepstackMergers[level], scratch.x, scratch, levelOut!);
          b.copy(levelOut!, 0, deepstack!, level * levelFloats * 4, levelFloats * 4);
        });
      });
      recordMerger(b, k, v, this.weights.merger, scratch.x, scratch, embeddings);
      const program = b.build();
      const encoder = device.createCommandEncoder({ label: 'vision' });
      program.encode(encoder, { cache_pos: 0, seed: 0 });
      device.queue.submit([encoder.finish()]);
      const release = () => {
        program.destroy();
        for (const buffer of made) pool.destroy(buffer);
      };
      scopeOpen = false;
      const oom = await device.popErrorScope();
      if (oom) {
        release();
        throw new ModelTooLargeError(`The GPU ran out of memory encoding ${N} vision patches (${oom.message})`);
      }
      return { embeddings, tokens, patches: N, deepstack, capture, destroy: release };
    } catch (e) {
      if (scopeOpen) await device.popErrorScope().catch(() => null);
      for (const buffer of made) pool.destroy(buffer);
      throw e;
    }
  }

  destroy(): void {
    for (const b of this.buffers) this.ctx.pool.destroy(b);
    this.buffers.length = 0;
  }
}

function padToWords(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength % 4 === 0) return bytes;
  const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
  padded.set(bytes);
  return padded;
}
