import type { VisionConfig } from '../loader/vision-config.ts';
import type { GpuContext } from '../gpu/context.ts';
import type { ProgramBuilder } from '../gpu/program.ts';
import type { GpuMatrix } from '../gpu/weights.ts';
import { BiasAct, type Activation } from '../kernels/bias-act.ts';
import { LayerNorm } from '../kernels/layernorm.ts';
import { Matmul } from '../kernels/matmul.ts';
import { VisionAttention } from '../kernels/vision-attention.ts';
import { VisionPatchify } from '../kernels/vision-patchify.ts';
import { VisionPosEmbed } from '../kernels/vision-pos-embed.ts';
import { VisionResize } from '../kernels/vision-resize.ts';
import { VisionRope } from '../kernels/vision-rope.ts';

/** A linear layer with bias: weight [out, in] in pair storage, bias [out] float32. */
export interface LinearWeights {
  weight: GpuMatrix;
  bias: GPUBuffer;
}

export interface NormWeights {
  weight: GPUBuffer;
  bias: GPUBuffer;
}

export interface VisionBlockWeights {
  norm1: NormWeights;
  norm2: NormWeights;
  qkv: LinearWeights;   // [3Hv, Hv]
  proj: LinearWeights;  // [Hv, Hv]
  fc1: LinearWeights;   // [Iv, Hv]
  fc2: LinearWeights;   // [Hv, Iv]
}

/** The patch merger and Qwen3-VL's DeepStack mergers: norm (per patch, or per group of m² patches), fc1, GELU, fc2. */
export interface MergerWeights {
  norm: NormWeights;
  postShuffleNorm: boolean;
  fc1: LinearWeights;   // [4Hv, 4Hv]
  fc2: LinearWeights;   // [out, 4Hv]
}

/** Every kernel the vision tower runs, specialised on its config once at load. */
export interface VisionKernels {
  matmul: Matmul;
  layerNorm: LayerNorm;
  biasAct: BiasAct;
  patchify: VisionPatchify;
  resize: VisionResize;
  posEmbed: VisionPosEmbed;
  rope: VisionRope;
  attention: VisionAttention;
}

export async function createVisionKernels(ctx: GpuContext, v: VisionConfig): Promise<VisionKernels> {
  const [matmul, layerNorm, biasAct, patchify, resize, posEmbed, rope, attention] = await Promise.all([
    Matmul.create(ctx),
    LayerNorm.create(ctx),
    BiasAct.create(ctx),
    VisionPatchify.create(ctx, v.patchSize, v.temporalPatchSize, v.spatialMergeSize),
    VisionResize.create(ctx),
    VisionPosEmbed.create(ctx),
    VisionRope.create(ctx, v.headDim),
    VisionAttention.create(ctx, v.headDim),
  ]);
  return { matmul, layerNorm, biasAct, patchify, resize, posEmbed, rope, attention };
}

/**
 * Activations of one run of the tower, sized for its N patches (a run is one request's images
 * and videos, so these live only for that run).
 */
export interface VisionScratch {
  N: number;
  x: GPUBuffer;     // [N, Hv] residual stream
  xn: GPUBuffer;    // [N, Hv] norm outputs, then attention outputs
  qkv: GPUBuffer;   // [N, 3Hv]
  mlp: GPUBuffer;   // [N, max(Iv, Hv)] MLP hidden; the mergers' [N/m², m²Hv] hidden
  rope: GPUBuffer;  // [N, hd/2, 2]
  seg: GPUBuffer;   // [N, 2] u32
}

/** y = x Wᵀ + b (or y += x Wᵀ + b), then an activation. */
export function recordLinear(b: ProgramBuilder, k: VisionKernels, l: LinearWeights, x: GPUBuffer, y: GPUBuffer, rows: number, act: Activation = 'none', accumulate = false): void {
  k.matmul.record(b, { x, w: l.weight, y, T: rows, accumulate });
  k.biasAct.record(b, { y, bias: l.bias, rows, n: l.weight.rows, act });
}

/** One block: x += proj(attention(rope(qkv(LN1(x))))); x += fc2(act(fc1(LN2(x)))). */
export function recordVisionBlock(b: ProgramBuilder, k: VisionKernels, v: VisionConfig, w: VisionBlockWeights, s: VisionScratch): void {
  const { N } = s;
  const Hv = v.hiddenSize;
  k.layerNorm.record(b, { x: s.x, weight: w.norm1.weight, bias: w.norm1.bias, y: s.xn, rows: N, n: Hv, eps: v.layerNormEps });
  recordLinear(b, k, w.qkv, s.xn, s.qkv, N);
  k.rope.record(b, { rope: s.rope, qkv: s.qkv, N, heads: v.numHeads });
  k.attention.record(b, { seg: s.seg, qkv: s.qkv, out: s.xn, N, heads: v.numHeads });
  recordLinear(b, k, w.proj, s.xn, s.x, N, 'none', true);
  k.layerNorm.record(b, { x: s.x, weight: w.norm2.weight, bias: w.norm2.bias, y: s.xn, rows: N, n: Hv, eps: v.layerNormEps });
  recordLinear(b, k, w.fc1, s.xn, s.mlp, N, v.hiddenAct);
  recordLinear(b, k, w.fc2, s.mlp, s.x, N, 'none', true);
}

/** Merges m² consecutive patches of `x` into one token of `out` ([N/m², out]). */
export function recordMerger(b: ProgramBuilder, k: VisionKernels, v: VisionConfig, w: MergerWeights, x: GPUBuffer, s: VisionScratch, out: GPUBuffer): void {
  const group = v.spatialMergeSize ** 2;
  const tokens = s.N / group;
  const Hv = v.hiddenSize;
  // The norm sees one patch (Hv) or, post-shuffle, one group of m² patches (m²Hv): same buffer, other row width.
  const [rows, n] = w.postShuffleNorm ? [tokens, group * Hv] : [s.N, Hv];
  k.layerNorm.record(b, { x, weight: w.norm.weight, bias: w.norm.bias, y: s.xn, rows, n, eps: v.layerNormEps });
  recordLinear(b, k, w.fc1, s.xn, s.mlp, tokens, 'gelu_erf');
  recordLinear(b, k, w.fc2, s.mlp, out, tokens);
}
