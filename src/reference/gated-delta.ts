// The Gated DeltaNet delta rule and its inputs. T = tokens, nk/nv = key/value heads, dk/dv = their
// dims; value head h reads key head floor(h / (nv/nk)). State S per value head is [dk, dv], float32.
import { sigmoid, softplus } from './activations.ts';

/** x [T, heads, d] → x · rsqrt(Σx² + 1e-6) · scale per head (transformers' l2norm, eps inside the root). */
export function l2NormalizeHeads(x: Float32Array, T: number, heads: number, d: number, scale: number): Float32Array {
  const y = new Float32Array(T * heads * d);
  for (let r = 0; r < T * heads; r++) {
    const o = r * d;
    let sum = 0;
    for (let i = 0; i < d; i++) sum += x[o + i] * x[o + i];
    const inv = scale / Math.sqrt(sum + 1e-6);
    for (let i = 0; i < d; i++) y[o + i] = x[o + i] * inv;
  }
  return y;
}

/** β = sigmoid(b); g = −exp(A_log) · softplus(a + dt_bias), the per-token log-decay (≤ 0). a, b: [T, nv]. */
export function gdnGatesAndBeta(
  a: Float32Array, b: Float32Array, A_log: Float32Array, dt_bias: Float32Array, T: number, nv: number,
): { g: Float32Array; beta: Float32Array } {
  const g = new Float32Array(T * nv);
  const beta = new Float32Array(T * nv);
  for (let t = 0; t < T; t++) {
    for (let h = 0; h < nv; h++) {
      const i = t * nv + h;
      g[i] = -Math.exp(A_log[h]) * softplus(a[i] + dt_bias[h]);
      beta[i] = sigmoid(b[i]);
    }
  }
  return { g, beta };
}

function keyHeadOf(h: number, nk: number, nv: number): number {
  if (nv % nk !== 0) throw new Error(`delta rule: ${nv} value heads do not group over ${nk} key heads`);
  return Math.floor(h / (nv / nk));
}

/**
 * Token by token, per value head: S ← S·exp(g); δ = (v − Sᵀk)·β; S ← S + k ⊗ δ; o = Sᵀq.
 * q [T, nk, dk] (l2-normalised and scaled by dk^-½), k [T, nk, dk] (l2-normalised), v [T, nv, dv],
 * g and beta [T, nv], state [nv, dk, dv] updated in place. Returns o [T, nv, dv].
 */
export function gatedDeltaRuleRecurrent(
  q: Float32Array, k: Float32Array, v: Float32Array, g: Float32Array, beta: Float32Array, state: Float32Array,
  T: number, nk: number, nv: number, dk: number, dv: number,
): Float32Array {
  const out = new Float32Array(T * nv * dv);
  const delta = new Float64Array(dv);
  const acc = new Float64Array(dv);
  for (let h = 0; h < nv; h++) {
    const kh = keyHeadOf(h, nk, nv);
    const so = h * dk * dv;
    for (let t = 0; t < T; t++) {
      const ko = (t * nk + kh) * dk;
      const vo = (t * nv + h) * dv;
      const decay = Math.exp(g[t * nv + h]);
      const b = beta[t * nv + h];
      for (let i = 0; i < dk * dv; i++) state[so + i] *= decay;
      delta.fill(0);
      for (let i = 0; i < dk; i++) {
        const ki = k[ko + i];
        for (let j = 0; j < dv; j++) delta[j] += state[so + i * dv + j] * ki;
      }
      for (let j = 0; j < dv; j++) delta[j] = (v[vo + j] - delta[j]) * b;
      for (let i = 0; i < dk; i++) {
        const ki = k[ko + i];
        for (let j = 0; j < dv; j++) state[so + i * dv + j] += ki * delta[j];
      }
      acc.fill(0);
      for (let i = 0; i < dk; i++) {
        const qi = q[ko + i];
        for (let j = 0; j < dv; j++) acc[j] += qi * state[so + i * dv + j];
      }
      out.set(acc, vo);
    }
  }
  return out;
}

/**
 * The chunked (WY) form transformers uses for prefill, equal to the recurrence up to rounding.
 * Per value head and chunk of L ≤ chunkSize tokens, with G the cumulative log-decay inside the chunk
 * and Γ[i][j] = exp(G_i − G_j):
 *   A = strictly_lower((β_i k_i·k_j) Γ)        U = (I + A)⁻¹ (β v)      W = (I + A)⁻¹ (β k exp(G))
 *   V' = U − W S    o_i = exp(G_i) q_i·S + Σ_{j≤i} (q_i·k_j) Γ[i][j] V'_j
 *   S ← exp(G_L) S + Σ_j k_j exp(G_L − G_j) ⊗ V'_j
 * A last chunk shorter than chunkSize is exactly transformers' zero padding (padded rows add nothing).
 * Same arguments and layouts as gatedDeltaRuleRecurrent.
 */
