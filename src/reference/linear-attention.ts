// Gated DeltaNet mixer (a `linear_attention` layer) composed from the reference ops.
// T = tokens, H = hidden, nk/nv = key/value heads, dk/dv = their dims, C = conv channels
// (2·nk·dk + nv·dv: q | k | v), K = conv taps.
import type { Qwen35Config } from '../loader/config.ts';
import { causalConv1dSilu } from './conv1d.ts';
import { gatedDeltaRuleChunked, gatedDeltaRuleRecurrent, gdnGatesAndBeta, l2NormalizeHeads } from './gated-delta.ts';
import { matmul } from './matmul.ts';
import { gatedRmsNorm } from './rmsnorm.ts';
import { takeWeight, type WeightSource } from './weights.ts';

/** transformers' prefill chunk; any size gives the same result up to rounding. */
export const PREFILL_CHUNK = 64;

export class ReferenceLinearAttention {
  readonly convState: Float32Array;      // [C, K-1], oldest first
  readonly recurrentState: Float32Array; // [nv, dk, dv]
  private readonly inProjQkv: Float32Array; // [C, H]
  private readonly inProjZ: Float32Array;   // [nv·dv, H]
  private readonly inProjB: Float32Array;   // [nv, H]
  private readonly inProjA: Float32Array;   // [nv, H]
  private readonly conv: Float32Array;      // [C, K] (checkpoint [C, 1, K])
  private readonly A_log: Float32Array;     // [nv]
  private readonly dtBias: Float32Array;    // [nv]
  private readonly norm: Float32Array;      // [dv]
  private readonly outProj: Float32Array;   // [H, nv·dv]

  constructor(private readonly c: Qwen35Config, weights: WeightSource, prefix: string) {
    const H = c.hiddenSize;
    const Kd = c.linearNumKeyHeads * c.linearKeyHeadDim;
    const Vd = c.linearNumValueHeads * c.linearValueHeadDim;
    const C = 2 * Kd + Vd;
    const K = c.linearConvKernelDim;
    const p = `${prefix}linear_attn.`;
    this.inProjQkv = takeWeight(weights, `${p}in_proj_qkv.weight`, C, H);
    this.inProjZ = takeWeight(weights, `${p}in_proj_z.weight`, Vd, H);
    this.inProjB = takeWeight(weights, `${p}in_proj_b.weight`, c.linearNumValueHeads, H);
    this.inProjA = takeWeight(weights, `${p}in_proj_a.weight`, c.linearNumValueHeads, H);
    this.conv = takeWeight(weights, `${p}conv1d.weight`, C, 1, K);
    this.A_log = takeWeight(weights, `${p}A_log`, c.linearNumValueHeads);
    this.dtBias = takeWeight(weights, `${p}dt_bias`, c.linearNumValueHeads);
    this.norm = takeWeight(weights, `${p}norm.weight`, c.linearValueHeadDim);
    this.outProj = takeWeight(weights, `${p}out_proj.weight`, H, Vd);
    this.convState = new Float32Array(C * (K - 1));
    this.recurrentState = new Float32Array(c.linearNumValueHeads * c.linearKeyHeadDim * c.linearValueHeadDim);
  }

  /** x: [T, H] after input_layernorm → mixer output [T, H]; advances conv and recurrent state. */
  forward(x: Float32Array, T: number): Float32Array {
    const { hiddenSize: H, linearNumKeyHeads: nk, linearNumValueHeads: nv, linearKeyHeadDim: dk, linearValueHeadDim: dv } = this.c;
    const Kd = nk * dk;
    const Vd = nv * dv;
    const C = 2 * Kd + Vd;
    const mixed = matmul(x, this.inProjQkv, T, C, H);
    const z = matmul(x, this.inProjZ, T, Vd, H);
    const b = matmul(x, this.inProjB, T, nv, H);
    const a = matmul(x, this.inProjA, T, nv, H);
    const conv = causalConv1dSilu(mixed, this.conv, this.convState, T, C, this.c.linearConvKernelDim);

    const q = new Float32Array(T * Kd);
    const k = new Float32Array(T * Kd);
    const v = new Float32Array(T * Vd);
    for (let t = 0; t < T; t++) {
      q.set(conv.subarray(t * C, t * C + Kd), t * Kd);
      k.set(conv.subarray(t * C + Kd, t * C + 2 * Kd), t * Kd);
      v.set(conv.subarray(t * C + 2 * Kd, (t + 1) * C), t * Vd);
    }
    const qn = l2NormalizeHeads(q, T, nk, dk, 1 / Math.sqrt(dk));
    const kn = l2NormalizeHeads(k, T, nk, dk, 1);
    const { g, beta } = gdnGatesAndBeta(a, b, this.A_log, this.dtBias, T, nv);
    // As in transformers: the chunked form for a prompt, the recurrence for single decode tokens.
    const o = T > 1
      ? gatedDeltaRuleChunked(qn, kn, v, g, beta, this.recurrentState, T, nk, nv, dk, dv, PREFILL_CHUNK)
      : gatedDeltaRuleRecurrent(qn, kn, v, g, beta, this.recurrentState, T, nk, nv, dk, dv);
    const normed = gatedRmsNorm(o, z, this.norm, T, nv, dv, this.c.rmsNormEps);
    return matmul(normed, this.outProj, T, H, Vd);
  }

  reset(): void {
    this.convState.fill(0);
    this.recurrentState.fill(0);
  }
}
