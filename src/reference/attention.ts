// Causal softmax attention with GQA, optionally gated (Qwen3.5). T = new tokens, S = cache rows,
// nq/nkv = query/kv heads, D = head dim.
import { sigmoid } from './activations.ts';

/**
 * Query t sits at absolute position startPos + t and attends to cache rows 0..startPos+t:
 * o = softmax(q·kᵀ · D^-½) v, q head h reading kv head floor(h / (nq/nkv)), then o *= sigmoid(gate)
 * unless gate is null (Qwen3 has no output gate). q, gate: [T, nq, D]; kCache, vCache: [S, nkv, D]
 * with S ≥ startPos + T. Returns [T, nq·D].
 */
export function gatedAttention(
  q: Float32Array, kCache: Float32Array, vCache: Float32Array, gate: Float32Array | null,
  T: number, S: number, startPos: number, nq: number, nkv: number, D: number,
): Float32Array {
  if (startPos + T > S) throw new Error(`attention: queries reach row ${startPos + T - 1} but the cache has ${S} rows`);
  if (nq % nkv !== 0) throw new Error(`attention: ${nq} query heads do not group over ${nkv} kv heads`);
  const group = nq / nkv;
  const scale = 1 / Math.sqrt(D);
  const out = new Float32Array(T * nq * D);
  const scores = new Float64Array(S);
  const acc = new Float64Array(D);
  for (let t = 0; t < T; t++) {
    const last = startPos + t;
    for (let h = 0; h < nq; h++) {
      const qo = (t * nq + h) * D;
      const kvHead = Math.floor(h / group);
      let max = -Infinity;
      for (let s = 0; s <= last; s++) {
        const ko = (s * nkv + kvHead) * D;
        let dot = 0;
        for (let i = 0; i < D; i++) dot += q[qo + i] * kCache[ko + i];
        scores[s] = dot * scale;
        if (scores[s] > max) max = scores[s];
      }
      let sum = 0;
      for (let s = 0; s <= last; s++) {
        scores[s] = Math.exp(scores[s] - max);
        sum += scores[s];
      }
      acc.fill(0);
      for (let s = 0; s <= last; s++) {
        const p = scores[s] / sum;
        const vo = (s * nkv + kvHead) * D;
        for (let i = 0; i < D; i++) acc[i] += p * vCache[vo + i];
      }
      for (let i = 0; i < D; i++) out[qo + i] = gate ? acc[i] * sigmoid(gate[qo + i]) : acc[i];
    }
  }
  return out;
}