export function gatedDeltaRuleChunked(
  q: Float32Array, k: Float32Array, v: Float32Array, g: Float32Array, beta: Float32Array, state: Float32Array,
  T: number, nk: number, nv: number, dk: number, dv: number, chunkSize: number,
): Float32Array {
  const out = new Float32Array(T * nv * dv);
  const C = chunkSize;
  const G = new Float64Array(C);
  const A = new Float64Array(C * C);  // [i, j] strictly lower: β_i (k_i·k_j) Γ[i][j]
  const P = new Float64Array(C * C);  // [i, j] lower incl. diagonal: (q_i·k_j) Γ[i][j]
  const U = new Float64Array(C * dv);
  const W = new Float64Array(C * dk);
  const Vp = new Float64Array(C * dv);
  const acc = new Float64Array(dv);
  for (let h = 0; h < nv; h++) {
    const kh = keyHeadOf(h, nk, nv);
    const so = h * dk * dv;
    const kRow = (t: number) => (t * nk + kh) * dk;
    const vRow = (t: number) => (t * nv + h) * dv;
    for (let c0 = 0; c0 < T; c0 += C) {
      const L = Math.min(C, T - c0);
      let cum = 0;
      for (let i = 0; i < L; i++) G[i] = cum += g[(c0 + i) * nv + h];
      for (let i = 0; i < L; i++) {
        const ki = kRow(c0 + i);
        for (let j = 0; j <= i; j++) {
          const kj = kRow(c0 + j);
          let kk = 0, qk = 0;
          for (let d = 0; d < dk; d++) {
            kk += k[ki + d] * k[kj + d];
            qk += q[ki + d] * k[kj + d];
          }
          const gamma = Math.exp(G[i] - G[j]);
          A[i * C + j] = j < i ? beta[(c0 + i) * nv + h] * kk * gamma : 0;
          P[i * C + j] = qk * gamma;
        }
      }
      // Forward substitution for U and W, then V' = U − W S.
      for (let i = 0; i < L; i++) {
        const b = beta[(c0 + i) * nv + h];
        const eG = Math.exp(G[i]);
        for (let d = 0; d < dv; d++) U[i * dv + d] = b * v[vRow(c0 + i) + d];
        for (let d = 0; d < dk; d++) W[i * dk + d] = b * k[kRow(c0 + i) + d] * eG;
        for (let j = 0; j < i; j++) {
          const a = A[i * C + j];
          for (let d = 0; d < dv; d++) U[i * dv + d] -= a * U[j * dv + d];
          for (let d = 0; d < dk; d++) W[i * dk + d] -= a * W[j * dk + d];
        }
        for (let d = 0; d < dv; d++) Vp[i * dv + d] = U[i * dv + d];
        for (let e = 0; e < dk; e++) {
          const w = W[i * dk + e];
          for (let d = 0; d < dv; d++) Vp[i * dv + d] -= w * state[so + e * dv + d];
        }
      }
      // Outputs read the state as it was at the chunk start.
      for (let i = 0; i < L; i++) {
        const qi = kRow(c0 + i);
        const eG = Math.exp(G[i]);
        acc.fill(0);
        for (let e = 0; e < dk; e++) {
          const qe = q[qi + e] * eG;
          for (let d = 0; d < dv; d++) acc[d] += qe * state[so + e * dv + d];
        }
        for (let j = 0; j <= i; j++) {
          const p = P[i * C + j];
          for (let d = 0; d < dv; d++) acc[d] += p * Vp[j * dv + d];
        }
        out.set(acc, vRow(c0 + i));
      }
      const gLast = G[L - 1];
      const decay = Math.exp(gLast);
      for (let i = 0; i < dk * dv; i++) state[so + i] *= decay;
      for (let j = 0; j < L; j++) {
        const kj = kRow(c0 + j);
        const w = Math.exp(gLast - G[j]);
        for (let e = 0; e < dk; e++) {
          const ke = k[kj + e] * w;
          for (let d = 0; d < dv; d++) state[so + e * dv + d] += ke * Vp[j * dv + d];
        }
      }
    }
  }
  return out;
}
