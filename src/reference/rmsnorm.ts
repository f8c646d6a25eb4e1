// RMS norms. rows = independent vectors of n values; T = tokens, nv = value heads, dv = their dim.
import { silu } from './activations.ts';

/**
 * y = x / sqrt(mean(x²) + eps) * scale, per row of n values. Qwen3_5RMSNorm stores its weight
 * zero-centred (scale 1 + w: layer norms, final norm, q_norm, k_norm); the GDN output norm uses w.
 */
export function rmsNorm(x: Float32Array, weight: Float32Array, rows: number, n: number, eps: number, zeroCentred: boolean): Float32Array {
  const y = new Float32Array(rows * n);
  const offset = zeroCentred ? 1 : 0;
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += x[o + i] * x[o + i];
    const inv = 1 / Math.sqrt(sum / n + eps);
    for (let i = 0; i < n; i++) y[o + i] = x[o + i] * inv * (offset + weight[i]);
  }
  return y;
}

/**
 * The Gated DeltaNet output norm (Qwen3_5RMSNormGated): RMS over each value head's dv values,
 * times the plain weight (shared by all heads), then times silu(z). o, z: [T, nv, dv].
 */
export function gatedRmsNorm(o: Float32Array, z: Float32Array, weight: Float32Array, T: number, nv: number, dv: number, eps: number): Float32Array {
  const y = rmsNorm(o, weight, T * nv, dv, eps, false);
  for (let i = 0; i < y.length; i++) y[i] *= silu(z[i]);
  return y;
}
