// Softmax attention mixer (a `full_attention` layer; gated in Qwen3.5) with its KV cache, composed
// from the reference ops. T = tokens, H = hidden, nq/nkv = query/kv heads, D = head dim.
import type { Qwen35Config } from '../loader/config.ts';
import { gatedAttention } from './attention.ts';
import { matmul } from './matmul.ts';
import { rmsNorm } from './rmsnorm.ts';
import { ropeInPlace } from './rope.ts';
import { takeWeight, type WeightSource } from './weights.ts';

export class ReferenceFullAttention {
  /** [capacity, nkv, D]; rows 0..position-1 hold k after k_norm and RoPE, v as projected. */
  private kCache = new Float32Array(0);
  private vCache = new Float32Array(0);
  private readonly qProj: Float32Array; // [nq·D·(1 + gate), H]: per head D query rows, then D gate rows with the output gate
  private readonly kProj: Float32Array; // [nkv·D, H]
  private readonly vProj: Float32Array; // [nkv·D, H]
  private readonly oProj: Float32Array; // [H, nq·D]
  private readonly qNorm: Float32Array; // [D], zero-centred in Qwen3.5
  private readonly kNorm: Float32Array; // [D], zero-centred in Qwen3.5

  constructor(private readonly c: Qwen35Config, weights: WeightSource, prefix: string) {
    const { hiddenSize: H, numAttentionHeads: nq, numKeyValueHeads: nkv, headDim: D } = c;
    const p = `${prefix}self_attn.`;
    this.qProj = takeWeight(weights, `${p}q_proj.weight`, nq * (c.attentionOutputGate ? 2 : 1) * D, H);
    this.kProj = takeWeight(weights, `${p}k_proj.weight`, nkv * D, H);
    this.vProj = takeWeight(weights, `${p}v_proj.weight`, nkv * D, H);
    this.oProj = takeWeight(weights, `${p}o_proj.weight`, H, nq * D);
    this.qNorm = takeWeight(weights, `${p}q_norm.weight`, D);
    this.kNorm = takeWeight(weights, `${p}k_norm.weight`, D);
  }

  /**
   * x: [T, H] after input_layernorm, for tokens at cache rows startPos..startPos+T-1 with rope
   * positions [3, T] → mixer output [T, H]. Writes those cache rows.
   */
  forward(x: Float32Array, T: number, startPos: number, positions: Int32Array): Float32Array {
    const { hiddenSize: H, numAttentionHeads: nq, numKeyValueHeads: nkv, headDim: D, rmsNormEps: eps, rope, zeroCentredNorms } = this.c;
    const qRows = this.c.attentionOutputGate ? 2 * D : D;
    const qg = matmul(x, this.qProj, T, nq * qRows, H);
    const q = new Float32Array(T * nq * D);
    const gate = this.c.attentionOutputGate ? new Float32Array(T * nq * D) : null;
    for (let r = 0; r < T * nq; r++) {
      q.set(qg.subarray(r * qRows, r * qRows + D), r * D);
      gate?.set(qg.subarray(r * qRows + D, (r + 1) * qRows), r * D);
    }
    const qn = rmsNorm(q, this.qNorm, T * nq, D, eps, zeroCentredNorms);
    const kn = rmsNorm(matmul(x, this.kProj, T, nkv * D, H), this.kNorm, T * nkv, D, eps, zeroCentredNorms);
    const v = matmul(x, this.vProj, T, nkv * D, H);
    ropeInPlace(qn, positions, T, nq, D, rope);
    ropeInPlace(kn, positions, T, nkv, D, rope);

    const rows = startPos + T;
    this.reserve(rows * nkv * D);
    this.kCache.set(kn, startPos * nkv * D);
    this.vCache.set(v, startPos * nkv * D);
    const o = gatedAttention(qn, this.kCache, this.vCache, gate, T, rows, startPos, nq, nkv, D);
    return matmul(o, this.oProj, T, H, nq * D);
  }

  /** Cache rows 0..rows-1: k [rows, nkv, D] and v [rows, nkv, D]. */
  cacheRows(rows: number): { k: Float32Array; v: Float32Array } {
    const n = rows * this.c.numKeyValueHeads * this.c.headDim;
    return { k: this.kCache.slice(0, n), v: this.vCache.slice(0, n) };
  }

  reset(): void {
    this.kCache = new Float32Array(0);
    this.vCache = new Float32Array(0);
  }

  /** Grows the caches geometrically so a decode loop copies them O(log n) times. */
  private reserve(values: number): void {
    if (values <= this.kCache.length) return;
    const size = Math.max(values, 2 * this.kCache.length);
    const k = new Float32Array(size);
    const v = new Float32Array(size);
    k.set(this.kCache);
    v.set(this.vCache);
    this.kCache = k;
    this.vCache = v;
  }
}
