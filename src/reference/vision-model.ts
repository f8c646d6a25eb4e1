// The Qwen3.5 vision tower on the CPU, composed from the vision op references: patch embedding,
// resampled position table, blocks of (LayerNorm → 2-D-rotary segment attention) and (LayerNorm →
// GELU MLP), then the 2×2 patch merger. N = patches, Hv = hidden, Iv = MLP width.
import type { VisionConfig } from '../loader/vision-config.ts';
import { visionWeightNames, type LinearNames, type MergerNames } from '../loader/vision-names.ts';
import { matmul } from './matmul.ts';
import {
  attentionSegments, axialRopeInPlace, geluErf, geluTanh, interpolatePosEmbed, layerNorm, segmentAttention, type GridThw,
} from './vision-ops.ts';
import type { WeightSource } from './weights.ts';

export interface ReferenceVisionForward {
  /** [N, Hv] patch embedding + position embedding: the input of block 0. */
  input: Float32Array;
  /** Per block, [N, Hv]. */
  blockOutputs: Float32Array[];
  /** [N / m², out] one row per placeholder token. */
  embeddings: Float32Array;
  /** Qwen3-VL: per DeepStack level, [N / m², out]. */
  deepstack: Float32Array[];
}

interface Linear {
  w: Float32Array;
  b: Float32Array;
  out: number;
  inp: number;
}

export class ReferenceVisionTower {
  private readonly weights: WeightSource;

  constructor(
    readonly config: VisionConfig,
    weights: WeightSource,
  ) {
    this.weights = weights;
  }

  /** pixel values [N, patchDim] of the items whose grids are given, in order. */
  forward(pixels: Float32Array, grids: readonly GridThw[]): ReferenceVisionForward {
    const c = this.config;
    const names = visionWeightNames(c);
    const N = grids.reduce((sum, g) => sum + g.t * g.h * g.w, 0);
    const Hv = c.hiddenSize;
    const m = c.spatialMergeSize;
    if (pixels.length !== N * c.patchDim) throw new Error(`vision: ${pixels.length} pixel values for ${N} patches of ${c.patchDim}`);

    const x = this.linear(pixels, this.load(names.patchEmbed, Hv, c.patchDim), N);
    const pos = interpolatePosEmbed(this.weights(names.posEmbed), c.gridPerSide, Hv, grids, m);
    for (let i = 0; i < x.length; i++) x[i] += pos[i];
    const input = x.slice();
    const segments = attentionSegments(grids);
    const act = c.hiddenAct === 'gelu_tanh' ? geluTanh : geluErf;
    const blockOutputs: Float32Array[] = [];
    for (const block of names.blocks) {
      const h1 = layerNorm(x, this.weights(block.norm1.weight), this.weights(block.norm1.bias), N, Hv, c.layerNormEps);
      const qkv = this.linear(h1, this.load(block.qkv, 3 * Hv, Hv), N);
      const [q, k, v] = splitQkv(qkv, N, Hv);
      axialRopeInPlace(q, grids, m, c.numHeads, c.headDim, c.ropeTheta);
      axialRopeInPlace(k, grids, m, c.numHeads, c.headDim, c.ropeTheta);
      const attn = segmentAttention(q, k, v, segments, c.numHeads, c.headDim);
      addInPlace(x, this.linear(attn, this.load(block.proj, Hv, Hv), N));
      const h2 = layerNorm(x, this.weights(block.norm2.weight), this.weights(block.norm2.bias), N, Hv, c.layerNormEps);
      const hidden = this.linear(h2, this.load(block.fc1, c.intermediateSize, Hv), N).map(act);
      addInPlace(x, this.linear(hidden, this.load(block.fc2, Hv, c.intermediateSize), N));
      blockOutputs.push(x.slice());
    }
    const embeddings = this.merge(x, N, names.merger);
    const deepstack = names.deepstackMergers.map((merger, k) => this.merge(blockOutputs[c.deepstackVisualIndexes[k]], N, merger));
    return { input, blockOutputs, embeddings, deepstack };
  }

  /** LayerNorm (before or after grouping m² patches), fc1, exact GELU, fc2. */
  private merge(x: Float32Array, N: number, names: MergerNames): Float32Array {
    const c = this.config;
    const Hv = c.hiddenSize;
    const merged = Hv * c.spatialMergeSize ** 2;
    const tokens = N / c.spatialMergeSize ** 2;
    const normW = this.weights(names.norm.weight);
    const normB = this.weights(names.norm.bias);
    const normed = names.postShuffleNorm
      ? layerNorm(x, normW, normB, tokens, merged, c.layerNormEps)
      : layerNorm(x, normW, normB, N, Hv, c.layerNormEps);
    const hidden = this.linear(normed, this.load(names.fc1, merged, merged), tokens).map(geluErf);
    return this.linear(hidden, this.load(names.fc2, c.outHiddenSize, merged), tokens);
  }

  private load(names: LinearNames, out: number, inp: number): Linear {
    return { w: this.weights(names.weight), b: this.weights(names.bias), out, inp };
  }

  private linear(x: Float32Array, l: Linear, rows: number): Float32Array {
    const y = matmul(x, l.w, rows, l.out, l.inp);
    for (let r = 0; r < rows; r++) for (let i = 0; i < l.out; i++) y[r * l.out + i] += l.b[i];
    return y;
  }
}

/** [N, 3Hv] fused projection → q, k, v each [N, Hv] (= [N, heads, hd]). */
function splitQkv(qkv: Float32Array, N: number, Hv: number): [Float32Array, Float32Array, Float32Array] {
  const parts = [new Float32Array(N * Hv), new Float32Array(N * Hv), new Float32Array(N * Hv)] as const;
  for (let n = 0; n < N; n++) for (let s = 0; s < 3; s++) parts[s].set(qkv.subarray((n * 3 + s) * Hv, (n * 3 + s + 1) * Hv), n * Hv);
  return [parts[0], parts[1], parts[2]];
}

function addInPlace(x: Float32Array, y: Float32Array): void {
  for (let i = 0; i < x.length; i++) x[i] += y[i];
}
